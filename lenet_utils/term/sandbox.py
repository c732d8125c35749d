"""Runs a lesson's cells once in a locked-down child process, each student's answer in a fork of its own.

``run_notebook`` starts ``python -m lenet_utils.term.sandbox`` in a new session, with a memory
limit (RLIMIT_AS), no network (a network namespace of its own, when root) and a wall-time limit for
the whole notebook. That runner executes the lesson's own cells (trusted: they come from the source
assignment, never from the submission). At each exercise it forks: the fork drops to an unprivileged
account (``nobody`` when the grader is root) and runs the student's answer cell. The runner waits at
most ``cell_seconds`` per cell, kills a fork that runs over ("timed out after N s") and goes on with
the next exercise from the lesson's own state, so an answer can change nothing but its own result.

**The verdict is the runner's, never the fork's.** Each check is split in two (``replay.probe`` /
``replay.judge``): once the answer has run, the runner sends the fork the checks of the exercise's test
cell, the hidden test with a variant (other inputs) drawn only then, at random. The fork's probe runs
the checker on the answer and sends back only what the answer produced, as JSON data (its value, or
what each call returned). The runner reads at most ``MAX_REPLY_BYTES`` of JSON (never pickle), and its
judge runs the same checker on a stand-in built from that data: a call the probe did not record, or
data that is not what a probe sends, is "your answer could not be checked", 0 points. An answer that
writes a "passed" into the fork's pipes, patches the checkers or exits can at most claim what an answer
returned; to pass the hidden test that claim must be the right results for inputs it could not know.

What still holds by the nature of the check, not of the sandbox: an exercise checked on published
inputs only (a value to give; the functions of lessons 05 and 07 without a hidden variant) can be
passed by claiming the right outputs for those inputs, as a hard-coded answer could.

Before the probe the fork checks that the answer left the grader alone: the checkers, Feedback, the
built-ins and the modules they use must be the very objects the runner imported (an answer that
swapped one scores 0, "your lecturer will look"; this only lowers a score, so the fork may report it).
"""

from __future__ import annotations

import ast
import json
import os
import pwd
import resource
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GUARDED_MODULES = ("builtins", "math", "numpy", "torch", "torch.nn.functional", "lenet_utils.training",
                   "lenet_utils.by_hand", "lenet_utils.model")
# An answer runs as an account that may not read the Python installation (e.g. a pyenv under /root):
# the modules an answer is likely to import are loaded before it runs.
PRELOADED = ("math", "cmath", "itertools", "functools", "collections", "statistics", "fractions", "random",
             "copy", "re", "string", "operator", "numpy.lib.stride_tricks", "torch.nn.functional",
             "encodings.idna", "socket")


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 60.0        # an answer cell or a test cell
    notebook_seconds: float = 900.0   # the whole submission, lesson cells included
    memory_mb: int = 6144             # address space of each process (RLIMIT_AS); torch maps ~2 GB at import
    user: str = "nobody"              # the account answers run as, when the grader is root


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Verdict:
    student: str
    grade_id: str
    passed: bool
    message: str


def world_executable(python: str) -> bool:
    """Every account can run ``python``: the interpreter and each folder above it, links followed."""
    path = Path(os.path.realpath(python))
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def default_python() -> str:
    """The interpreter for the runner. Answers run as an account that must be able to read the Python
    installation, as lazy imports happen while they run; a pyenv under /root is not readable, so as root
    the hub's students' runtime is used when this interpreter is not (``$LENET_HUB_RUNTIME``, default
    /opt/lenet-hub: hub/runtime.py builds it for every account)."""
    if os.geteuid() != 0 or world_executable(sys.executable):
        return sys.executable
    runtime = Path(os.environ.get("LENET_HUB_RUNTIME", "/opt/lenet-hub")) / "venv" / "bin" / "python"
    return str(runtime) if runtime.exists() and world_executable(str(runtime)) else sys.executable


# --- the grader's side -----------------------------------------------------------------------------
def _limit_child(limits: Limits, isolate_network: bool):
    def setup() -> None:                                      # runs in the child, before exec
        mem = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 2**20, 256 * 2**20))   # no file over 256 MB
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)                     # PR_SET_PDEATHSIG: dies with the grader
        if isolate_network and libc.unshare(0x40000000) != 0:    # CLONE_NEWNET: a network of its own, down
            raise OSError(ctypes.get_errno(), "could not give the grading process a network of its own")
    return setup


