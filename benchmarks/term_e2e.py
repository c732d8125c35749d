"""A week of the term through a real hub, as people do it, timed: the lecturer releases lesson 03's
assignment; two students log in through the login page, fetch it through nbgrader's Assignments API
(the HTTP calls JupyterLab's Assignments panel makes), one answers every exercise right and one half,
both submit (the second after the due date moved: late); the lecturer lists the submissions,
autogrades them in the sandbox, and returns the feedback into each student's folder.

    .venv/bin/python benchmarks/term_e2e.py          # as root; writes benchmarks/results/term_e2e.json

``run_week`` is shared with tests/test_term_e2e.py, which asserts the outcomes (the gradebook's
points, late marks, feedback in each folder); this script only records how long each step took.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hub_load import Hub, Student, admit, start_hub, stop_hub

REPO = Path(__file__).resolve().parents[1]

LAUNCH = REPO / "hub" / "launch.py"
COURSE_ID = "lenet"
LESSON = "03"
ASSIGNMENT = f"lesson{LESSON}"
SOURCE = REPO / "assignments" / "source" / ASSIGNMENT
RESULT = REPO / "benchmarks" / "results" / "term_e2e.json"
WHICH = {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}
HALF = ("total_steps", "warmup_steps")   # the half-right student answers these; the rest stays unanswered


def lecturer(hub: Hub, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The lecturer's command on the hub's machine (as root): ``launch.py <args> --state <state>``."""
    return subprocess.run([sys.executable, str(LAUNCH), *args, "--state", str(hub.state)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def assignments_api(student: Student, method: str, path: str, **kw):
    """nbgrader's Assignments server extension, called as JupyterLab's panel calls it."""
    base = f"user/{student.name}/"
    xsrf = student.s.cookies.get("_xsrf", path=f"/{base}") or student.s.cookies.get("_xsrf") or ""
    headers = {"X-XSRFToken": xsrf, "Referer": student.hub.url + base + "lab"}
    return student.s.request(method, student.hub.url + base + path, headers=headers, timeout=600, **kw)


def answers(source: Path, exercises=None) -> dict[str, str]:
    """The right answer for each answer cell (by grade_id): the source's solution, markers removed."""
    nb = json.loads(source.read_text())
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        exercise = meta["grade_id"].removesuffix("_answer")
        if exercises is not None and exercise not in exercises:
            continue
        text = "".join(cell["source"])
        out[meta["grade_id"]] = re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", "", text, flags=re.M)
    return out


def expected_points(source: Path, exercises=None) -> tuple[float, float]:
    """(points the answered exercises are worth, the assignment's maximum), from the source's test cells."""
    nb = json.loads(source.read_text())
    tests = [c["metadata"]["nbgrader"] for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    worth = sum(t["points"] for t in tests if exercises is None or t["grade_id"] in exercises)
    return worth, sum(t["points"] for t in tests)


def fetch(student: Student) -> dict:
    r = assignments_api(student, "POST", "assignments/fetch", json=WHICH)
    r.raise_for_status()
    return r.json()


def answer(student: Student, right: dict[str, str]) -> None:
    """Open the fetched notebook, write the answers into their cells, save (as JupyterLab does)."""
    path = f"{ASSIGNMENT}/{sorted(SOURCE.glob('*.ipynb'))[0].name}"
    r = student.server_api("GET", f"contents/{path}")
    r.raise_for_status()
    nb = r.json()["content"]
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in right:
            cell["source"] = right[gid]
    saved = student.server_api("PUT", f"contents/{path}", json={"type": "notebook", "format": "json", "content": nb})
    saved.raise_for_status()


def submit(student: Student) -> dict:
    r = assignments_api(student, "POST", "assignments/submit", json=WHICH)
    r.raise_for_status()
    return r.json()


def run_week(hub: Hub) -> dict:
    """The whole week on ``hub``; returns timings, the lecturer's outputs and the gradebook's rows."""
    t: dict[str, float] = {}
    out: dict = {"timings_s": t}
    source = sorted(SOURCE.glob("*.ipynb"))[0]

    def step(name, f, *a, **k):
        t0 = time.monotonic()
        value = f(*a, **k)
        t[name] = round(time.monotonic() - t0, 2)
        return value

    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    r = step("release_assignment", lecturer, hub, "release-assignment", LESSON, "--due", future)
    assert r.returncode == 0, r.stderr
    out["release"] = r.stdout.strip()
    lect, (alice, bob) = step("log_in_two_students", admit, hub, ["alice", "bob"])
    out["lecturer_student"] = lect
    for st in (alice, bob):
        step(f"start_server_{st.name}", st.start_server)
    listed = assignments_api(alice, "GET", f"assignments?course_id={COURSE_ID}").json()
    out["listed_before_fetch"] = [(a["assignment_id"], a["status"]) for a in listed.get("value", [])]
    out["fetch"] = {st.name: step(f"fetch_{st.name}", fetch, st) for st in (alice, bob)}
    answer(alice, answers(source))
    answer(bob, answers(source, HALF))
    out["submit_alice"] = step("submit_alice", submit, alice)
    # the lecturer moves the due date to just after alice's submission: bob's comes after it
    soon = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=1)
    r = step("move_due_date", lecturer, hub, "release-assignment", LESSON, "--due", soon.isoformat())
    assert r.returncode == 0, r.stderr
    while dt.datetime.now(dt.timezone.utc) <= soon:
        time.sleep(0.2)
    out["submit_bob"] = step("submit_bob", submit, bob)
    r = step("list_submissions", lecturer, hub, "submissions", LESSON)
    assert r.returncode == 0, r.stderr
    out["submissions"] = r.stdout
    r = step("grade", lecturer, hub, "grade", LESSON)
    assert r.returncode == 0, r.stderr
    out["grade"] = r.stdout.strip()
    with open(hub.state / "term" / ASSIGNMENT / "gradebook.csv", newline="") as f:
        out["gradebook"] = list(csv.DictReader(f))
    r = step("return_feedback", lecturer, hub, "return-feedback", LESSON)
    assert r.returncode == 0, r.stderr
    out["feedback"] = r.stdout.strip()
    out["expected"] = {"alice": expected_points(source), "bob": expected_points(source, HALF)}
    out["students"] = {"alice": alice, "bob": bob}
    return out


STEPS = {  # the result's timings, in the docs' words
    "hub_start": "start the hub",
    "release_assignment": "`release-assignment 03` (nbgrader generate + release)",
    "log_in_two_students": "two students sign up, are approved, log in",
    "start_server_alice": "a student's server starts (first start: hand-out)",
    "fetch_alice": "a student fetches lesson03",
    "submit_alice": "a student submits",
    "move_due_date": "`release-assignment 03 --due ...` again (a deadline moved)",
    "list_submissions": "`submissions 03`",
    "grade": "`grade 03` (2 students, sandboxed)",
    "return_feedback": "`return-feedback 03`",
}


def timing_table(result: dict) -> str:
    """The docs' table of timings, from a result file (tests/test_term_docs.py checks the docs hold it)."""
    times = {"hub_start": result["hub_start_s"], **result["timings_s"]}
    rows = [f"| {label} | {times[key]:.1f} s |" for key, label in STEPS.items()]
    return "\n".join(["| step | seconds |", "|---|---|", *rows])


def provenance(result: dict) -> str:
    load = result["load_average_start"]
    return (f"{result['date'][:10]}, commit {result['commit']}, {result['cores']} cores, "
            f"load average {load[0]:.1f} at the start")


def git_commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + ("+changes" if dirty else "")


def exchange_for_a_run() -> Path:
    """An exchange of this run's own, in a folder every account can reach (not a private /tmp)."""
    return Path(f"/srv/lenet-term-{secrets.token_hex(3)}") / "exchange"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if os.geteuid() != 0:
        print("error: the term runs on a hub with an account per student: run as root", file=sys.stderr)
        return 2
    load_start = [round(x, 2) for x in os.getloadavg()]
    exchange = exchange_for_a_run()
    state = Path(tempfile.mkdtemp(prefix="lenet-term-")) / "state"
    t0 = time.monotonic()
    hub = start_hub(state, env={"LENET_HUB_EXCHANGE": str(exchange)})
    hub_start = round(time.monotonic() - t0, 2)
    try:
        week = run_week(hub)
    finally:
        stop_hub(hub, everything=True)
        shutil.rmtree(exchange.parent, ignore_errors=True)
        shutil.rmtree(state.parent, ignore_errors=True)
    totals = {}
    for row in week["gradebook"]:
        s = totals.setdefault(row["student"].split("-", 1)[-1], {"points": 0.0, "max_points": 0.0, "late": row["late"]})
        s["points"] += float(row["points"])
        s["max_points"] += float(row["max_points"])
    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": git_commit(),
              "load_average_start": load_start, "load_average_end": [round(x, 2) for x in os.getloadavg()],
              "cores": os.cpu_count(), "hub_start_s": hub_start, "timings_s": week["timings_s"],
              "gradebook_totals": totals}
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    for k, v in {"hub_start": hub_start, **week["timings_s"]}.items():
        print(f"{k:<24} {v:7.2f} s")
    print(f"gradebook: {totals}; load {load_start} -> {result['load_average_end']}; wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
