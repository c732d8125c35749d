"""The term's assignments on the class hub, through nbgrader's exchange (hub/README.md: 'Run a term').

Students use nbgrader's own Assignments panel in JupyterLab (fetch, validate, submit); the lecturer
runs everything else as root on the hub's machine (``hub/launch.py``'s subcommands call this module):

    launch.py release-assignment 03 [--due 2026-12-14T23:59+01:00]   lesson 03 to every student
    launch.py submissions 03                                          who submitted, when, late or not
    launch.py grade 03 [--out grades.csv]                             sandboxed autograde, gradebook CSV
    launch.py return-feedback 03                                      each student's feedback, into their folder

Where things are:

  <exchange>/                 (/srv/nbgrader/exchange) root's, mode 1777: nbgrader's submit needs it
                              writable by every student; the sticky bit stops a student renaming or
                              removing what is not theirs (the course's folder above all)
  <exchange>/lenet/outbound/  root's, 0755: released assignments (student versions: no solutions, no
                              hidden tests), readable by all
  <exchange>/lenet/inbound/   root's, 3733 (nbgrader's 2733 plus the sticky bit): every student can
                              add a submission, nobody but root can list it, and nobody can remove or
                              rename another's submission
  <state>/nbgrader/           root's (in the hub's state, 0700): nbgrader's course folder (source with
                              solutions and hidden tests, release, gradebook.db) and the grades
  <state>/term.json           each assignment's due date

Grading never runs a student's code as root: lenet_utils.term's grader runs each submission in its
own process under an unprivileged account with time and memory limits, from the source's test cells.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COURSE_ID = "lenet"
EXCHANGE = Path(os.environ.get("LENET_HUB_EXCHANGE", "/srv/nbgrader/exchange"))
SOURCE = REPO / "assignments" / "source"


class TermError(ValueError):
    """A lesson, a date or a folder the term's commands cannot work with (one line for the lecturer)."""


# ---- the exchange ---------------------------------------------------------------------------------
def _folder(path: Path, mode: int) -> None:
    """``path`` a real folder (no link), root's, with exactly ``mode``."""
    if path.is_symlink():
        path.unlink()
    path.mkdir(exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise TermError(f"{path} is not a folder: remove it and start the hub again")
    if (st.st_uid, st.st_gid) != (0, 0):
        os.chown(path, 0, 0, follow_symlinks=False)
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def ensure_exchange(root: Path = EXCHANGE, course_id: str = COURSE_ID) -> Path:
    """nbgrader's exchange for the class, made (or put right) by the hub as root before any student
    starts. Returns the course's folder in it."""
    missing = [d for d in [*reversed(root.parents)] if not d.exists()]
    for d in missing:  # whatever the hub's umask (0077): every account must reach the exchange
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o755)
    _folder(root, 0o1777)
    course = root / course_id
    _folder(course, 0o755)
    _folder(course / "outbound", 0o755)
    _folder(course / "inbound", 0o3733)
    _folder(course / "feedback", 0o711)
    return course


# ---- assignments ----------------------------------------------------------------------------------
def assignment_for(lesson: str, source: Path = SOURCE) -> str:
    """"03" -> "lesson03" (the folder in assignments/source); one line naming the others otherwise."""
    name = f"lesson{lesson.strip()}"
    have = sorted(p.name for p in source.glob("lesson*") if p.is_dir()) if source.is_dir() else []
    if name not in have:
        raise TermError(f"no assignment for lesson {lesson!r} in {source}: there are "
                        f"{', '.join(h.removeprefix('lesson') for h in have) or 'none'} "
                        "(`lenet assignments build` makes them from the lessons)")
    return name