def run_notebook(cells: list[dict], workdir: Path, limits: Limits = DEFAULT_LIMITS, env: dict[str, str] | None = None,
                 python: str | None = None) -> tuple[dict[tuple[str, str], Verdict], str]:
    """Run ``cells`` (dicts with kind, source, and for answers answer_source/grade_id) in the sandbox.

    The lesson's cells run once; each answer cell holds every student's answer (``answers``), each
    run in a fork of its own. Returns the verdict of each (student, grade_id) that ran, and a note
    about the run ("" when it ended normally). A test that never reported is the caller's to score."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o711)                  # the answers' account may pass through to its own folders, no more
    job = workdir / "cells.json"
    job.write_text(json.dumps({"cells": cells, "limits": limits.__dict__}))
    read_end, write_end = os.pipe()
    is_root = os.geteuid() == 0
    package_root = str(Path(__file__).resolve().parents[2])      # the runner imports this very lenet_utils
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "MPLBACKEND": "Agg",
                 "PYTHONPATH": python_path, "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8",
                 "LENET_RESULT_FD": str(write_end), **(env or {})}
    with open(workdir / "run.log", "wb") as log:
        proc = subprocess.Popen([python or default_python(), "-m", "lenet_utils.term.sandbox", str(job)], cwd=workdir,
                                env=child_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=(write_end,), start_new_session=True,
                                preexec_fn=_limit_child(limits, isolate_network=is_root))
    os.close(write_end)
    verdicts: dict[str, Verdict] = {}
    students = {st for c in cells if c["kind"] == "answer" for st in c["answers"]}
    spans = sum(1 for c in cells if c["kind"] == "answer")
    budget = limits.notebook_seconds + limits.cell_seconds * 3 * spans * len(students)
    note, buffer, deadline = "", b"", time.monotonic() + budget
    with os.fdopen(read_end, "rb") as results:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                note = f"the notebook timed out after {budget:g} s"
                break
            ready, _, _ = select.select([results], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(results.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    r = json.loads(line)
                    verdicts[(r["student"], r["grade_id"])] = Verdict(r["student"], r["grade_id"], r["passed"],
                                                                      r["message"])
    _kill_session(proc)
    if not note and proc.returncode not in (0, None):
        note = _died(proc.returncode)
    return verdicts, note


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)        # the runner and everything it started
    except ProcessLookupError:
        pass
    proc.wait()


def _died(code: int) -> str:
    if code < 0 and -code == signal.SIGKILL:
        return "the grading process was killed (out of memory, or by the submission)"
    return f"the grading process ended with status {code}"


# --- the runner, in the child ------------------------------------------------------------------------
def _snapshot() -> dict[str, dict[str, int]]:
    """The identity of every object the checks rely on: if an answer swaps one, the fork notices."""
    from ..lessons import exercises
    from ..lessons.exercises import _core

    names = [*GUARDED_MODULES, "lenet_utils.term.replay",
             *sorted(m for m in sys.modules if m.startswith("lenet_utils.lessons.exercises"))]
    snap = {name: {k: id(v) for k, v in vars(sys.modules[name]).items()} for name in names if name in sys.modules}
    snap["Feedback"] = {k: id(v) for k, v in vars(_core.Feedback).items()}
    snap["checkers"] = {name: id(getattr(exercises, name).__code__) for name in exercises.__all__
                        if callable(getattr(exercises, name)) and hasattr(getattr(exercises, name), "__code__")}
    snap["sys.modules"] = {k: id(v) for k, v in sys.modules.items() if k.startswith("lenet_utils")}
    return snap


def _tampered(before: dict[str, dict[str, int]]) -> str | None:
    """The first guarded name an answer rebound (a module's attribute, a checker's code, Feedback's parts)."""
    after = _snapshot()
    for group, ids in before.items():
        strict = group in ("Feedback", "checkers")           # every attribute counts, new ones too
        for name in sorted(set(ids) | (set(after.get(group, {})) if strict else set())):
            if (strict or not name.startswith("__")) and after.get(group, {}).get(name) != ids.get(name):
                return f"{group}.{name}"
    return None


def _own_folder(name: str, user: str) -> None:
    os.makedirs(name, mode=0o711, exist_ok=True)
    if os.geteuid() == 0:
        account = pwd.getpwnam(user)
        os.chown(name, account.pw_uid, account.pw_gid)
        os.chmod(name, 0o700)


def _drop_privileges(user: str, cpu_seconds: float) -> None:
    cpu = int(cpu_seconds) + 1                       # what it and anything it leaves behind may compute
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    if os.geteuid() != 0:
        return
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))   # no fork bomb: processes of the whole account
    account = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)


