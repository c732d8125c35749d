"""What goes into the course image: the files the repository's ``.dockerignore`` leaves.

``jupyter-repo2docker`` builds the image from a build context: the repository's files less those
its ``.dockerignore`` (or ``.containerignore``) excludes, computed by docker-py's
``docker.utils.build.exclude_paths``. This module applies the same rules, so a lecturer can see
what the image will hold before building and pushing it, and tests/test_z2jh_image.py can check
that no secret and no virtualenv gets in:

    python hub/z2jh/build_context.py            # this repository: files, size, largest folders
    python hub/z2jh/build_context.py --compare  # and what it would be without .dockerignore

The rules, as docker-py implements them (after moby's): one pattern a line, ``#`` lines and blank
lines skipped; a pattern is split at ``/`` with empty and ``.`` parts dropped and ``..`` removing
the part before it; ``*`` is any run of characters but ``/``, ``?`` one such character, ``**`` any
number of folders (none included), ``[...]`` a class (``[!...]`` negated); there is no escape
character. A path is excluded when the last pattern that matches it, or matches its parent folder
cut to the pattern's number of parts, is not a ``!`` one. An excluded folder is not walked
unless a ``!`` pattern starts with its path. ``.dockerignore`` itself is always kept.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pattern:
    text: str          # the cleaned pattern, e.g. "hub/state" or "**/*.pem"
    parts: int         # how many path parts it has
    exclusion: bool    # a "!" line: re-includes what matches
    regex: re.Pattern

    def match(self, path: str) -> bool:
        return bool(self.regex.match(path))


def _translate(pattern: str) -> str:
    out, i, n = "^", 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":          # "**": any number of folders
                i += 1
                if i < n and pattern[i] == "/":      # "**/" is "**"
                    i += 1
                out += ".*" if i >= n else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out += "\\["
            else:
                body = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if body[0] == "!":
                    body = "^" + body[1:]
                elif body[0] == "^":
                    body = "\\" + body
                out += f"[{body}]"
        else:
            out += re.escape(ch)
    return out + "$"


def _pattern(line: str) -> Pattern | None:
    exclusion = line.startswith("!")
    if exclusion:
        line = line[1:]
    parts = [part for part in line.strip().split("/") if part and part != "."]
    i = 0
    while i < len(parts):                 # ".." removes the part before it
        if parts[i] == "..":
            del parts[i]
            if i > 0:
                del parts[i - 1]
                i -= 1
        else:
            i += 1
    if not parts:
        return None
    text = "/".join(parts)
    return Pattern(text, len(parts), exclusion, re.compile(_translate(text)))


def read_patterns(text: str) -> list[Pattern]:
    lines = [line.strip() for line in text.splitlines()]
    patterns = [_pattern(line) for line in lines if line and not line.startswith("#")]
    return [p for p in patterns if p] + [_pattern("!Dockerfile"), _pattern("!.dockerignore")]


def is_excluded(path: str, patterns: list[Pattern]) -> bool:
    """True when ``path`` (relative, with "/") matches the rules as excluded."""
    parents = [part for part in os.path.dirname(path).split("/") if part]
    matched = False
    for pattern in patterns:
        hit = pattern.match(path)
        if not hit and parents and pattern.parts <= len(parents):
            hit = pattern.match("/".join(parents[:pattern.parts]))
        if hit:
            matched = not pattern.exclusion
    return matched


def build_context(root: Path = REPO, ignore_file: str | None = ".dockerignore") -> dict[str, int]:
    """{relative path: size in bytes} of every file the build context holds."""
    root = Path(root)
    ignore = root / ignore_file if ignore_file else None
    patterns = read_patterns(ignore.read_text() if ignore and ignore.is_file() else "")
    files: dict[str, int] = {}

    def walk(rel: str) -> None:
        for name in sorted(os.listdir(root / rel if rel else root)):
            path = f"{rel}/{name}" if rel else name
            excluded = is_excluded(path, patterns)
            full = root / path
            if full.is_dir() and not full.is_symlink():
                # an excluded folder is walked only if a "!" pattern starts with its path
                if not excluded or any(p.exclusion and p.text.startswith(path) for p in patterns):
                    walk(path)
            elif not excluded:
                files[path] = full.lstat().st_size

    walk("")
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
