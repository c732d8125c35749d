"""Peak memory of one ``lenet predict`` call over many files, and whether its output streams (issue 16).

    python benchmarks/predict_many_memory.py                          # 2,000 files, this checkout
    python benchmarks/predict_many_memory.py --before /tmp/wt-64df6bd # and an older checkout's code
    python benchmarks/predict_many_memory.py --files 50 --out /tmp/x.json   # a quick look

The files are variants of the project's example digits (``data/examples``: rotated, shifted,
scaled, lightened; written as PNG into a temporary folder, never into the repository). Each run
is a fresh ``python -m lenet_utils predict FORMAT FILE...`` whose ``lenet_utils`` comes from the
checkout given (through ``PYTHONPATH``). Figures per run:

* peak resident memory of the process (``ru_maxrss`` from ``wait4``: exact, no polling), for
  all the files and for one file, so the difference is what the number of files costs;
* streaming: the folder is watched with inotify, so the run knows how many files the process had
  opened when its first result reached the pipe; it streams when that happens before the last
  file is opened.

Prints a table and writes ``benchmarks/results/predict_many_memory.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageEnhance
from provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "predict_many_memory.json"
IN_OPEN = 0x20                     # inotify: a file in the watched folder was opened
EVENT = struct.Struct("iIII")      # struct inotify_event: wd, mask, cookie, len; then len bytes of name
MB = 1024 * 1024


def make_files(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` PNG variants of the example digits, named ``<digit>_<i>.png``; deterministic."""
    rng = random.Random(seed)
    examples = sorted(p for p in (REPO / "data" / "examples").iterdir() if p.suffix in (".png", ".jpg"))
    if not examples:
        raise SystemExit(f"no example digits in {REPO / 'data' / 'examples'}: the variants are made from them")
    sources = [(p.name[0], Image.open(p).convert("RGB")) for p in examples]
    paths = []
    for i in range(n):
        digit, img = sources[i % len(sources)]
        w, h = img.size
        s = rng.uniform(0.85, 1.15)
        out = img.resize((round(w * s), round(h * s)), Image.BILINEAR)
        out = out.rotate(rng.uniform(-10, 10), Image.BILINEAR, translate=(rng.randint(-20, 20), rng.randint(-20, 20)),
                         fillcolor=out.getpixel((2, 2)))
        out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.9, 1.15))
        paths.append(folder / f"{digit}_{i:04d}.png")
        out.save(paths[-1], "PNG", compress_level=1)
    return paths


class OpenWatch:
    """Which files of ``folder`` were opened, and when (inotify, Linux only), from a thread."""

    def __init__(self, folder: Path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")
        self.first_open: dict[str, float] = {}        # file name -> time.monotonic() of its first open
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            now = time.monotonic()
            buf = os.read(self.fd, 1 << 16)
            at = 0
            while at < len(buf):
                _, mask, _, size = EVENT.unpack_from(buf, at)
                name = buf[at + EVENT.size: at + EVENT.size + size].rstrip(b"\0").decode()
                at += EVENT.size + size
                if mask & IN_OPEN and name:
                    self.first_open.setdefault(name, now)

    def opened_before(self, t: float) -> int:
        return sum(1 for v in self.first_open.values() if v <= t)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.fd)