def _run(shell, source: str) -> str | None:
    """Run one cell; the error it raised, as one line, or None."""
    result = shell.run_cell(source, store_history=False, silent=False)
    err = result.error_in_exec or result.error_before_exec
    if err is None:
        return None
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text and not isinstance(err, AssertionError) else (text or
                                                                                                  type(err).__name__)


def probes(test_source: str) -> list[dict]:
    """The checks a test cell makes, in order: ``feedback = check_x(var[, extra...][, variant=N])`` lines.
    A check with a ``variant`` is the hidden test: the runner gives it a secret variant of its own."""
    found = []
    for node in ast.walk(ast.parse(test_source)):
        call = node.value if isinstance(node, ast.Assign) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("check_")):
            continue
        if not call.args or not all(isinstance(a, ast.Name) for a in call.args):
            raise ValueError(f"a test cell's check takes names only: {ast.unparse(call)}")
        hidden = any(k.arg == "variant" for k in call.keywords)
        found.append({"checker": call.func.id, "var": call.args[0].id, "extra": [a.id for a in call.args[1:]],
                      "hidden": hidden})
    if not found:
        raise ValueError("a test cell without a check_x(...) call")
    return found


def _exercise(shell, cells: list[dict], student: str, result_fd: int, challenge_fd: int, snapshot) -> None:
    """In the fork: the student's answer, then the cells up to its test; then, once the runner sends the
    checks to make (the hidden test's variant chosen only now), each check's probe data on result_fd.
    Nothing sent from here is a verdict: the runner's judge decides."""
    from ..lessons import exercises
    from . import replay

    answer = cells[0]
    os.chdir(f"{student}/{answer['grade_id']}")               # a folder of its own, made by the runner
    errors = []
    crashed = _run(shell, answer["answers"][student])
    if crashed:
        errors.append(f"your answer cell raised {crashed}")
    for cell in cells[1:-1]:
        _run(shell, cell["source"])
    swapped = _tampered(snapshot)
    os.write(result_fd, b"ready\n")
    with os.fdopen(challenge_fd, "rb") as pipe:
        checks = json.loads(pipe.readline())
    data = []
    for check in checks:
        args = [shell.user_ns.get(name) for name in [check["var"], *check["extra"]]]
        variant = {"variant": check["variant"]} if check["hidden"] else {}
        data.append(replay.probe(getattr(exercises, check["checker"]), *args, **variant))
    line = json.dumps({"errors": errors, "tampered": swapped, "probes": data})
    os.write(result_fd, line.encode() + b"\n")


def _judge(shell, test: dict, checks: list[dict], reply: dict | None) -> tuple[bool, str]:
    """In the runner: the verdict on the fork's probe data (``None``: nothing readable came back)."""
    from ..lessons import exercises
    from . import replay

    if reply is None:
        return False, UNREADABLE
    if reply.get("tampered"):
        return False, f"the answer replaced part of the grader ({str(reply['tampered'])[:80]}); not graded: " \
                      "your lecturer will look"
    for check, data in zip(checks, reply["probes"]):
        try:
            extra = [shell.user_ns[name] for name in check["extra"]]
        except KeyError as err:
            return False, f"NameError: name {err} is not defined"
        feedback = replay.judge(getattr(exercises, check["checker"]), data, *extra,
                                **({"variant": check["variant"]} if check["hidden"] else {}))
        if not feedback.passed:
            failed = ("other inputs (a hidden test): " if check["hidden"] else "") + feedback.message
            errors = [str(e)[:300] for e in reply.get("errors", [])][:1]
            return False, "; ".join([*errors, failed])
    return True, ""


UNREADABLE = ("your answer could not be checked: the grading process sent back no readable result (the answer "
              "exited, crashed or wrote something else into the grader's pipe)")
MAX_REPLY_BYTES = 64 * 2**20      # a probe's data: two training steps' weights are ~3 MB


