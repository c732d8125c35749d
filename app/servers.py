"""The standalone page's servers: ``make app`` (Solara), ``make app-voila`` (Voila), and the same
commands started on 127.0.0.1 and a free port for the tests and the memory comparison
(``benchmarks/app_memory.py``).

    python app/servers.py solara --host 127.0.0.1 --port 8765     # what make app runs
    python app/servers.py voila --host 0.0.0.0 --port 8765        # the Voila page, for a room
"""

import argparse
import importlib.util
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
# Solara keeps a visitor's panel this long after the page is closed (its default: 24 h), so a room's
# reloads do not pile up; nothing calls home from an offline room.
ENV = {"SOLARA_KERNEL_CULL_TIMEOUT": "1h", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
       "SOLARA_THEME_SHOW_BANNER": "false",     # its corner banner would cover the pad on a phone
       "SOLARA_THEME_TITLE": "What digit is this? Ask LeNet-5"}


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


def command(tool: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """The server's command line; it runs in ``app/`` (where ``page.py`` is)."""
    bindir = Path(sys.executable).parent
    if tool == "solara":
        return [str(bindir / "solara"), "run", str(APP / "predict_page.py"), f"--host={host}",
                f"--port={port}", "--production", "--no-open"]
    if tool == "voila":
        return [str(bindir / "voila"), str(APP / "voila_page.ipynb"), "--no-browser", f"--Voila.ip={host}",
                f"--port={port}", "--show_tracebacks=False"]
    raise ValueError(tool)


def missing(tool: str) -> str | None:
    """What stops ``tool`` from serving the page offline, with the fix, in one line; None if nothing."""
    if importlib.util.find_spec(tool) is None:
        return f"{tool} is not installed in {sys.prefix}: run `make setup`"
    if tool == "solara":
        spec = importlib.util.spec_from_file_location("lenet_solara_offline", APP / "solara_offline.py")
        offline = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(offline)
        return offline.problem()
    return None


def environment(env: dict | None = None) -> dict:
    return {**ENV, **os.environ, **(env or {})}


def start(tool: str, log_dir: Path, env: dict | None = None, timeout: float = START_TIMEOUT) -> Server:
    """Start ``tool`` and return once its page answers; raises RuntimeError with the log if not."""
    problem = missing(tool)
    if problem:
        raise RuntimeError(problem)
    port = free_port()
    log = Path(log_dir) / f"{tool}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command(tool, port), cwd=APP, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=environment(env), start_new_session=True)
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


def addresses(host: str, port: int) -> list[str]:
    """The page's addresses: the host itself, or for 0.0.0.0 each of this machine's IPv4 addresses."""
    if host not in ("0.0.0.0", ""):
        return [f"http://{host}:{port}/"]
    import psutil

    ips = [a.address for nic in psutil.net_if_addrs().values() for a in nic
           if a.family == socket.AF_INET and not a.address.startswith("127.")]
    return [f"http://{ip}:{port}/" for ip in ips] or [f"http://<this machine's address>:{port}/"]


def main() -> int:
    ap = argparse.ArgumentParser(description="Serve the predict panel as a web page (make app, make app-voila).")
    ap.add_argument("tool", choices=["solara", "voila"])
    ap.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves a room's network")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    problem = missing(args.tool)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"make app ({args.tool}): open " + "  or  ".join(addresses(args.host, args.port)) +
          "  (the first visitor waits a few seconds while the model loads; Ctrl-C stops it)", flush=True)
    os.chdir(APP)
    cmd = command(args.tool, args.port, args.host)
    os.execve(cmd[0], cmd, environment())


if __name__ == "__main__":
    sys.exit(main())
