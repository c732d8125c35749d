"""The course in a student's folder: the first hand-out, and updates merged in on every later start.

The hub calls this on every start of a student's server (``hub/jupyterhub_config.py``). As root it runs
it in a child process *as the student* (``python -c <this file> ...`` with the student's uid and gid),
so every file it writes is the student's and no link a student planted can make it write elsewhere.

The rules (nbgitpuller's, https://nbgitpuller.readthedocs.io "Automatic merging behavior", for whole
files instead of git lines, since a notebook's JSON does not merge line by line). A manifest in the
student's home (``~/.lenet-handout.json``) records, for every file handed out, the hash of the version
handed out; a file is "unchanged by the student" when its hash is still that one.

  course file, student's copy ...        what happens                                  nbgitpuller case
  not in the student's folder, never     added                                          1
  handed out
  unchanged by the student               replaced by the new version                    1
  edited by the student                  kept; the new version put beside it as         3 (the student's
                                         ``NN_name.updated-YYYY-MM-DD.ipynb`` and the    changes win; we
                                         student told in ``UPDATES.md``                 also give the new)
  deleted by the student                 handed out again (a fresh copy: delete a       4
                                         lesson to start it over)
  a file of the student's own with the   kept; the course's put beside it, as for an    5 (nbgitpuller
  same name as a new course file         edited file                                    renames the student's)
  course file removed, student's copy    removed (it is exactly what was handed out)    git's merge
  unchanged
  course file removed, copy edited       kept                                           modify/delete (#269)

Solutions (``*.solutions.ipynb``) are never handed out here: the runtime keeps them where students
cannot read them, and ``hub/launch.py release-solutions NN`` puts a lesson's into ``~/notebooks/solutions/``
(``install_solutions``, run as root: root-owned, read-only).

Every write is atomic (a temporary file in the same folder, then ``os.replace``): a crash leaves the
old file or the new one, never half of one. The manifest is written last, so a crash before it means
the next start sees the new files as "edited" at worst and puts copies beside them; nothing is lost.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
import stat
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST = ".lenet-handout.json"
UPDATES = "UPDATES.md"
SOLUTIONS_SUFFIX = ".solutions.ipynb"
SKIP_PARTS = (".ipynb_checkpoints", "__pycache__")


@dataclass
class Outcome:
    """What one hand-out did, by file (paths relative to the student's notebooks folder)."""

    added: list[str] = field(default_factory=list)      # first hand-out or a new course file
    updated: list[str] = field(default_factory=list)    # unchanged by the student: replaced
    kept: dict[str, str] = field(default_factory=dict)  # edited by the student -> the new version beside it
    restored: list[str] = field(default_factory=list)   # deleted by the student: handed out again
    removed: list[str] = field(default_factory=list)    # gone from the course, unchanged by the student

    @property
    def news(self) -> bool:
        return bool(self.updated or self.kept or self.removed)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def course_files(course: Path) -> dict[str, Path]:
    """The files handed out: every file under ``course`` except solutions and caches, by relative path."""
    out = {}
    for p in sorted(course.rglob("*")):
        rel = p.relative_to(course)
        if p.is_file() and not p.is_symlink() and not p.name.endswith(SOLUTIONS_SUFFIX) \
                and not any(part in SKIP_PARTS for part in rel.parts):
            out[rel.as_posix()] = p
    return out


def _write_atomic(target: Path, data: bytes, mode: int = 0o644) -> None:
    """``data`` into ``target`` whole or not at all. A link or folder at ``target`` is never followed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.lenet-tmp-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)  # replaces a symlink itself, never what it points to
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _student_hash(path: Path) -> str | None:
    """The hash of the student's file, None when there is none (a link or a folder counts as theirs)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return "not-a-file"
    return sha256(path) if path.exists() else None


def beside_name(rel: str, day: str) -> str:
    """``03_training.ipynb`` -> ``03_training.updated-2026-12-07.ipynb`` (the new version, beside)."""
    p = Path(rel)
    suffix = "".join(p.suffixes[-1:])
    return (p.with_name(f"{p.name[:len(p.name) - len(suffix)]}.updated-{day}{suffix}")).as_posix()


def read_manifest(home: Path) -> dict:
    try:
        data = json.loads((home / MANIFEST).read_text())
        return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else {"files": {}}
    except (OSError, ValueError):
        return {"files": {}}


def merge(course: Path, home: Path, *, folder: str = "notebooks", day: str | None = None) -> Outcome:
    """Hand out ``course`` into ``home/folder`` (first start) or merge its changes in (later starts),
    by the rules in this module's docstring. Returns what was done."""
    day = day or _dt.date.today().isoformat()
    target = home / folder
    manifest = read_manifest(home)
    entries: dict[str, dict] = manifest["files"]
    out = Outcome()
    first = not target.exists()
    files = course_files(course)
    for rel, src in files.items():
        data = src.read_bytes()
        new = hashlib.sha256(data).hexdigest()
        dest = target / rel
        have = _student_hash(dest)
        entry = entries.get(rel)
        if have is None:
            _write_atomic(dest, data)
            (out.added if entry is None else out.restored).append(rel)
            entries[rel] = {"sha256": new}
        elif have == new:
            entries[rel] = {"sha256": new}
        elif entry is not None and have == entry.get("sha256"):
            _write_atomic(dest, data)
            out.updated.append(rel)
            entries[rel] = {"sha256": new}
        else:  # edited by the student (or a file of theirs with the course file's name)
            if entry is not None and new in (entry.get("sha256"), entry.get("offered")):
                continue  # the course did not change since, or this version was put beside already
            name = beside_name(rel, day)
            n = 1
            while (target / name).exists() or (target / name).is_symlink():
                if _student_hash(target / name) == new:
                    break
                n += 1
                name = beside_name(rel, f"{day}-{n}")
            else:
                _write_atomic(target / name, data)
            out.kept[rel] = name
            entries[rel] = {"sha256": (entry or {}).get("sha256", ""), "offered": new}
    for rel in sorted(set(entries) - set(files)):
        dest = target / rel
        have = _student_hash(dest)
        if have is not None and have == entries[rel].get("sha256"):
            dest.unlink()
            out.removed.append(rel)
        del entries[rel]
    if out.news:
        _tell(target, out, day)
    manifest["files"] = entries
    manifest["handed_out"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if first:
        manifest["first"] = manifest["handed_out"]
    _write_atomic(home / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode(), 0o600)
    return out


def _tell(target: Path, out: Outcome, day: str) -> None:
    """A dated entry at the top of ``UPDATES.md`` in the student's folder (the lab opens it)."""
    lines = [f"## Course updates, {day}", ""]
    lines += [f"- `{rel}` was updated (you had not changed it)." for rel in out.updated]
    lines += [f"- `{rel}` changed in the course, and you had edited it: your version is kept as it is; "
              f"the new version is beside it as `{name}`. Copy over what you need." for rel, name in out.kept.items()]
    lines += [f"- `{rel}` was removed from the course (you had not changed it)." for rel in out.removed]
    path = target / UPDATES
    old = path.read_bytes().decode(errors="replace") if path.is_file() and not path.is_symlink() else \
        "# Updates to your course files\n\nNewest first. Your own edits are never overwritten.\n\n"
    head, sep, rest = old.partition("\n## ")
    text = head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n" + (("\n## " + rest) if sep else "")
    _write_atomic(path, text.encode())


# ---- as the student, from the hub (root) ----------------------------------------------------------
def command(python: str, course: Path, home: Path) -> list[str]:
    """The command that runs ``merge`` in a fresh interpreter (``python`` must be one every account can
    run; this file's text travels on the command line, so the repository need not be readable)."""
    return [python, "-I", "-c", Path(__file__).read_text(), "--course", str(course), "--home", str(home)]


def result_from(stdout: bytes) -> Outcome:
    lines = stdout.decode(errors="replace").strip().splitlines()
    return Outcome(**json.loads(lines[-1])) if lines else Outcome()


# ---- released solutions (as root) -----------------------------------------------------------------
def released(state: Path) -> list[str]:
    """The lessons whose solutions the lecturer has released ("03", ...), from the hub's state."""
    try:
        data = json.loads((state / "released.json").read_text())
        return sorted(str(x) for x in data.get("lessons", []))
    except (OSError, ValueError, AttributeError):
        return []


def solution_files(solutions: Path, lessons: list[str]) -> list[Path]:
    return sorted(p for lesson in lessons for p in solutions.glob(f"{lesson}_*{SOLUTIONS_SUFFIX}") if p.is_file())


def install_solutions(notebooks: Path, files: list[Path]) -> list[str]:
    """Copy ``files`` into ``notebooks/solutions/``: a folder owned by the caller (root, on a hub with
    accounts), mode 0755, files mode 0444: the student reads and runs them, cannot change them.

    The folder is in the student's own folder, so it is checked before anything is written into it: a
    link, or anything not root's, is moved aside (the student's, renamed) and a fresh folder made.
    Writes go through the folder's descriptor, so no link in the path is followed."""
    if not files:
        return []
    if not notebooks.is_dir() or notebooks.is_symlink():
        return []
    folder = notebooks / "solutions"
    for _ in range(3):
        try:
            st = folder.lstat()
        except FileNotFoundError:
            try:
                os.mkdir(folder, 0o755)
            except FileExistsError:
                continue
            st = folder.lstat()
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            break
        aside = notebooks / f"solutions.yours-{_dt.datetime.now():%Y%m%d%H%M%S}"
        os.rename(folder, aside)
    else:
        raise RuntimeError(f"{folder}: could not make a root-owned folder there")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or not stat.S_ISDIR(st.st_mode):
            raise RuntimeError(f"{folder} changed while solutions were written into it")
        os.fchmod(fd, 0o755)
        done = []
        for src in files:
            data = src.read_bytes()
            tmp = f".{src.name}.tmp-{secrets.token_hex(4)}"
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444, dir_fd=fd)
            with os.fdopen(out, "wb") as f:
                f.write(data)
                os.fchmod(f.fileno(), 0o444)
            os.replace(tmp, src.name, src_dir_fd=fd, dst_dir_fd=fd)
            done.append(f"solutions/{src.name}")
        return done
    finally:
        os.close(fd)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Hand out (or update) the course in one student's home.")
    p.add_argument("--course", type=Path, required=True)
    p.add_argument("--home", type=Path, required=True)
    args = p.parse_args(argv)
    os.umask(0o022)
    out = merge(args.course, args.home)
    print(json.dumps(asdict(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
