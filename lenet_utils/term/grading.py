"""Collects submissions, grades them in the sandbox from the original tests, writes the gradebook and feedback.

Submissions sit in an inbound folder laid out as nbgrader's exchange lays it out: one folder per
submission, ``<student>+<assignment>+<timestamp>+<random>/`` holding the notebook and
``timestamp.txt``. Every submission is kept; the latest of each student counts.

A submission is graded by grade_id from the *source* assignment: only its answer cells are taken
from the student (found by their nbgrader grade_id, wherever they moved), every other cell, the test
cells above all, is the original. A missing answer cell scores 0 with a message; a file that is
not a notebook scores 0 with a message and stays where it was.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .assignments import CODE_STUB, nbgrader_meta, student_version
from .sandbox import DEFAULT_LIMITS, Limits, run_notebook

SUSPECT = "\x00suspicious:"
GRADEBOOK_FIELDS = ("student", "lesson", "exercise", "points", "max_points", "late", "submitted_at", "message")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"       # nbgrader's timestamp.txt

# Code in an answer that reaches for the grader rather than the exercise: graded 0 and left to the lecturer.
SUSPICIOUS = [
    (r"\bsys\s*\.\s*modules\b", "sys.modules"), (r"\bbuiltins\b|__builtins__", "the built-ins"),
    (r"__code__|__globals__|__closure__", "a function's internals"), (r"\bgc\s*\.", "the garbage collector"),
    (r"\bctypes\b", "ctypes"), (r"\bsubprocess\b", "subprocess"), (r"\bsignal\b", "signal"),
    (r"\bos\s*\.\s*(system|popen|fork|kill|killpg|_exit|write|dup2?|exec\w*|spawn\w*|set\w*id)\b", "os.{0}"),
    (r"\bsetattr\s*\(", "setattr"), (r"/proc/", "/proc"), (r"\b(threading|multiprocessing)\b", "{0}"),
    (r"\bexercises\s*\.\s*\w+\s*=|\bFeedback\s*\.\s*\w+\s*=|\bFeedback\s*=", "the checkers"),
]


class GradingError(ValueError):
    """A course folder, a source assignment or an option the grader cannot work with."""


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    submitted_at: datetime
    folder: Path


@dataclass(frozen=True)
class Row:
    student: str
    lesson: str
    exercise: str
    points: float
    max_points: float
    late: bool
    submitted_at: str
    message: str


# --- submissions -------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(timezone.utc)


def parse_timestamp(text: str) -> datetime:
    text = text.strip()
    try:
        when = datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def submit(inbound: Path, student: str, assignment: str, notebook: Path, when: datetime | None = None) -> Path:
    """Copy ``notebook`` into ``inbound`` as nbgrader's exchange does; earlier submissions stay. The folder
    appears whole (written beside, then renamed), so a grader running meanwhile never sees half of it."""
    for label, value in (("student", student), ("assignment", assignment)):
        if not NAME.match(value):
            raise GradingError(f"{label} {value!r}: use letters, digits, '.', '_', '-' or '@'")
    when = when or _now()
    stamp = when.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)
    inbound = Path(inbound)
    inbound.mkdir(parents=True, exist_ok=True)
    final = inbound / f"{student}+{assignment}+{stamp}+{secrets.token_hex(4)}"
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=inbound))
    shutil.copy2(notebook, staging / Path(notebook).name)
    (staging / "timestamp.txt").write_text(stamp)
    staging.chmod(0o755)
    staging.rename(final)
    return final


def find_submissions(inbound: Path) -> list[Submission]:
    """Every complete submission in ``inbound`` (oldest first); folders still being written are skipped."""
    found = []
    for folder in sorted(Path(inbound).iterdir()) if Path(inbound).is_dir() else []:
        parts = folder.name.split("+")
        if folder.name.startswith(".") or len(parts) != 4 or not (folder / "timestamp.txt").is_file():
            continue
        try:
            when = parse_timestamp((folder / "timestamp.txt").read_text())
        except ValueError:
            continue
        found.append(Submission(parts[0], parts[1], when, folder))
    return sorted(found, key=lambda s: (s.student, s.assignment, s.submitted_at))


def latest(submissions: list[Submission]) -> dict[tuple[str, str], Submission]:
    """The submission that counts for each (student, assignment): the latest."""
    chosen: dict[tuple[str, str], Submission] = {}
    for sub in submissions:
        key = (sub.student, sub.assignment)
        if key not in chosen or sub.submitted_at >= chosen[key].submitted_at:
            chosen[key] = sub
    return chosen


# --- one submission ----------------------------------------------------------------------------------
def _read_submission(folder: Path, name: str) -> tuple[dict | None, str]:
    import nbformat

    path = folder / name
    if not path.is_file():
        others = sorted(p.name for p in folder.iterdir() if p.name != "timestamp.txt")
        return None, f"no {name} in the submission (it holds {others or 'nothing'})"
    try:
        nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
        return json.loads(nbformat.writes(nb)), ""
    except Exception as err:
        return None, (f"{name} is not a Jupyter notebook ({type(err).__name__}: {str(err)[:120]}); "
                      f"the file is kept as submitted at {path}")


def suspicious(code: str) -> str | None:
    for pattern, label in SUSPICIOUS:
        match = re.search(pattern, code)
        if match:
            return label.format(*(match.groups() or ("",)))
    return None


def _answers(submitted: dict) -> dict[str, str]:
    """The submission's answer cells' code, by grade_id, wherever they are in the notebook."""
    answers: dict[str, str] = {}
    for cell in submitted.get("cells", []):
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            answers.setdefault(meta["grade_id"], "".join(src) if isinstance(src, list) else str(src))
    return answers


def plan(source: dict, submitted: dict[str, dict]) -> tuple[list[dict], dict[tuple[str, str], str]]:
    """The cells the sandbox runs (the original lesson and tests, each student's answers), and a note
    per (student, test): a missing answer cell, or code that reaches for the grader."""
    released = {nbgrader_meta(c).get("grade_id"): c for c in student_version(source)["cells"]}
    answers = {student: _answers(nb) for student, nb in submitted.items()}
    cells, notes, pending = [], {}, {student: [] for student in submitted}
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code":
            continue
        if meta.get("solution"):
            stub = released[meta["grade_id"]]["source"]
            stub = "".join(stub) if isinstance(stub, list) else stub
            given = {}
            for student in submitted:
                answer = answers[student].get(meta["grade_id"])
                if answer is None:
                    pending[student].append("your answer cell is missing (deleted, or its metadata edited): "
                                            "the lesson's empty cell was graded")
                elif suspicious(answer):
                    pending[student].append(f"{SUSPECT}{suspicious(answer)}")
                given[student] = stub if answer is None else answer
            cells.append({"kind": "answer", "grade_id": meta["grade_id"], "answers": given, "lesson_source": stub})
        elif meta.get("grade"):
            cells.append({"kind": "test", "grade_id": meta["grade_id"], "source": src})
            for student in submitted:
                notes[(student, meta["grade_id"])] = "; ".join(pending[student])
                pending[student] = []
        else:
            cells.append({"kind": "lesson", "source": src})
    return cells, notes


def grade_notebooks(source: dict, folders: dict[str, Path], name: str, workdir: Path, limits: Limits = DEFAULT_LIMITS,
                    env: dict[str, str] | None = None,
                    python: str | None = None) -> dict[str, list[tuple[str, float, float, str]]]:
    """``{student: [(exercise, points, max_points, message), ...]}`` for the notebook ``name`` each student
    submitted in ``folders[student]``: the lesson runs once, each answer in a fork of its own."""
    tests = [nbgrader_meta(c) for c in source["cells"] if nbgrader_meta(c).get("grade")]
    results: dict[str, list[tuple[str, float, float, str]]] = {}
    readable = {}
    for student, folder in folders.items():
        nb, problem = _read_submission(Path(folder), name)
        if nb is None:
            results[student] = [(m["grade_id"], 0.0, float(m["points"]), problem) for m in tests]
        else:
            readable[student] = nb
    if not readable:
        return results
    cells, notes = plan(source, readable)
    kwargs = {"python": python} if python else {}
    verdicts, run_note = run_notebook(cells, workdir, limits, env, **kwargs)
    for student in readable:
        rows = results[student] = []
        for meta in tests:
            gid, worth = meta["grade_id"], float(meta["points"])
            verdict, note = verdicts.get((student, gid)), notes.get((student, gid), "")
            if SUSPECT in note:
                what = note.split(SUSPECT, 1)[1].split(";")[0]
                rows.append((gid, 0.0, worth, f"the answer uses {what}, which can change how it is graded: not "
                                              "graded automatically, your lecturer will look at it"))
            elif verdict is None:
                rows.append((gid, 0.0, worth, run_note or "the test did not run"))
            else:
                rows.append((gid, worth if verdict.passed else 0.0, worth,
                             "; ".join(m for m in (note, verdict.message) if m)))
    return results


# --- a whole assignment ----------------------------------------------------------------------------------
def grade_assignment(source_path: Path, inbound: Path, work: Path, due: datetime | None = None,
                     limits: Limits = DEFAULT_LIMITS, env: dict[str, str] | None = None,
                     python: str | None = None) -> list[Row]:
    """Grade the latest submission of each student for the assignment of ``source_path``
    (``.../lessonNN/NN_name.ipynb``). ``work`` holds the sandboxes' folders."""
    source_path = Path(source_path)
    if not source_path.is_file():
        raise GradingError(f"{source_path}: no such source assignment; run `lenet assignments build` first")
    source = json.loads(source_path.read_text())
    assignment = source_path.parent.name
    subs = {student: sub for (student, name), sub in sorted(latest(find_submissions(inbound)).items())
            if name == assignment}
    workdir = Path(tempfile.mkdtemp(prefix=f"{assignment}-", dir=_workdir(work)))
    workdir.chmod(0o711)
    env = {"LENET_DATA_DIR": str(workdir / "data"), **{k: os.environ[k] for k in ("LENET_MNIST_DIR",)
                                                      if k in os.environ}, **(env or {})}
    try:
        graded = grade_notebooks(source, {st: sub.folder for st, sub in subs.items()}, source_path.name, workdir,
                                 limits, env, python)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = []
    for student, sub in subs.items():
        late = due is not None and sub.submitted_at > due
        stamp = sub.submitted_at.isoformat()
        for exercise, points, worth, message in graded[student]:
            if late:
                message = f"late: submitted {stamp}, due {due.isoformat()}" + (f"; {message}" if message else "")
            rows.append(Row(student, assignment, exercise, points, worth, late, stamp, message))
    return rows


def _workdir(work: Path) -> Path:
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o711)
    return work