def course_dir(state: Path) -> Path:
    folder = state / "nbgrader"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def nbgrader(state: Path, *args: str, exchange: Path = EXCHANGE) -> subprocess.CompletedProcess:
    """nbgrader as root in the hub's course folder, on the hub's exchange."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course_dir(state)}",
           f"--CourseDirectory.course_id={COURSE_ID}", f"--Exchange.root={exchange}"]
    # nbgrader runs `alembic` from PATH when it makes its gradebook: this venv's first
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(cmd, cwd=course_dir(state), capture_output=True, text=True, env=env)


def parse_due(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TermError(f"--due {text!r} is not a date and time: write it as 2026-12-14T23:59+01:00") from None
    if when.tzinfo is None:
        when = when.astimezone()  # the hub machine's own time zone
    return when.astimezone(dt.timezone.utc)


def read_term(state: Path) -> dict:
    try:
        return json.loads((state / "term.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def due(state: Path, assignment: str) -> dt.datetime | None:
    text = read_term(state).get(assignment, {}).get("due")
    return dt.datetime.fromisoformat(text) if text else None


def release_assignment(state: Path, lesson: str, *, due_text: str | None = None, exchange: Path = EXCHANGE,
                       source: Path = SOURCE) -> str:
    """The student version of lesson ``lesson``'s assignment into the exchange (nbgrader
    generate_assignment, then release_assignment), and its due date into the hub's term.json.
    Releasing again replaces the released version (students who fetched keep theirs)."""
    name = assignment_for(lesson, source)
    when = parse_due(due_text) if due_text else None
    ensure_exchange(exchange)
    target = course_dir(state) / "source" / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source / name, target)
    config = source.parent / "nbgrader_config.py"  # the course's (the student version's code stub)
    if config.is_file():
        shutil.copyfile(config, course_dir(state) / "nbgrader_config.py")
    for step in (("generate_assignment", name, "--force"), ("release_assignment", name, "--force")):
        r = nbgrader(state, *step, exchange=exchange)
        if r.returncode:
            last = [ln for ln in (r.stderr + r.stdout).splitlines() if ln.strip()][-1:]
            raise TermError(f"nbgrader {step[0]} {name} failed: {last[0] if last else 'no message'}")
    term = read_term(state)
    entry = term.setdefault(name, {})
    entry["released"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if when:
        entry["due"] = when.isoformat()
    _write_json(state / "term.json", term)
    return name


# ---- submissions, grades, feedback ----------------------------------------------------------------
def _account_uid(name: str, prefix: str) -> int | None:
    import pwd

    if not name.startswith(prefix):
        return None
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def submissions(exchange: Path, assignment: str, prefix: str) -> tuple[list, list[str]]:
    """This assignment's submissions in the exchange's inbound (every one, oldest first), and what was
    set aside: nbgrader names a submission after ``$LOGNAME`` or ``--student``, which a student
    sets, so a submission counts only when the account it names made it (the folder's owner)."""
    from lenet_utils.term.grading import find_submissions

    kept, problems = [], []
    for sub in find_submissions(exchange / COURSE_ID / "inbound"):
        if sub.assignment != assignment:
            continue
        uid = _account_uid(sub.student, prefix)
        owner = sub.folder.lstat().st_uid
        if uid is None or owner != uid:
            problems.append(f"set aside {sub.folder.name}: it names {sub.student!r}, but was made by uid {owner}")
            continue
        kept.append(sub)
    return kept, problems


def submissions_table(state: Path, lesson: str, *, exchange: Path = EXCHANGE, prefix: str | None = None) -> list[str]:
    """Lines for the lecturer: every submission of the lesson, the one that counts marked, late or not."""
    from lenet_utils.term.grading import latest

    prefix = prefix if prefix is not None else _prefix(state)
    name = assignment_for(lesson)
    subs, problems = submissions(exchange, name, prefix)
    when_due = due(state, name)
    counts = {sub.folder for sub in latest(subs).values()}
    lines = [f"{name}: {len({s.student for s in subs})} student(s), {len(subs)} submission(s); "
             f"due {when_due.isoformat() if when_due else 'not set'}"]
    for sub in subs:
        late = when_due is not None and sub.submitted_at > when_due
        lines.append(f"  {sub.student:<32} {sub.submitted_at.isoformat()}  {'LATE' if late else 'on time'}"
                     f"{'  (counts)' if sub.folder in counts else ''}")
    return lines + [f"  {p}" for p in problems]


def _prefix(state: Path) -> str:
    return json.loads((state / "hub.json").read_text())["account_prefix"]


def grade(state: Path, lesson: str, *, exchange: Path = EXCHANGE, out: Path | None = None,
          prefix: str | None = None) -> tuple[Path, list]:
    """Autograde each student's latest submission (lenet_utils.term's sandboxed grader, from the
    source's own test cells), write the gradebook CSV and each student's feedback page. The
    submissions are copied first (root's, in the state): a student submitting meanwhile changes
    nothing in this run, and is graded, not lost, by the next one."""
    import tempfile

    from lenet_utils.term.grading import grade_assignment, write_feedback, write_gradebook

    prefix = prefix if prefix is not None else _prefix(state)
    name = assignment_for(lesson)
    source = sorted((course_dir(state) / "source" / name).glob("*.ipynb"))
    if not source:
        raise TermError(f"{name} was never released on this hub: run `launch.py release-assignment {lesson}` first")
    folder = state / "term" / name
    snapshot = folder / "inbound"
    shutil.rmtree(snapshot, ignore_errors=True)
    snapshot.mkdir(parents=True, mode=0o700)
    subs, problems = submissions(exchange, name, prefix)
    for sub in subs:
        shutil.copytree(sub.folder, snapshot / sub.folder.name, symlinks=True)
    for p in problems:
        print(p, file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="lenet-grade-"))
    try:
        rows = grade_assignment(source[0], snapshot, work, due=due(state, name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = write_gradebook(rows, out or folder / "gradebook.csv")
    shutil.rmtree(folder / "feedback", ignore_errors=True)
    write_feedback(rows, folder / "feedback", source[0].name)
    return path, rows


DELIVER = r"""
import os, sys
target, data = sys.argv[1], sys.stdin.buffer.read()
os.makedirs(os.path.dirname(target), exist_ok=True)
tmp = os.path.join(os.path.dirname(target), "." + os.path.basename(target) + ".lenet-tmp")
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
with os.fdopen(fd, "wb") as f:
    f.write(data)
os.replace(tmp, target)
"""


def return_feedback(state: Path, lesson: str, *, prefix: str | None = None, python: str | None = None) -> list[str]:
    """Each graded student's feedback page into ``~/notebooks/feedback/lessonNN/`` of their own
    account, written as that account (no link a student planted can send root's write elsewhere)
    by ``python`` (one every account can run: the runtime's)."""
    import pwd

    hub = json.loads((state / "hub.json").read_text())
    prefix = prefix if prefix is not None else hub["account_prefix"]
    python = python or str(Path(hub["runtime"]) / "venv" / "bin" / "python")
    name = assignment_for(lesson)
    folder = state / "term" / name / "feedback"
    if not folder.is_dir():
        raise TermError(f"no feedback for {name} yet: run `launch.py grade {lesson}` first")
    done = []
    for page in sorted(folder.glob(f"*/{name}/*.html")):
        student = page.parts[-3]
        if _account_uid(student, prefix) is None:
            continue
        account = pwd.getpwnam(student)
        target = Path(account.pw_dir) / "notebooks" / "feedback" / name / page.name
        r = subprocess.run([python, "-I", "-c", DELIVER, str(target)], input=page.read_bytes(),
                           user=account.pw_uid, group=account.pw_gid, extra_groups=[], cwd="/",
                           capture_output=True)
        if r.returncode:
            print(f"feedback for {student} not delivered: {r.stderr.decode(errors='replace').strip()[-200:]}",
                  file=sys.stderr)
            continue
        done.append(student)
    return done
