"""A class on one machine: N students running the course's notebooks at the same moment.

Each simulated student has their own Jupyter kernel, their own copy of the notebooks and their own
data folder (checkpoints), and shares the machine's one prepared copy of MNIST, as on a class
server. Every student executes notebooks 01, 03 and 05 top to bottom (a fresh kernel per notebook,
as when a student opens it), all students starting together. First one student runs alone, in the
same process, for the baseline.

    python benchmarks/classroom.py                      # 8 students (make bench)
    python benchmarks/classroom.py --students 2         # the smoke run in make test
    python benchmarks/classroom.py --hub                # through a real JupyterHub (hub_load.py)
    python benchmarks/classroom.py --code ../old-clone  # the same class on another checkout's code

Figures (printed, and written to benchmarks/results/classroom.json or --out):

* each student's wall time and notebook 03's final test accuracy;
* class efficiency = N x (one student alone) / (time until the whole class is done): about 1 or
  more on 2 cores when the students do not fight over threads, towards 0.1 when they do;
* CPU-seconds per student: each kernel's own user + system time (``getrusage``, read by the probe that
  ends every notebook), per notebook and summed per student, median and max over the class;
* marginal memory per student = (machine memory in use with N students - with none) / N, peak;
  and each kernel's peak USS (private) and PSS (private + its share of shared pages), from psutil;
* failures (any cell that raised, any kernel that died), which must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "classroom.json"
NOTEBOOKS = ("01_mnist_data", "03_training", "05_predict_panel")
HUB_NOTEBOOKS = ("03_training", "05_predict_panel")

# Run after each notebook, in its kernel: what the class table needs from it. Written to work on
# older checkouts too (no thread fields there), hence the getattr and the NameError.
PROBE = """
import json as _json
import resource as _resource
_u = _resource.getrusage(_resource.RUSAGE_SELF)
_r = {"cpu_s": _u.ru_utime + _u.ru_stime}        # this kernel's CPU time, all its threads, since it started
try:
    _r["test_acc"] = float(history.final.test_acc)
    _r["threads"] = getattr(history, "threads", None)
    _r["thread_reason"] = getattr(history, "thread_reason", None)
except NameError:
    pass
