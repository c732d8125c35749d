"""Starting and stopping the standalone page's servers, for ``make app``'s tests and the memory
comparison (``measure_memory.py``). Both listen on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent
START_TIMEOUT = 180.0          # s: a cold server importing torch on 2 busy cores


@dataclass
class Server:
    tool: str                  # "solara" | "voila"
    url: str                   # the page's address
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(tool: str, port: int) -> list[str]:
    bindir = Path(sys.executable).parent
    if tool == "solara":
        return [str(bindir / "solara"), "run", str(APP / "predict_page.py"), "--host=127.0.0.1",
                f"--port={port}", "--production", "--no-open"]
    if tool == "voila":
        return [str(bindir / "voila"), str(APP / "voila_page.ipynb"), "--no-browser", "--Voila.ip=127.0.0.1",
                f"--port={port}", "--show_tracebacks=False"]
    raise ValueError(tool)


def start(tool: str, log_dir: Path, env: dict | None = None, timeout: float = START_TIMEOUT) -> Server:
    """Start ``tool`` and return once its page answers; raises RuntimeError with the log if not."""
    port = free_port()
    log = Path(log_dir) / f"{tool}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command(tool, port), cwd=APP, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})),
                                start_new_session=True)
    server = Server(tool, f"http://127.0.0.1:{port}/", proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{tool} exited with status {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(server.url, timeout=5).read(100)
            return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise RuntimeError(f"{tool} did not answer on {server.url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def tree_rss(pid: int) -> int:
    """Memory of a process and all its children (Voila's kernels), bytes: the proportional set size
    (PSS), so libraries that kernels share (torch's) count once in all, not once per kernel."""
    import psutil

    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def stop(server: Server) -> None:
    """End the server and everything it started (its own process group)."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
