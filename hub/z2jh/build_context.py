"""What goes into the course image: the files the repository's ``.dockerignore`` leaves.

``jupyter-repo2docker`` builds the image from a build context, the repository's files less those
its ``.dockerignore`` excludes (repo2docker reads the file as ``docker build`` does, through
docker-py). This module applies the same rules, so a lecturer can see what the image will hold
before building and pushing it, and tests/test_z2jh_image.py can check that no secret and no
virtualenv gets in:

    python hub/z2jh/build_context.py            # this repository: files, size, largest folders
    python hub/z2jh/build_context.py --compare  # and what it would be without .dockerignore

The rules (Docker's, from moby's patternmatcher, "MatchesOrParentMatches"): one pattern a line;
``#`` starts a comment; a pattern is cleaned like a path and a leading ``/`` dropped; ``*`` is any
run of characters but ``/``, ``?`` one such character, ``**`` any number of folders (none
included), ``[...]`` a class, ``\\`` escapes; a pattern that matches a folder excludes all inside
it; ``!`` re-includes; the last pattern that matches a path decides.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pattern:
    text: str          # the cleaned pattern, e.g. "hub/state" or "**/*.pem"
    exclusion: bool    # a "!" line: re-includes what matches
    regex: re.Pattern


def _compile(pattern: str) -> re.Pattern:
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):      # "**/" is "**": the slash is optional
                i += 1
            out += ".*" if i == len(pattern) else "(.*/)?"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f"bad .dockerignore pattern {pattern!r}: '[' without ']'")
            body = pattern[i + 1:end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


def read_patterns(text: str) -> list[Pattern]:
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/")
        if line in (".", ""):
            continue
        patterns.append(Pattern(line, exclusion, _compile(line)))
    return patterns


def is_excluded(path: str, patterns: list[Pattern]) -> bool:
    """True when ``path`` (relative, with "/") stays out of the build context."""
    parent = posixpath.dirname(path)
    parents = parent.split("/") if parent else []
    matched = False
    for pattern in patterns:
        if pattern.exclusion != matched:   # only a "!" can undo a match, only a pattern can make one
            continue
        hit = bool(pattern.regex.match(path)) or any(
            pattern.regex.match("/".join(parents[:i + 1])) for i in range(len(parents)))
        if hit:
            matched = not pattern.exclusion
    return matched


def build_context(root: Path = REPO, ignore_file: str | None = ".dockerignore") -> dict[str, int]:
    """{relative path: size in bytes} of every file the build context holds."""
    root = Path(root)
    ignore = root / ignore_file if ignore_file else None
    patterns = read_patterns(ignore.read_text()) if ignore and ignore.is_file() else []
    literal_reincludes = all(not any(c in p.text for c in "*?[\\") for p in patterns if p.exclusion)
    files: dict[str, int] = {}
    for folder, dirs, names in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        rel = "" if rel == "." else rel + "/"
        keep = []
        for d in dirs:
            path = rel + d
            # a folder left out is not walked, unless a "!" line could bring something inside back
            reincluded = any(p.exclusion and (p.text + "/").startswith(path + "/") for p in patterns)
            if is_excluded(path, patterns) and literal_reincludes and not reincluded:
                continue
            keep.append(d)
        dirs[:] = keep
        for name in names:
            path = rel + name
            if not is_excluded(path, patterns):
                files[path] = os.lstat(os.path.join(folder, name)).st_size
    return files


def describe(files: dict[str, int], top: int = 8) -> str:
    by_folder: dict[str, int] = {}
    for path, size in files.items():
        head = path.split("/", 1)[0] if "/" in path else "."
        by_folder[head] = by_folder.get(head, 0) + size
    largest = sorted(by_folder.items(), key=lambda kv: -kv[1])[:top]
    return (f"{len(files)} files, {sum(files.values()) / 1e6:.1f} MB; largest: "
            + ", ".join(f"{name}/ {size / 1e6:.1f} MB" for name, size in largest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=str(REPO), help="the repository (default: this one)")
    parser.add_argument("--compare", action="store_true", help="also count the context without .dockerignore")
    parser.add_argument("--ignore-file", default=".dockerignore",
                        help="the ignore rules to apply (default: the root's .dockerignore)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        parser.error(f"{root} is not a folder: give the repository's root")
    if not (root / args.ignore_file).is_file():
        parser.error(f"no {root / args.ignore_file}: without it the image gets every file, .venv and .git included")
    print("with .dockerignore:   ", describe(build_context(root, args.ignore_file)))
    if args.compare:
        print("without .dockerignore:", describe(build_context(root, ignore_file=None)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