def write_gradebook(rows: list[Row], path: Path) -> Path:
    """The gradebook CSV (student, lesson, exercise, points, max_points, late, submitted_at, message),
    written whole or not at all."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(GRADEBOOK_FIELDS)
    for r in rows:
        writer.writerow([r.student, r.lesson, r.exercise, f"{r.points:g}", f"{r.max_points:g}",
                         "yes" if r.late else "no", r.submitted_at, r.message])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(buffer.getvalue())
    tmp.replace(path)
    return path


def write_feedback(rows: list[Row], feedback_dir: Path, notebook_name: str) -> list[Path]:
    """One HTML page per student and assignment, where nbgrader puts feedback:
    ``feedback_dir/<student>/<assignment>/<notebook>.html``."""
    written = []
    by_student: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        by_student.setdefault((r.student, r.lesson), []).append(r)
    for (student, lesson), mine in sorted(by_student.items()):
        total, worth = sum(r.points for r in mine), sum(r.max_points for r in mine)
        lines = [f"<h2>{html.escape(lesson)}: {total:g} / {worth:g} points</h2>",
                 f"<p>Submitted {html.escape(mine[0].submitted_at)}{' (late)' if mine[0].late else ''}.</p>",
                 "<table><tr><th>exercise</th><th>points</th><th>feedback</th></tr>"]
        lines += [f"<tr><td>{html.escape(r.exercise)}</td><td>{r.points:g} / {r.max_points:g}</td>"
                  f"<td>{html.escape(r.message) or 'passed'}</td></tr>" for r in mine]
        lines.append("</table>")
        target = Path(feedback_dir) / student / lesson / (Path(notebook_name).stem + ".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("<!doctype html><meta charset='utf-8'><title>Feedback</title>\n" + "\n".join(lines) + "\n")
        written.append(target)
    return written


__all__ = ["CODE_STUB", "Row", "Submission", "GradingError", "submit", "find_submissions", "latest",
           "grade_notebooks", "grade_assignment", "write_gradebook", "write_feedback", "parse_timestamp"]