def run_predict(code: Path, fmt: str, files: list[Path]) -> dict:
    """One ``lenet predict`` process over ``files``: its peak RSS, when its first result came, its output."""
    env = dict(os.environ, PYTHONPATH=str(code))
    flag = {"json": ["--json"], "jsonl": ["--jsonl"], "text": []}[fmt]
    cmd = [sys.executable, "-m", "lenet_utils", "predict", *flag, "--", *map(str, files)]
    watch = OpenWatch(files[0].parent)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=files[0].parent, env=env)
    first_result, lines, errors = None, [], []
    err_reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    err_reader.start()
    for line in proc.stdout:                                  # read as it arrives: the pipe never fills
        if first_result is None and (b'"file"' in line or (fmt == "text" and line.strip())):
            first_result = time.monotonic()
        lines.append(line)
    _, status, usage = os.wait4(proc.pid, 0)                  # ru_maxrss: the process's peak RSS, KiB
    proc.returncode = os.waitstatus_to_exitcode(status)
    end = time.monotonic()
    err_reader.join()
    time.sleep(0.1)
    watch.close()
    out = b"".join(lines).decode()
    try:
        results = (json.loads(out) if fmt == "json" else [json.loads(x) for x in out.splitlines() if x.strip()]
                   if fmt == "jsonl" else out.splitlines())
    except ValueError:                                        # not valid JSON: counted as no results
        results = []
    answered = [r for r in results if isinstance(r, dict) and "label" in r]
    right = sum(1 for r in answered if Path(r["file"]).name[0] == str(r["label"]))
    last_open = watch.first_open.get(files[-1].name)
    return {
        "format": fmt, "files": len(files), "exit_status": proc.returncode, "results": len(results),
        "answered": len(answered), "right": right, "seconds": round(end - start, 2),
        "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1),
        "first_result_s": None if first_result is None else round(first_result - start, 2),
        "last_file_opened_s": None if last_open is None else round(last_open - start, 2),
        "files_opened_before_first_result": None if first_result is None else watch.opened_before(first_result),
        "streams": first_result is not None and last_open is not None and first_result < last_open,
        "stderr_tail": b"".join(errors).decode(errors="replace")[-300:],
    }


def package_file(code: Path) -> str:
    """Where ``import lenet_utils`` resolves with ``PYTHONPATH=code`` (proves which code ran)."""
    return subprocess.run([sys.executable, "-c", "import lenet_utils; print(lenet_utils.__file__)"],
                          env=dict(os.environ, PYTHONPATH=str(code)), cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, check=True).stdout.strip()



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000, help="how many files in the one call (default 2000)")
    ap.add_argument("--after", type=Path, default=REPO, help="checkout whose code is 'after' (default: this one)")
    ap.add_argument("--before", type=Path, default=None, help="an older checkout, run with --json (it has no --jsonl)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    runs = [("after", args.after, fmt) for fmt in ("json", "jsonl")]
    if args.before is not None:
        runs.insert(0, ("before", args.before, "json"))
    rows = []
    load_start = round(os.getloadavg()[0], 2)
    print(f"load average at the start: {load_start:.2f} (cores: {os.cpu_count()})", flush=True)
    with tempfile.TemporaryDirectory(prefix="predict-many-") as tmp:
        folder = Path(tmp) / "digits"
        folder.mkdir()
        files = make_files(folder, args.files)
        print(f"{len(files)} PNG files in {folder} ({sum(p.stat().st_size for p in files) / MB:.1f} MB)", flush=True)
        print(f"{'code':<16} {'format':<6} {'files':>5} {'peak RSS':>9} {'1 file':>8} {'first result':>13} "
              f"{'last file opened':>17} {'streams':>8} {'answered':>9}")
        for label, code, fmt in runs:
            one = run_predict(code, fmt, files[:1])
            many = run_predict(code, fmt, files)
            row = {"code": label, "commit": git_commit(code), "package": package_file(code), **many,
                   "peak_rss_one_file_mb": one["peak_rss_mb"],
                   "extra_mb_per_1000_files": round((many["peak_rss_mb"] - one["peak_rss_mb"]) / len(files) * 1000, 1)}
            rows.append(row)
            print(f"{label + ' ' + row['commit']:<16} {fmt:<6} {len(files):>5} {many['peak_rss_mb']:>7.0f}MB "
                  f"{one['peak_rss_mb']:>6.0f}MB {many['first_result_s']!s:>11} s {many['last_file_opened_s']!s:>15} s "
                  f"{'yes' if many['streams'] else 'no':>8} {many['answered']:>9}", flush=True)
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "files": args.files,
                                    "cores": os.cpu_count(), "load_start": load_start, "load_end": round(load, 2),
                                    "runs": rows},
                                   indent=2) + "\n")
    print(f"written: {args.out}")
    return 0 if all(r["exit_status"] == 0 and r["answered"] == r["files"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
