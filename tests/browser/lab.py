"""Driving a real JupyterLab from tests: start a server over a copy of the notebooks, open a
notebook in headless Chromium, run every cell, wait for the kernel, read errors.

Used by every browser test (``tests/browser/test_*.py``) through the fixtures in ``conftest.py``::

    from lab import open_notebook, run_all_cells, cell_errors

    def test_something(jupyterlab, browser_page):
        open_notebook(browser_page, jupyterlab, "05_predict_panel.ipynb")
        run_all_cells(browser_page)
        assert cell_errors(browser_page) == []

The server runs with ``expose_app_in_browser`` so tests call JupyterLab's own commands
(``window.jupyterapp.commands``) instead of clicking menus that move between versions.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

SERVER_START_TIMEOUT = 180.0  # s: a cold JupyterLab on 2 busy cores takes 5-30 s
KERNEL_READY_TIMEOUT = 120.0  # s: kernel start + first idle
RUN_ALL_TIMEOUT = 600.0       # s: a whole notebook; ours run in well under a minute
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# User settings for the test server only: every cell kept in the DOM (JupyterLab 4 may otherwise
# virtualise cells scrolled out of view), no news or update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def chromium_path() -> str:
    """The Chromium binary Playwright drives: ``$LENET_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("LENET_CHROMIUM", DEFAULT_CHROMIUM)


# --- the server ----------------------------------------------------------------------------
@dataclass
class JupyterLab:
    """A running JupyterLab: ``url`` ends with ``/``; ``root`` is the copy of ``notebooks/`` it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log_path: Path
    home: Path                                     # private JUPYTER_* dirs for this server

    def lab_url(self, path: str = "") -> str:
        """The notebook's URL; ``reset`` starts from an empty workspace (no tabs left by an earlier test)."""
        return f"{self.url}lab/tree/{path}?reset&token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def api(self, path: str, method: str = "GET", timeout: float = 10.0):
        """Call the server's REST API; returns the decoded JSON (or None for an empty body)."""
        req = urllib.request.Request(f"{self.url}api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"},
                                     data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jupyterlab(base: Path, source: Path = NOTEBOOKS, timeout: float = SERVER_START_TIMEOUT) -> JupyterLab:
    """Copy ``source`` into ``base/notebooks`` and serve it with this interpreter's JupyterLab on
    127.0.0.1, a free port and a random token. Returns once ``/api/status`` answers; on failure
    raises ``RuntimeError`` carrying the server log."""
    root = base / "notebooks"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    home = base / "jupyter-home"
    settings = home / "lab-settings"
    for rel, value in LAB_SETTINGS.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(home / "config"),        # ignore the user's ~/.jupyter
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),  # no restored tabs from an earlier run
               PYTHONUNBUFFERED="1")
    token = secrets.token_hex(16)
    port = free_port()
    log_path = base / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often run as root
        cmd.append("--allow-root")
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()  # the child holds its own handle
    lab = JupyterLab(f"http://127.0.0.1:{port}/", token, root, process, log_path, home)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode} before answering "
                               f"({' '.join(cmd[:4])} ...). Server log:\n{lab.log_tail()}")
        try:
            lab.api("status", timeout=5)
            return lab
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_jupyterlab(lab)
            raise RuntimeError(f"JupyterLab did not answer on {lab.url} within {timeout:.0f} s. "
                               f"Server log:\n{lab.log_tail()}")
        time.sleep(0.5)


def _descendants(pid: int) -> set[int]:
    try:
        import psutil
    except ImportError:  # psutil comes with ipykernel; without it the API shutdown still stops kernels
        return set()
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def stop_jupyterlab(lab: JupyterLab, timeout: float = 30.0) -> None:
    """Shut the server down with its kernels: the REST shutdown first (it stops every kernel),
    then SIGTERM, then SIGKILL, and finally any kernel process it started that is still alive."""
    proc = lab.process
    children = _descendants(proc.pid)
    if proc.poll() is None:
        try:
            lab.api("shutdown", method="POST", timeout=10)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    for pid in children:  # kernels live in their own sessions; end exactly those we started
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# --- the page ------------------------------------------------------------------------------
_CURRENT = "window.jupyterapp && window.jupyterapp.shell.currentWidget"

_KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext || !w.content || !w.content.widgets) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}"""

# True once no code cell is queued or running ([*]) and the kernel is idle.
_ALL_DONE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.content) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!k || k.status !== 'idle') return false;
  const prompts = [...w.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  return prompts.every(p => !p.textContent.includes('*'));
}"""