print("CLASSROOM_RESULT " + _json.dumps(_r))
"""


@dataclass
class MemorySampler:
    """Machine memory in use (total - available), each kernel's USS and PSS, and the class's own
    memory, every ``period`` s.

    Only this process's descendants are looked at: the kernels nbclient starts here, or the hub this
    process started with its servers and their kernels. Other programs on a shared machine (and
    their kernels) are never counted. ``class_pss_peak`` is the most the class held at one moment,
    summing the PSS of every descendant: each shared page (PyTorch's libraries, MNIST's memory map)
    is split between the processes that map it, so the sum counts it once."""

    period: float = 1.0
    machine_peak: int = 0
    class_pss_peak: int = 0
    at_class_peak: dict[str, int] = field(default_factory=dict)   # processes and kernels alive then
    kernels: dict[int, dict[str, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @staticmethod
    def in_use() -> int:
        vm = psutil.virtual_memory()
        return vm.total - vm.available

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.machine_peak = max(self.machine_peak, self.in_use())
            total_pss, alive = 0, {"processes": 0, "kernels": 0}
            for proc in psutil.Process().children(recursive=True):
                try:
                    mem = proc.memory_full_info()
                    kernel = "ipykernel_launcher" in " ".join(proc.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total_pss += getattr(mem, "pss", 0)
                alive["processes"] += 1
                alive["kernels"] += kernel
                if not kernel:
                    continue
                peak = self.kernels.setdefault(proc.pid, {"uss": 0, "pss": 0, "rss": 0, "anon": 0})
                peak["anon"] = max(peak["anon"], mem.rss - mem.shared)  # heap and stacks: never shared
                peak["uss"] = max(peak["uss"], mem.uss)
                peak["pss"] = max(peak["pss"], getattr(mem, "pss", 0))
                peak["rss"] = max(peak["rss"], mem.rss)
            if total_pss > self.class_pss_peak:
                self.class_pss_peak, self.at_class_peak = total_pss, alive
            self._stop.wait(self.period)


def idle_memory(seconds: float = 3.0) -> int:
    """Machine memory in use with no student: the median of a few looks."""
    looks = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        looks.append(MemorySampler.in_use())
        time.sleep(0.25)
    return int(statistics.median(looks))


# --- students in kernels of this process's own (nbclient) ------------------------------------------
def student_env(home: Path, mnist_raw: Path, code: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["LENET_DATA_DIR"] = str(home / "data")       # the student's own checkpoints
    env["LENET_MNIST_DIR"] = str(mnist_raw)          # the machine's one copy of MNIST
    if code is not None:                             # run another checkout's lenet_utils
        env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


async def run_student(name: str, home: Path, notebooks: list[Path], env: dict[str, str], timeout: float,
                      deadline: float | None = None) -> dict:
    import nbformat
    from nbclient import NotebookClient

    work = home / "notebooks"
    result: dict = {"student": name, "per_notebook": {}, "stdout": {}, "error": None}
    start = time.perf_counter()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}})
        t0 = time.perf_counter()
        try:
            left = None if deadline is None else max(1.0, deadline - time.monotonic())
            await asyncio.wait_for(client.async_execute(env=env), left)
        except Exception as err:  # a cell that raised, a timeout, a dead kernel: this student failed
            if deadline is not None and time.monotonic() >= deadline - 1:
                result["error"] = f"{path.stem}: not finished within --deadline"   # the kernel was stopped
            else:
                last = (str(err).strip().splitlines() or [""])[-1][:200]
                result["error"] = f"{path.stem}: {type(err).__name__}: {last}"
        result["per_notebook"][path.stem] = time.perf_counter() - t0
        result["stdout"][path.stem] = "".join(
            out.get("text", "") for cell in nb.cells for out in cell.get("outputs", [])
            if out.get("output_type") == "stream")
        if result["error"]:
            break
    result["wall"] = time.perf_counter() - start
    return result


def run_class_locally(n: int, names: tuple[str, ...], code: Path | None, mnist_raw: Path, timeout: float,
                      deadline: float | None) -> list[dict]:
    source = (code or REPO) / "notebooks"
    with tempfile.TemporaryDirectory(prefix="lenet-classroom-") as tmp:
        homes = []
        for i in range(n):
            home = Path(tmp) / f"student{i + 1:02d}"
            shutil.copytree(source, home / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            homes.append(home)

        async def everyone() -> list[dict]:
            return await asyncio.gather(*[
                run_student(home.name, home, [home / "notebooks" / f"{stem}.ipynb" for stem in names],
                            student_env(home, mnist_raw, code), timeout,
                            None if deadline is None else time.monotonic() + deadline) for home in homes])
        return asyncio.run(everyone())


def run_class(n: int, args: argparse.Namespace, mnist_raw: Path) -> tuple[list[dict], float, MemorySampler]:
    """N students at once; returns their results, the time until the last finished, and the memory seen."""
    with MemorySampler() as memory:
        start = time.perf_counter()
        if args.hub:
            from hub_load import run_students_through_hub  # benchmarks/hub_load.py, beside this file

            results = run_students_through_hub(n, [REPO / "notebooks" / f"{s}.ipynb" for s in args.notebooks],
                                               [PROBE], timeout=args.timeout)
        else:
            results = run_class_locally(n, tuple(args.notebooks), args.code, mnist_raw, args.timeout,
                                        args.deadline if n > 1 else None)
        elapsed = time.perf_counter() - start
    if args.hub:  # from the moment all servers were up (hub_load's barrier), not the hub's start-up
        elapsed = max(r["wall"] for r in results)
    return results, elapsed, memory


def probe(result: dict, stem: str = "03_training") -> dict:
    for line in result.get("stdout", {}).get(stem, "").splitlines():
        if line.startswith("CLASSROOM_RESULT "):
            return json.loads(line.split(" ", 1)[1])
    return {}


def cpu_seconds(result: dict) -> dict[str, float | None]:
    """Per notebook, the CPU-seconds its kernel spent (PROBE's rusage); None where the probe did not run."""
    cpu = {stem: probe(result, stem).get("cpu_s") for stem in result.get("per_notebook", {})}
    return {stem: None if s is None else round(s, 1) for stem, s in cpu.items()}


# --- the figures -------------------------------------------------------------------------------------
def summarise(alone: dict, alone_s: float, results: list[dict], class_s: float, idle: int,
              memory: MemorySampler, n: int) -> dict:
    kernels = sorted(memory.kernels.values(), key=lambda k: -k["uss"])
    mb = 1 << 20
    students = [{"student": r["student"], "wall_s": round(r["wall"], 1),
                 "per_notebook_s": {k: round(v, 1) for k, v in r["per_notebook"].items()},
                 "per_notebook_cpu_s": cpu_seconds(r),
                 "test_acc": probe(r).get("test_acc"), "threads": probe(r).get("thread_reason"),
                 "error": r["error"]} | ({"cgroup_peak_mb": r["cgroup_peak_mb"]} if "cgroup_peak_mb" in r else {})
                for r in results]
    cgroup = [st["cgroup_peak_mb"] for st in students if st.get("cgroup_peak_mb")]
    cpu = [sum(st["per_notebook_cpu_s"].values()) for st in students
           if st["per_notebook_cpu_s"] and None not in st["per_notebook_cpu_s"].values()]
    per_notebook_cpu = {}
    for stem in students[0]["per_notebook_cpu_s"] if students else {}:
        seen = [st["per_notebook_cpu_s"].get(stem) for st in students]
        if any(v is not None for v in seen):
            per_notebook_cpu[stem] = round(statistics.median(v for v in seen if v is not None), 1)
    return {
        "students": n,
        "alone_s": round(alone_s, 1),
        "alone_test_acc": probe(alone).get("test_acc"),
        "alone_threads": probe(alone).get("thread_reason"),
        "class_s": round(class_s, 1),
        "efficiency": round(n * alone_s / class_s, 3),
        # CPU-seconds a student's kernels spent on the notebooks (their own rusage: start-up included)
        "alone_cpu_s": cpu_seconds(alone),
        "cpu_s_per_student": {"median": round(statistics.median(cpu), 1), "max": round(max(cpu), 1)} if cpu else None,
        "cpu_s_per_notebook_median": per_notebook_cpu,
        # a class stopped by --deadline did not finish: its efficiency is at most this figure
        "finished": not any("--deadline" in (r["error"] or "") for r in results),
        # the class's own processes (PSS, see MemorySampler): neighbours on the machine don't count
        "class_pss_mb_per_student": round(memory.class_pss_peak / n / mb),
        # more kernels than students: finished notebooks' kernels still alive beside the next ones
        "at_class_peak": memory.at_class_peak,
        # the machine's memory in use above idle: includes whatever else ran at the same time
        "marginal_mb_per_student": round((memory.machine_peak - idle) / n / mb),
        "idle_in_use_mb": round(idle / mb),
        "peak_in_use_mb": round(memory.machine_peak / mb),
        "kernel_uss_peak_mb": round(kernels[0]["uss"] / mb) if kernels else None,
        "kernel_pss_peak_mb": round(max(k["pss"] for k in kernels) / mb) if kernels else None,
        "kernel_uss_median_peak_mb": round(statistics.median(k["uss"] for k in kernels) / mb) if kernels else None,
        "kernel_anon_peak_mb": round(max(k["anon"] for k in kernels) / mb) if kernels else None,
        "kernel_anon_median_peak_mb": round(statistics.median(k["anon"] for k in kernels) / mb) if kernels else None,
        "kernels_seen": len(kernels),
        # --hub: the most each student's cgroup (server + kernels) held, the hub's own measurement
        "student_cgroup_peak_mb": {"max": max(cgroup), "median": statistics.median(cgroup)} if cgroup else None,
        "failures": sum(r["error"] is not None for r in results) + (alone["error"] is not None),
        "min_test_acc": min((s["test_acc"] for s in students if s["test_acc"] is not None), default=None),
        "per_student": students,
    }


def report(s: dict) -> str:
    if s["finished"]:
        head = (f"{s['class_s']:.0f} s for everyone, one student alone {s['alone_s']:.0f} s "
                f"-> class efficiency {s['efficiency']:.2f}")
    else:
        head = (f"NOT FINISHED: stopped after {s['class_s']:.0f} s (--deadline), "
                f"one student alone {s['alone_s']:.0f} s -> class efficiency below {s['efficiency']:.2f}")
    lines = [f"class of {s['students']}: {head}",
             f"memory: {s['class_pss_mb_per_student']} MB per student at the class's peak (PSS of its own processes, "
             f"{s['at_class_peak'].get('kernels')} kernels alive then); "
             f"machine: {s['marginal_mb_per_student']} MB per student above idle ({s['idle_in_use_mb']} MB "
             f"idle, {s['peak_in_use_mb']} MB peak); kernel peak USS {s['kernel_uss_peak_mb']} MB, "
             f"PSS {s['kernel_pss_peak_mb']} MB; anonymous (heap) {s['kernel_anon_peak_mb']} MB, median kernel "
             f"{s['kernel_anon_median_peak_mb']} MB",
             *([f"each student's cgroup (server + kernels) at its peak: "
                f"median {s['student_cgroup_peak_mb']['median']:.0f} MB, "
                f"max {s['student_cgroup_peak_mb']['max']} MB"] if s.get("student_cgroup_peak_mb") else []),
             *([f"CPU per student (its kernels' own time): median {s['cpu_s_per_student']['median']:.1f} s, "
                f"max {s['cpu_s_per_student']['max']:.1f} s; per notebook (median) "
                + ", ".join(f"{k} {v:.1f} s" for k, v in s["cpu_s_per_notebook_median"].items())
                + f"; one student alone: {sum(v or 0 for v in s['alone_cpu_s'].values()):.1f} s"]
              if s.get("cpu_s_per_student") else []),
             f"failures: {s['failures']}; alone: {s['alone_threads']}",
             f"{'student':<10}{'wall s':>8}  {'per notebook s':<28}{'03 test acc':>12}  threads"]
    for st in s["per_student"]:
        per = " ".join(f"{v:.0f}" for v in st["per_notebook_s"].values())
        acc = f"{st['test_acc']:.2%}" if st["test_acc"] is not None else "-"
        lines.append(f"{st['student']:<10}{st['wall_s']:>8.0f}  {per:<28}{acc:>12}  {st['threads'] or ''}"
                     + (f"  FAILED {st['error']}" if st["error"] else ""))
    return "\n".join(lines)


def shared_mnist() -> Path:
    """The machine's one decompressed, checked copy of MNIST, prepared once before the class.

    Asked of ``python -m lenet_utils data`` in a child process, so that this process never imports
    PyTorch: its own memory stays small and out of the students' figures."""
    code = ("from lenet_utils.data import prepare_mnist; from lenet_utils.paths import data_root; "
            "print(prepare_mnist(data_root()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"classroom.py: MNIST could not be prepared: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return Path(done.stdout.strip().splitlines()[-1]) / "MNIST" / "raw"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=8, help="students at once (default 8)")
    parser.add_argument("--notebooks", type=lambda s: s.split(","), default=None,
                        help="notebook stems, comma-separated (default: 01, 03 and 05; with --hub 03 and 05)")
    parser.add_argument("--hub", action="store_true", help="log the students in through a real JupyterHub")
    parser.add_argument("--code", type=Path, default=None,
                        help="a checkout whose lenet_utils and notebooks the students run (default: this one)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell before a student fails")
    parser.add_argument("--deadline", type=float, default=None,
                        help="give up on the class after this many seconds (students not done count as failed)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"the JSON to write (default {RESULTS})")
    parser.add_argument("--label", default="", help="a word stored with the figures, e.g. 'before'")
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error("--students must be at least 1")
    args.notebooks = args.notebooks or list(HUB_NOTEBOOKS if args.hub else NOTEBOOKS)
    unknown = [s for s in args.notebooks if not (REPO / "notebooks" / f"{s}.ipynb").is_file()]
    if unknown:
        parser.error(f"no notebook {', '.join(unknown)} in notebooks/: give stems such as 03_training")

    mnist_raw = shared_mnist()
    load_start = os.getloadavg()
    idle = idle_memory()
    print(f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; load {load_start[0]:.1f}; "
          f"memory in use with no student: {idle / 2**20:.0f} MB", flush=True)
    (alone,), alone_s, _ = run_class(1, args, mnist_raw)
    print(f"one student alone: {alone_s:.0f} s", flush=True)
    results, class_s, memory = run_class(args.students, args, mnist_raw)
    summary = summarise(alone, alone_s, results, class_s, idle, memory, args.students)
    summary.update(label=args.label, mode="hub" if args.hub else "kernels",
                   notebooks=list(args.notebooks),
                   load_start=round(load_start[0], 2), load_end=round(os.getloadavg()[0], 2),
                   cpus=psutil.cpu_count(), code=str(args.code or REPO), commit=git_commit(args.code or REPO),
                   date=time.strftime("%Y-%m-%d %H:%M"))
    print(report(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if summary["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
