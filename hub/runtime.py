"""The students' runtime for the class hub: what every student account runs, and nobody but root can change.

    .venv/bin/python hub/runtime.py                  # build or refresh /opt/lenet-hub (make hub-runtime)
    .venv/bin/python hub/runtime.py --check          # exit 1 (one line) when it is missing or out of date

On a hub that runs as root, each student is a system account (``jupyter-<name>``). Such an account
cannot use the project's ``.venv``: its Python usually lives under ``/root`` (mode 0700), and its
``lenet_utils`` is an editable install of the repository, which root may change under a running
class. So the hub runs every student's server from a runtime of its own:

  <runtime>/venv/           a venv made from a Python every account can execute (``/usr/bin/python3.11``
                            by default), with JupyterHub's single-user server, JupyterLab and
                            ``lenet_utils`` installed from the root-owned copy in <runtime>/course
  <runtime>/data/MNIST/     the prepared MNIST, copied once; every kernel memory-maps it
  <runtime>/course/         a root-owned copy of the package and the notebooks handed out to each
                            student (hub/handout.py; the package finds its example digits there),
                            WITHOUT the solutions
  <runtime>/solutions/      the lessons' solutions (``NN_name.solutions.ipynb``), root's alone (folder
                            0700, files 0600) until the lecturer releases a lesson's
                            (``hub/launch.py release-solutions NN``), which copies them into students' folders
  <runtime>/kernel_note.py  the out-of-memory note (hub/kernel_note.py)
  <runtime>/gallery_service.py  the class gallery service the hub runs as its own account (hub/class_db.py)

Everything is owned by root, directories 0755 and files 0644 (0755 when executable): readable and
runnable by every student, writable by none; except ``solutions/``, which no student can enter.
A stamp (``<runtime>/stamp.json``) records what it was built from (its layout, hashes of
pyproject.toml + constraints.txt, of the package's files, of the notebooks, of the note and of
MNIST), so a second run with nothing changed takes well under a second, a change to the package
reinstalls only the package, and a change to the pins rebuilds the venv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT = Path(os.environ.get("LENET_HUB_RUNTIME", "/opt/lenet-hub"))
PYTHONS = ("/usr/bin/python3.11", "/usr/bin/python3")
# What a student's server needs beyond the package's own dependencies.
SERVER_PACKAGES = ("jupyterhub", "jupyterlab", "ipykernel", "nbgrader")
# nbgrader in every student's server: the Assignments panel (fetch, submit, validate) on the hub's
# exchange. The lecturer's side (release, grading, feedback) runs as root from hub/launch.py
# (hub/term.py), so the Formgrader and "create assignment" are switched off for everyone.
NBGRADER_CONFIG = """\
# The class hub's nbgrader settings for every student's server (written by hub/runtime.py).
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "lenet"
c.Exchange.root = os.environ.get("LENET_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
# Fetched assignments go into the folder the student's lab shows (the hub's notebook_dir), not the
# server's working folder (nbgrader's default "." is relative to that, the home).
c.Exchange.assignment_dir = os.path.join(os.path.expanduser("~"), "notebooks")
"""
NBGRADER_SERVER = {"ServerApp": {"jpserver_extensions": {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.course_list": False}}}
NBGRADER_LAB_OFF = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                    "@jupyter/nbgrader:course-list")
# Pins of constraints.txt left to pip for the runtime, with why: Debian 12's Python is 3.11.2.
# What the runtime holds where: a runtime of an older layout (the solutions inside course/notebooks,
# readable by every student) is out of date even when the course did not change.
LAYOUT = 2
SOLUTIONS_SUFFIX = ".solutions.ipynb"
UNPINNED = {"soupsieve": "4.x needs Python >= 3.11.5 (beautifulsoup4, via nbconvert); pip takes the newest that fits"}


def fail(message: str):
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _digest(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _files(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and ".ipynb_checkpoints" not in p.parts and (suffixes is None or p.suffix in suffixes)]


def world_executable(python: str) -> bool:
    """True when every account can run ``python``: the file and every folder above it (symlinks
    resolved) are executable by 'other'."""
    p = Path(os.path.realpath(python))
    try:
        if not p.stat().st_mode & stat.S_IXOTH:
            return False
        return all(d.stat().st_mode & stat.S_IXOTH for d in p.parents)
    except OSError:
        return False


def pick_python(wanted: str | None) -> str:
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    for cand in ([wanted] if wanted else PYTHONS):
        if not cand or not Path(cand).is_file():
            continue
        if not world_executable(cand):
            if wanted:
                fail(f"{cand} cannot be run by the students' accounts (a folder above it is not "
                     "world-executable): pick another with --python")
            continue
        probe = "import sys, venv, ensurepip; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"
        r = subprocess.run([cand, "-c", probe], capture_output=True, text=True)
        if r.returncode == 0 and (wanted or r.stdout.strip() == minor):
            return cand
    fail(f"no Python {minor} with venv that every account can run (tried {', '.join(PYTHONS)}): "
         "install one (apt-get install python3-venv) or pass --python /path/to/python3")


def wanted_stamp(mnist: Path) -> dict:
    return {
        "layout": LAYOUT,
        # what the venv is installed from: the pins and the server's packages (adding one rebuilds the venv)
        "pins": _digest([REPO / "pyproject.toml", REPO / "constraints.txt"], REPO) + "+" + ",".join(SERVER_PACKAGES),
        "package": _digest(_files(REPO / "lenet_utils"), REPO),
        "course": _digest(_files(REPO / "notebooks", (".ipynb", ".py", ".cfg", ".png", ".md"))
                          + _files(REPO / "data" / "examples") + _files(REPO / "data" / "variants"), REPO),
        "note": _digest([HERE / "kernel_note.py", HERE / "gallery_service.py"], HERE),
        "nbgrader": hashlib.sha256((NBGRADER_CONFIG + json.dumps(NBGRADER_SERVER)
                                    + json.dumps(NBGRADER_LAB_OFF)).encode()).hexdigest()[:16],
        "mnist": _digest(sorted((mnist / "raw").glob("*")), mnist) if (mnist / "raw").is_dir() else "",
    }


def read_stamp(runtime: Path) -> dict:
    try:
        return json.loads((runtime / "stamp.json").read_text())
    except (OSError, ValueError):
        return {}


def lock_down(root: Path) -> None:
    """root:root, no write bit for group or other, anywhere under ``root``; ``root/solutions`` is left
    out (lock_solutions keeps it root's alone: it is never readable by others, not even for a moment)."""
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and "solutions" in dirnames:
            dirnames.remove("solutions")
        for name in [*dirnames, *filenames, None]:
            p = Path(dirpath) if name is None else Path(dirpath) / name
            if p.is_symlink():
                continue
            st = p.lstat()
            if st.st_uid != 0 or st.st_gid != 0:
                os.chown(p, 0, 0)
            mode = stat.S_IMODE(st.st_mode)
            new = (mode | 0o444 | (0o111 if (stat.S_ISDIR(st.st_mode) or mode & 0o100) else 0)) & ~0o022
            if new != mode:
                os.chmod(p, new)


def _pip(venv: Path, *args: str) -> None:
    pins = venv / "constraints.txt"   # the project's pins, less UNPINNED
    pins.write_text("".join(line for line in (REPO / "constraints.txt").read_text().splitlines(keepends=True)
                            if line.split("==")[0].strip().lower() not in UNPINNED))
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-c", str(pins), *args]
    r = subprocess.run(cmd, cwd=REPO)
    if r.returncode:
        fail(f"pip could not install the students' runtime ({' '.join(args)}): see pip's message above")


def _swap(new: Path, current: Path) -> None:
    """``new`` takes ``current``'s place (the old one removed after)."""
    old = current.with_name(current.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        current.rename(old)
    new.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def snapshot(course: Path, solutions: Path | None = None) -> None:
    """Copy the course (package, notebooks, example digits, variants table) into ``course``, whole:
    a half-made copy from a crash is never what students run. The notebooks' solutions go to
    ``solutions`` (default: ``solutions/`` beside ``course``), a folder only root can enter, made so
    before the first solution is written into it: no student can read one, not even mid-copy."""
    solutions = solutions or course.with_name("solutions")
    tmp = course.with_name(course.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.egg-info", "*" + SOLUTIONS_SUFFIX)
    tmp.mkdir()
    shutil.copy2(REPO / "pyproject.toml", tmp / "pyproject.toml")
    for part in ("lenet_utils", "notebooks", "data/examples", "data/variants"):
        shutil.copytree(REPO / part, tmp / part, ignore=skip)
    sol_tmp = solutions.with_name(solutions.name + ".new")
    shutil.rmtree(sol_tmp, ignore_errors=True)
    os.mkdir(sol_tmp, 0o700)
    os.chmod(sol_tmp, 0o700)  # whatever the umask
    for f in sorted((REPO / "notebooks").glob("*" + SOLUTIONS_SUFFIX)):
        fd = os.open(sol_tmp / f.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(f.read_bytes())
    _swap(sol_tmp, solutions)
    _swap(tmp, course)


def lock_solutions(solutions: Path) -> None:
    """root:root, folder 0700, files 0600 (lock_down made them readable; this closes them again)."""
    if not solutions.is_dir():
        return
    os.chown(solutions, 0, 0)
    os.chmod(solutions, 0o700)
    for f in solutions.iterdir():
        os.chown(f, 0, 0, follow_symlinks=False)
        if not f.is_symlink():
            os.chmod(f, 0o600)


def write_nbgrader_config(venv: Path) -> None:
    """nbgrader's settings in the venv's own Jupyter config (read by every student's server): the
    course id, the exchange, the Assignments panel on, the lecturer's tools off."""
    etc = venv / "etc" / "jupyter"
    (etc / "jupyter_server_config.d").mkdir(parents=True, exist_ok=True)
    (etc / "labconfig").mkdir(parents=True, exist_ok=True)
    (etc / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    (etc / "jupyter_server_config.d" / "nbgrader.json").write_text(json.dumps(NBGRADER_SERVER, indent=2))
    page = etc / "labconfig" / "page_config.json"
    try:
        config = json.loads(page.read_text())
    except (OSError, ValueError):
        config = {}
    config.setdefault("disabledExtensions", {}).update({name: True for name in NBGRADER_LAB_OFF})
    page.write_text(json.dumps(config, indent=2))


def build(runtime: Path, python: str | None = None, *, quiet: bool = False) -> dict:
    """Build or refresh ``runtime``; returns what was done and how long it took."""
    if os.geteuid() != 0:
        fail("the students' runtime is built by root (it must be root-owned so no student can change it); "
             "a hub without root runs students from .venv instead (hub/README.md: 'Without root')")
    t0 = time.monotonic()
    from lenet_utils.mnist_files import MNISTUnavailable, prepare_mnist

    data = runtime / "data"
    try:
        prepare_mnist(data, download=not os.environ.get("LENET_MNIST_DIR"))
    except MNISTUnavailable as err:
        fail(f"MNIST is not available for the students' runtime: {err}")
    want, have = wanted_stamp(data / "MNIST"), read_stamp(runtime)
    venv = runtime / "venv"
    done = []
    if have.get("pins") != want["pins"] or not (venv / "bin" / "jupyterhub-singleuser").is_file():
        py = pick_python(python)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([py, "-m", "venv", str(venv)], check=True)
        _pip(venv, "--upgrade", "pip")             # Debian's bundled pip 23.0 resolves these pins badly
        _pip(venv, *SERVER_PACKAGES, str(REPO))   # the package's dependencies, pinned
        done.append("venv")
    if have.get("package") != want["package"] or have.get("course") != want["course"] \
            or have.get("layout") != want["layout"] or done:
        snapshot(runtime / "course")
        # The package from the snapshot, which root owns and nobody edits: its metadata in the venv,
        # its code in <runtime>/course, so lenet_utils.paths.repo_root() finds the course there.
        _pip(venv, "--no-deps", "--no-build-isolation", "--editable", str(runtime / "course"))
        done.append("course")
    if have.get("nbgrader") != want["nbgrader"] or "venv" in done:
        write_nbgrader_config(venv)
        done.append("nbgrader")
    if have.get("note") != want["note"]:
        shutil.copyfile(HERE / "kernel_note.py", runtime / "kernel_note.py")
        shutil.copyfile(HERE / "gallery_service.py", runtime / "gallery_service.py")  # run as lenet-gallery
        done.append("note")
    if done or have.get("mnist") != want["mnist"]:
        lock_down(runtime)
        lock_solutions(runtime / "solutions")
        (runtime / "stamp.json").write_text(json.dumps(want, indent=1))
        lock_down(runtime)
    lock_solutions(runtime / "solutions")
    # MNIST's own record holds each file's ctime, which lock_down's chmod/chown changes: refresh it as
    # root now, or every student's first kernel would try (and fail) to write it.
    prepare_mnist(data, download=False)
    lock_down(data)
    seconds = time.monotonic() - t0
    if not quiet:
        print(f"students' runtime {runtime}: {'rebuilt ' + ', '.join(done) if done else 'up to date'} "
              f"({seconds:.1f} s)")
    return {"done": done, "seconds": seconds}


def check(runtime: Path) -> str | None:
    """None when ``runtime`` is built and matches this repository; else what is wrong, in one line."""
    have = read_stamp(runtime)
    if not have:
        return f"the students' runtime {runtime} is not built: run `make hub-runtime`"
    want = wanted_stamp(runtime / "data" / "MNIST")
    stale = [k for k in ("layout", "pins", "package", "course", "note", "nbgrader") if have.get(k) != want[k]]
    if stale:
        return f"the students' runtime {runtime} is out of date ({', '.join(stale)}): run `make hub-runtime`"
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Build the class hub's students' runtime (root-owned, read-only).")
    p.add_argument("--runtime", type=Path, default=DEFAULT, help=f"where (default {DEFAULT})")
    p.add_argument("--python", default=None, help="the Python the venv is made from (every account must run it)")
    p.add_argument("--check", action="store_true", help="only say whether it is built and up to date")
    args = p.parse_args(argv)
    if args.check:
        problem = check(args.runtime)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        print(f"students' runtime {args.runtime}: up to date")
        return 0
    build(args.runtime, args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