def open_notebook(page, lab: JupyterLab, name: str, timeout: float = KERNEL_READY_TIMEOUT) -> None:
    """Open ``name`` (relative to ``lab.root``) in JupyterLab and wait until its kernel is idle."""
    if not (lab.root / name).is_file():
        raise FileNotFoundError(f"{name} is not in the served copy {lab.root}")
    page.goto(lab.lab_url(name), timeout=timeout * 1000)
    page.wait_for_function(f"() => !!({_CURRENT}) && {_CURRENT}.context && "
                           f"{_CURRENT}.context.path.endsWith({json.dumps(name.split('/')[-1])})",
                           timeout=timeout * 1000)
    page.wait_for_function(f"() => {_CURRENT}.content.widgets.length > 0 && "
                           f"{_CURRENT}.content.node.offsetParent !== null", timeout=timeout * 1000)
    wait_kernel_idle(page, timeout)


def wait_kernel_idle(page, timeout: float = KERNEL_READY_TIMEOUT) -> None:
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout * 1000, polling=250)


def run_all_cells(page, timeout: float = RUN_ALL_TIMEOUT) -> None:
    """Run every cell of the current notebook and return once all have finished and the kernel is
    idle. Fails (Playwright ``TimeoutError``) after ``timeout`` seconds."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # The first cell must leave its initial state (queued, running or done) before "done" means anything.
    page.wait_for_function("""() => {
      const w = window.jupyterapp.shell.currentWidget;
      const cells = w.content.widgets.filter(c => c.model.type === 'code');
      return cells.length === 0 || cells.some(c => c.model.executionCount !== null
                                             || (c.promptNode && c.promptNode.textContent.includes('*')));
    }""", timeout=60_000, polling=100)
    wait_until_idle(page, timeout)


def run_notebook(page, lab: JupyterLab, name: str) -> None:
    """Open ``name``, run all its cells, and fail with their errors if any cell raised."""
    open_notebook(page, lab, name)
    run_all_cells(page)
    errors = cell_errors(page)
    assert errors == [], f"{name}: cells raised {errors}"


def wait_until_idle(page, timeout: float = RUN_ALL_TIMEOUT, settle: float = 1.0) -> None:
    """Wait until no cell is running and the kernel is idle, and stays so for ``settle`` seconds
    (widget callbacks run as separate kernel messages after a cell finishes)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = max(1.0, deadline - time.monotonic())
        page.wait_for_function(_ALL_DONE_JS, timeout=remaining * 1000, polling=200)
        page.wait_for_timeout(settle * 1000)
        if page.evaluate(_ALL_DONE_JS):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel did not settle within {timeout:.0f} s")


def cell_errors(page) -> list[str]:
    """The text of every error output (tracebacks, stderr) in the current notebook."""
    return page.evaluate("""() => {
      const w = window.jupyterapp.shell.currentWidget;
      const out = [];
      for (const cell of w.content.widgets) {
        if (cell.model.type !== 'code') continue;
        for (let i = 0; i < cell.model.outputs.length; i++) {
          const o = cell.model.outputs.get(i).toJSON();
          if (o.output_type === 'error') out.push(`${o.ename}: ${o.evalue}`);
        }
      }
      return out;
    }""")


def execution_counts(page) -> list[int | None]:
    """Each code cell's execution count (None: never run) in the current notebook."""
    return page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code').map(c => c.model.executionCount)""")


def execute_in_kernel(page, code: str, timeout: float = 60.0) -> str:
    """Run ``code`` in the current notebook's kernel (no new cell) and return its text output."""
    return page.evaluate("""async ([code, timeout]) => {
      const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
      const future = kernel.requestExecute({code, store_history: false});
      let text = '';
      future.onIOPub = msg => {
        const c = msg.content;
        if (msg.header.msg_type === 'stream') text += c.text;
        else if (msg.header.msg_type === 'execute_result') text += c.data['text/plain'] + '\\n';
        else if (msg.header.msg_type === 'error') text += `${c.ename}: ${c.evalue}\\n`;
      };
      await Promise.race([future.done, new Promise((_, no) => setTimeout(() => no(new Error('timeout')), timeout))]);
      return text;
    }""", [code, timeout * 1000])


def log_in_through_the_hub(page, hub_url: str, name: str, password: str, timeout: float = 240.0) -> None:
    """The hub's login page, as a student fills it in; returns once the hub has spawned the
    student's server and sent the browser on to their JupyterLab."""
    page.goto(hub_url + "hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=timeout * 1000)