def _reply(data: bytes | None, checks: list[dict]) -> dict | None:
    """The fork's reply, parsed as JSON only and checked for shape; None if it is anything else."""
    if not data:
        return None
    try:
        reply = json.loads(data.split(b"\n")[0])
    except ValueError:
        return None
    if (type(reply) is not dict or type(reply.get("probes")) is not list or len(reply["probes"]) != len(checks)
            or type(reply.get("errors", [])) is not list):
        return None
    return reply


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    cells, limits = job["cells"], job["limits"]
    report = int(os.environ.pop("LENET_RESULT_FD"))
    os.set_inheritable(report, False)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(history_length=0)
    shell.history_manager.enabled = False
    import torch

    torch.set_num_threads(1)
    from ..lessons import exercises  # noqa: F401  (imported before any answer runs: the snapshot's originals)
    from . import replay  # noqa: F401

    for name in PRELOADED:        # what an answer may import, loaded while the runner can still read it
        __import__(name)

    i = 0
    while i < len(cells):
        cell = cells[i]
        if cell["kind"] != "answer":
            _run(shell, cell["source"])
            i += 1
            continue
        end = next(j for j in range(i, len(cells)) if cells[j]["kind"] == "test")
        span = cells[i:end + 1]
        checks, replies = probes(span[-1]["source"]), {}
        for student in sorted(cell["answers"]):
            snapshot = _snapshot()
            _own_folder(f"{student}/{cell['grade_id']}", limits["user"])
            read_end, write_end = os.pipe()
            challenge_read, challenge_write = os.pipe()
            pid = os.fork()
            if pid == 0:                                        # the fork: the student's code runs here only
                try:
                    os.close(read_end)
                    os.close(challenge_write)
                    os.close(report)
                    _drop_privileges(limits["user"], limits["cell_seconds"] * (len(span) + len(checks)))
                    _exercise(shell, span, student, write_end, challenge_read, snapshot)
                except BaseException:                           # the runner's own failure, in its log
                    import traceback

                    traceback.print_exc()
                finally:
                    os._exit(0)
            os.close(write_end)
            os.close(challenge_read)
            seconds = limits["cell_seconds"] * len(span)
            sent = [{**c, "variant": secrets.randbelow(10**8) + 2 if c["hidden"] else 0} for c in checks]
            replies[student] = (sent, _converse(read_end, challenge_write, pid, seconds,
                                                limits["cell_seconds"] * len(checks), sent))
        for cell in span[:-1]:                                   # the lesson's state goes on without the answers
            _run(shell, cell["lesson_source"] if cell["kind"] == "answer" else cell["source"])
        for student, (sent, reply) in replies.items():          # judged here, in the lesson's state at the test
            if reply == "timeout":
                record = {"passed": False, "message": f"timed out after {limits['cell_seconds'] * len(span):g} s"}
            else:
                passed, message = _judge(shell, span[-1], sent, _reply(reply, sent))
                record = {"passed": passed, "message": message[:2000]}
            os.write(report, json.dumps({"student": student, "grade_id": span[-1]["grade_id"],
                                         **record}).encode() + b"\n")
        i = end + 1
    return 0


def _converse(read_end: int, challenge_write: int, pid: int, seconds: float, probe_seconds: float,
              checks: list[dict]) -> bytes | str | None:
    """Wait for the fork's answer to run ("ready"), send it the checks, read its probe data (one line,
    at most MAX_REPLY_BYTES). "timeout" if the answer ran over; None if the fork sent nothing readable."""
    reply = _read_line(read_end, seconds)
    if isinstance(reply, bytes):                          # "ready": the answer has run; now the checks
        try:
            os.write(challenge_write, json.dumps(checks).encode() + b"\n")
        except OSError:                                  # the fork is gone
            pass
        reply = _read_line(read_end, probe_seconds, reply.split(b"\n", 1)[1])
    os.close(challenge_write)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(read_end)
    return reply


def _read_line(fd: int, seconds: float, data: bytes = b"") -> bytes | str | None:
    """Bytes from ``fd`` up to and with the first newline; "timeout", or None at the end of the pipe or
    past MAX_REPLY_BYTES."""
    deadline = time.monotonic() + seconds
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        ready, _, _ = select.select([fd], [], [], min(1.0, left))
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk or len(data) + len(chunk) > MAX_REPLY_BYTES:
                return None
            data += chunk
    return data


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
