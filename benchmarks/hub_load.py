"""N students through a real JupyterHub, as browsers would: sign up, get approved, log in through
the login page (cookies, _xsrf), start their servers, and run notebooks in each student's own
kernel through that student's server (REST API + kernel websocket), all at the same moment.

    .venv/bin/python benchmarks/hub_load.py --students 2                # own hub on a free port
    .venv/bin/python benchmarks/hub_load.py --students 2 --notebooks 05_predict_panel

``run_students_through_hub`` is the interface ``benchmarks/classroom.py --hub`` builds on; the
hub helpers (``start_hub``, ``stop_hub``, ``Student``) serve tests/test_hub.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests
import websocket  # websocket-client: the kernel's channels, as JupyterLab opens them

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / "hub" / "launch.py"
NOTEBOOKS = REPO / "notebooks"
ADMIN = "lecturer"
PASSWORD_LEN = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the hub ------------------------------------------------------------------------------------
@dataclass
class Hub:
    url: str                      # http://127.0.0.1:PORT/
    state: Path
    process: subprocess.Popen
    log_path: Path
    port: int
    api_port: int
    proxy_api_port: int
    admin: str = ADMIN
    admin_password: str = ""
    prefix: str = ""              # students' accounts are <prefix><name> (a hub running as root)

    def home(self, name: str) -> Path:
        """A student's home: their own account's (as root) or a folder in the state (without root)."""
        if self.prefix and os.geteuid() == 0:
            import pwd

            return Path(pwd.getpwnam(self.prefix + name).pw_dir)
        return self.state / "students" / name

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no hub log)"


def hub_command(state: Path, port: int, api_port: int, proxy_api_port: int, *extra: str) -> list[str]:
    return [sys.executable, str(LAUNCH), "--port", str(port), "--state", str(state),
            "--api-port", str(api_port), "--proxy-api-port", str(proxy_api_port), "--admin", ADMIN, *extra]


def throwaway_prefix() -> str:
    """Account prefix for a test's hub: 'lt' and 4 hex digits, so its accounts never clash with a
    real class's 'jupyter-<name>' and are found (and removed) by stop_hub."""
    return f"lt{secrets.token_hex(2)}-"


def start_hub(state: Path, port: int | None = None, *, api_port: int | None = None,
              proxy_api_port: int | None = None, extra: tuple[str, ...] = (), timeout: float = 120,
              prefix: str | None = None, admin_password: str | None = None, scheme: str = "http",
              verify: bool | str = True, env: dict | None = None) -> Hub:
    """Start ``hub/launch.py`` on free loopback ports; return once the login page answers.
    The lecturer's account is made at the first start with a password of ours (``hub.admin_password``).
    Raises RuntimeError with the hub's log when it exits or does not answer in time."""
    state.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_port = api_port or free_port()
    proxy_api_port = proxy_api_port or free_port()
    prefix = prefix or throwaway_prefix()
    admin_password = admin_password or secrets.token_urlsafe(32)  # workshop mode wants 32+ characters
    log_path = state / f"hub-{int(time.time() * 1000)}.log"
    env = {**os.environ, "HUB_ADMIN_PASSWORD": admin_password, **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(hub_command(state, port, api_port, proxy_api_port, "--quiet",
                                            "--account-prefix", prefix, *extra),
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    hub = Hub(f"{scheme}://127.0.0.1:{port}/", state, proc, log_path, port, api_port, proxy_api_port,
              admin_password=admin_password, prefix=prefix)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            remove_accounts(hub)  # what a failed start made (the class DB's group and folder)
            raise RuntimeError(f"the hub exited with status {proc.returncode}. Log:\n{hub.log_tail()}")
        try:
            if requests.get(hub.url + "hub/login", timeout=5, verify=verify).status_code == 200:
                return hub
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            stop_hub(hub, everything=True)
            raise RuntimeError(f"the hub did not answer on {hub.url} within {timeout:.0f} s. Log:\n{hub.log_tail()}")
        time.sleep(0.5)


def _pids_from(state: Path, prefix: str = "") -> set[int]:
    """The proxy's pid (its pid file) and every process below the hub's students' servers."""
    import psutil

    pids = set()
    f = state / "jupyterhub-proxy.pid"
    if f.is_file():
        try:
            pids.add(int(f.read_text().strip()))
        except ValueError:
            pass
    homes = (str(state / "students"),) + ((f"/home/{prefix}",) if prefix else ())
    for p in psutil.process_iter(["pid", "environ"]):  # students' servers and kernels: HOME in our state
        try:
            if (p.info["environ"] or {}).get("HOME", "").startswith(homes):
                pids.add(p.info["pid"])
        except (psutil.Error, TypeError):
            continue
    return pids


def stop_hub(hub: Hub, *, everything: bool = True, timeout: float = 30) -> None:
    """Stop the hub process (SIGTERM). ``everything``: also the proxy and every student's server
    and kernel it started (found by pid file and by HOME under this state folder, never by name)."""
    import psutil

    started = set()
    if hub.process.poll() is None:
        try:
            started = {c.pid for c in psutil.Process(hub.process.pid).children(recursive=True)}
        except psutil.Error:
            pass
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait(10)
    if not everything:
        return
    for pid in started | _pids_from(hub.state, hub.prefix):
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 10
    for pid in started | _pids_from(hub.state, hub.prefix):
        while time.monotonic() < deadline and psutil.pid_exists(pid):
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    time.sleep(0.5)  # the kernel empties a cgroup shortly after its last process is reaped
    _limits().remove_hub_groups(str(hub.state.resolve()))
    remove_accounts(hub)


def server_pid(hub: Hub, name: str) -> int:
    """The process id of ``name``'s JupyterLab server on ``hub`` (found by its HOME, never by name)."""
    import psutil

    home = str(hub.home(name))
    for p in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            if (p.info["environ"] or {}).get("HOME") == home and any("jupyterhub-singleuser" in c
                                                                      for c in p.info["cmdline"] or []):
                return p.info["pid"]
        except psutil.Error:
            continue
    raise AssertionError(f"no server process for {name}")


def remove_accounts(hub: Hub) -> None:
    """A stopped test hub's students: their system accounts and homes (userdel -r), the class DB's
    group and folder. Only names with the hub's own throw-away prefix ('lt' + 4 hex digits)."""
    import grp
    import hashlib
    import pwd
    import shutil

    if not re.fullmatch(r"lt[0-9a-f]{4}-", hub.prefix or "") or os.geteuid() != 0:
        return
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(hub.prefix):
            hub_module("sandbox").remove_home(entry.pw_name, Path(entry.pw_dir))  # its own file system
            subprocess.run(["userdel", "--remove", entry.pw_name], capture_output=True)
    group = hub.prefix.rstrip("-") + "_classdb"
    try:
        grp.getgrnam(group)
        subprocess.run(["groupdel", group], capture_output=True)
    except KeyError:
        pass
    hub_id = hashlib.sha1(str(hub.state.resolve()).encode()).hexdigest()[:10]
    shutil.rmtree(f"/var/lib/lenet-hub/class-{hub_id}", ignore_errors=True)


def _limits():
    """hub/limits.py, loaded by path (hub/ is not a package)."""
    return hub_module("limits")


def hub_module(name: str):
    """hub/<name>.py, loaded by path (hub/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"lenet_hub_{name}", REPO / "hub" / f"{name}.py")
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


# ---- a browser-like student ---------------------------------------------------------------------
class HubError(RuntimeError):
    pass


def _xsrf_from(html: str) -> str:
    m = re.search(r'name="_xsrf"\s+value="([^"]+)"', html)
    if not m:
        raise HubError("the page has no _xsrf field")
    return m.group(1)


@dataclass
class Student:
    """One browser session (cookie jar) on the hub."""

    hub: Hub
    name: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(PASSWORD_LEN))
    s: requests.Session = field(default_factory=requests.Session)

    def form(self, path: str, data: dict) -> requests.Response:
        """GET the page (cookies, _xsrf), then POST its form, as a browser does."""
        page = self.s.get(self.hub.url + path, timeout=30)
        page.raise_for_status()
        # No redirects followed: after a login the hub would send a browser on to /hub/spawn and start
        # a server for everybody, the lecturer included; servers start explicitly (start_server).
        return self.s.post(self.hub.url + path, data={**data, "_xsrf": _xsrf_from(page.text)}, timeout=60,
                           allow_redirects=False)

    def sign_up(self) -> str:
        r = self.form("hub/signup", {"username": self.name, "signup_password": self.password,
                                     "signup_password_confirmation": self.password})
        r.raise_for_status()
        m = re.search(r'class="alert[^"]*"[^>]*>\s*(.*?)\s*</div>', r.text, re.S)
        return re.sub(r"<[^>]+>|\s+", " ", m.group(1)).strip() if m else ""

    def log_in(self, password: str | None = None) -> requests.Response:
        """POST the login form. Logged in = the hub's session cookie is set."""
        return self.form("hub/login", {"username": self.name, "password": password or self.password})

    @property
    def logged_in(self) -> bool:
        return any(c.name.startswith("jupyterhub-session-id") or c.name == "jupyterhub-hub-login"
                   for c in self.s.cookies)

    def hub_xsrf(self) -> str:
        return self.s.cookies.get("_xsrf", path="/hub/") or self.s.cookies.get("_xsrf") or ""

    def api(self, method: str, path: str, **kw) -> requests.Response:
        """The hub's REST API with the browser's cookie (and its _xsrf, as JupyterHub requires)."""
        headers = {"X-XSRFToken": self.hub_xsrf(), "Referer": self.hub.url + "hub/home"}
        return self.s.request(method, self.hub.url + "hub/api/" + path, headers=headers, timeout=60, **kw)

    def approve(self, name: str) -> None:
        """Admin only: NativeAuthenticator's approve link (a toggle, so only for unapproved users)."""
        r = self.s.get(self.hub.url + f"hub/authorize/{name}", timeout=30)
        r.raise_for_status()

    def start_server(self, timeout: float = 300) -> float:
        """Start this student's server and wait until it is ready; returns the seconds it took."""
        t0 = time.monotonic()
        r = self.api("POST", f"users/{self.name}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise HubError(f"starting {self.name}'s server: HTTP {r.status_code} {r.text[:200]}")
        while time.monotonic() - t0 < timeout:
            info = self.api("GET", f"users/{self.name}").json()
            server = (info.get("servers") or {}).get("")
            if server and server.get("ready"):
                break
            if server is None and time.monotonic() - t0 > 5 and not info.get("pending"):
                raise HubError(f"{self.name}'s server stopped while starting; see the hub log")
            time.sleep(0.5)
        else:
            raise HubError(f"{self.name}'s server was not ready within {timeout:.0f} s")
        # Open the server once like a browser: OAuth with the hub, which sets the server's cookie.
        r = self.s.get(self.hub.url + f"user/{self.name}/lab", timeout=60)
        r.raise_for_status()
        return time.monotonic() - t0

    # -- the student's own server --------------------------------------------------------------
    def server_api(self, method: str, path: str, **kw) -> requests.Response:
        base = f"user/{self.name}/"
        xsrf = self.s.cookies.get("_xsrf", path=f"/{base}") or self.s.cookies.get("_xsrf", path="/user/" + self.name) \
            or self.hub_xsrf()
        headers = {"X-XSRFToken": xsrf, "Referer": self.hub.url + base + "lab"}
        return self.s.request(method, self.hub.url + base + "api/" + path, headers=headers, timeout=60, **kw)

    def open_session(self, notebook: str) -> dict:
        """A kernel for ``notebook`` (in the student's copy), as JupyterLab opens one."""
        r = self.server_api("POST", "sessions", json={"path": notebook, "name": notebook, "type": "notebook",
                                                       "kernel": {"name": "python3"}})
        if r.status_code != 201:
            raise HubError(f"{self.name}: opening a kernel for {notebook}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    def close_session(self, session: dict) -> None:
        self.server_api("DELETE", f"sessions/{session['id']}")

    def kernel(self, kernel_id: str) -> Kernel:
        return Kernel(self, kernel_id)


class KernelDied(HubError):
    pass


class ConnectionClosed(KernelDied):
    """The kernel's websocket was closed (by the server, the proxy or the network): the message
    names the close code and reason, e.g. 'connection closed (1006, '')'."""


class Kernel:
    """The kernel's websocket (``/api/kernels/<id>/channels``), authenticated by the browser's cookies.

    Like a browser, it answers the server's websocket pings even while nobody reads from it: Jupyter
    Server pings every 30 s and closes a connection whose pong is 90 s late (issue 31: a kernel left
    idle while a classmate's cell ran for minutes lost its connection, its kernel unharmed). A
    background thread reads (and so answers pings) whenever no cell is running; ``keepalive=False``
    gives the old behaviour, for the test that shows it.
    """

    # JupyterLab keeps waiting for a kernel that is still starting; 8 kernels importing PyTorch at
    # once on 2 cores can take over a minute, so the handshake gets as long as a patient student.
    def __init__(self, student: Student, kernel_id: str, timeout: float = 300, *, keepalive: bool = True):
        u = urlparse(student.hub.url)
        ws = "wss" if u.scheme == "https" else "ws"
        url = f"{ws}://{u.netloc}/user/{student.name}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        cookie = "; ".join(f"{c.name}={c.value}" for c in student.s.cookies)
        sslopt = {"ca_certs": student.s.verify} if isinstance(student.s.verify, str) else None
        self.ws = websocket.create_connection(url, timeout=timeout, header=[f"Cookie: {cookie}"],
                                              origin=f"{u.scheme}://{u.netloc}", sslopt=sslopt)
        self.session = uuid.uuid4().hex
        self.closed_with: str | None = None  # "connection closed (code, reason)" once the server closed it
        self._busy = threading.Lock()
        self._open = True
        if keepalive:
            threading.Thread(target=self._answer_pings, daemon=True).start()

    def _answer_pings(self) -> None:
        while self._open and self.closed_with is None:
            time.sleep(0.5)
            if not self._busy.acquire(blocking=False):
                continue  # a cell is running: execute() reads, and answers pings itself
            try:
                self.ws.settimeout(0.2)
                while self._open:
                    opcode, frame = self.ws.recv_data_frame(True)  # websocket-client pongs a ping here
                    if opcode == websocket.ABNF.OPCODE_CLOSE:
                        self.closed_with = f"connection closed {close_code(frame.data if frame else b'')}"
                        return
                    # anything else between cells: status broadcasts, nothing a later cell waits for
            except websocket.WebSocketTimeoutException:
                pass
            except (websocket.WebSocketConnectionClosedException, OSError) as err:
                if self._open:
                    self.closed_with = f"connection closed (no close frame: {err or type(err).__name__})"
                return
            finally:
                self._busy.release()

    def execute(self, code: str, timeout: float = 1800) -> tuple[str, str | None]:
        """Run ``code``; return (text output, error or None). A kernel that dies mid-cell is an error
        that says so (Jupyter restarts it; the student's notebook shows the same); a closed
        connection raises ConnectionClosed naming the close code and reason."""
        with self._busy:
            return self._execute(code, timeout)

    def _execute(self, code: str, timeout: float) -> tuple[str, str | None]:
        if self.closed_with:
            raise ConnectionClosed(self.closed_with)
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "", "session": self.session, "msg_type": "execute_request",
                       "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out, error, idle, replied = [], None, False, False
        deadline = time.monotonic() + timeout
        self.ws.settimeout(30)
        while not (idle and replied):
            if time.monotonic() > deadline:
                return "".join(out), f"cell did not finish within {timeout:.0f} s"
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError) as err:
                raise ConnectionClosed(f"connection closed (no close frame: {err or type(err).__name__})") from err
            if opcode == websocket.ABNF.OPCODE_CLOSE or (opcode == websocket.ABNF.OPCODE_TEXT and not frame.data):
                raise ConnectionClosed(f"connection closed {close_code(frame.data if frame else b'')}")
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue  # binary frames carry widget buffers; pings and pongs carry nothing for us
            msg = json.loads(frame.data.decode("utf-8"))
            mtype, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content", {})
            if mtype == "status" and content.get("execution_state") in ("restarting", "dead"):
                raise KernelDied(f"the kernel died ({content['execution_state']}) while running a cell: "
                                 "out of memory or killed; Jupyter restarts it")
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if mtype == "stream":
                out.append(content["text"])
            elif mtype in ("execute_result", "display_data"):
                out.append(content.get("data", {}).get("text/plain", "") + "\n")
            elif mtype == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif mtype == "status" and content.get("execution_state") == "idle":
                idle = True
            elif mtype == "execute_reply":
                replied = True
                if content.get("status") == "error" and error is None:
                    error = f"{content.get('ename')}: {content.get('evalue')}"
        return "".join(out), error

    def close(self):
        self._open = False
        try:
            self.ws.close()
        except Exception:  # closing a dead socket is fine
            pass


def close_code(payload: bytes) -> str:
    """'(code, reason)' of a websocket close frame's payload; '(1005, no status)' when it is empty."""
    if len(payload) < 2:
        return "(1005, no status)"
    return f"({int.from_bytes(payload[:2], 'big')}, {payload[2:].decode('utf-8', 'replace')!r})"


def code_cells(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


# ---- the classroom ------------------------------------------------------------------------------
def admit(hub: Hub, names: list[str]) -> tuple[Student, list[Student]]:
    """The lecturer (made at the hub's first start) logs in, students sign up, the lecturer approves
    them, all log in."""
    lecturer = Student(hub, hub.admin, password=hub.admin_password)
    lecturer.log_in()
    if not lecturer.logged_in:
        raise HubError("the lecturer could not log in")
    students = [Student(hub, n) for n in names]
    for st in students:
        st.sign_up()
        lecturer.approve(st.name)
        st.log_in()
        if not st.logged_in:
            raise HubError(f"{st.name} could not log in after approval")
    return lecturer, students


def run_notebooks(student: Student, notebooks: list[Path], extra_cells: list[str], timeout: float,
                  barrier: threading.Barrier | None = None) -> dict:
    result = {"student": student.name, "wall": 0.0, "per_notebook": {}, "stdout": {}, "error": None}
    if barrier is not None:
        barrier.wait()
    t_all = time.monotonic()
    deadline = t_all + timeout
    step = "starting"
    try:
        for nb in notebooks:
            t0 = time.monotonic()
            step = f"{nb.stem}, opening its kernel"
            session = student.open_session(nb.name)
            kernel = student.kernel(session["kernel"]["id"])
            step = nb.stem
            texts = []
            try:
                for i, code in enumerate(code_cells(nb) + list(extra_cells)):
                    text, error = kernel.execute(code, timeout=max(1.0, deadline - time.monotonic()))
                    texts.append(text)
                    if error:
                        raise HubError(f"{nb.stem}, code cell {i + 1}: {error}")
            finally:
                result["stdout"][nb.stem] = "".join(texts)
                result["per_notebook"][nb.stem] = time.monotonic() - t0
                kernel.close()
                student.close_session(session)
    except HubError as err:  # one student's failure is reported, the others go on
        result["error"] = str(err).splitlines()[0]
    except Exception as err:  # a network or kernel failure: say where it happened
        result["error"] = f"{step}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    result["wall"] = time.monotonic() - t_all
    return result


def run_students_through_hub(n: int, notebooks: list[Path], extra_cells: list[str], *,
                             timeout: float = 1800, hub_url: str | None = None) -> list[dict]:
    """N students log in through the hub and run ``notebooks`` (then ``extra_cells`` after each) in
    their own kernels, all at once. Returns one dict per student (see benchmarks/README.md):
    student, wall, per_notebook, stdout, error. Starts (and stops) its own hub unless ``hub_url``
    is given; an existing hub must use the native authenticator, with this module's ``lecturer``
    account either free to sign up or its password in $LENET_HUB_ADMIN_PASSWORD."""
    notebooks = [Path(p) if Path(p).is_absolute() else NOTEBOOKS / Path(p) for p in notebooks]
    for nb in notebooks:
        if not nb.is_file():
            raise FileNotFoundError(f"no notebook {nb}")
    tmp = None
    if hub_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="lenet-hub-")
        hub = start_hub(Path(tmp.name) / "state")
    else:
        u = urlparse(hub_url)
        hub = Hub(hub_url.rstrip("/") + "/", Path(os.devnull), subprocess.Popen(["true"]), Path(os.devnull),
                  u.port or 80, 0, 0, admin_password=os.environ.get("LENET_HUB_ADMIN_PASSWORD", ""))
    try:
        tag = uuid.uuid4().hex[:6]
        _, students = admit(hub, [f"student{i + 1}-{tag}" for i in range(n)])
        # Servers start one after another (as a class arrives), the notebooks run all at once.
        results: list[dict | None] = [None] * n
        errors: dict[int, str] = {}
        for i, st in enumerate(students):
            try:
                st.start_server()
            except Exception as err:
                errors[i] = f"server did not start: {err}"
        runnable = [i for i in range(n) if i not in errors]
        barrier = threading.Barrier(len(runnable)) if runnable else None

        def work(i):
            results[i] = run_notebooks(students[i], notebooks, extra_cells, timeout, barrier)

        threads = [threading.Thread(target=work, args=(i,)) for i in runnable]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        state = str(hub.state.resolve())
        for i in runnable:  # each student's server + kernels, from their own cgroup (None: no limit)
            peak = _limits().peak_memory(state, students[i].name)
            results[i]["cgroup_peak_mb"] = round(peak / 2**20) if peak else None
        for i, err in errors.items():
            results[i] = {"student": students[i].name, "wall": 0.0, "per_notebook": {}, "stdout": {}, "error": err}
        return results  # type: ignore[return-value]
    finally:
        if tmp is not None:
            stop_hub(hub, everything=True)
            tmp.cleanup()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=2)
    p.add_argument("--notebooks", nargs="+", default=["03_training", "05_predict_panel"])
    p.add_argument("--hub-url", default=None, help="an already running hub (default: start one)")
    p.add_argument("--timeout", type=float, default=1800)
    args = p.parse_args(argv)
    if args.students < 1:
        print("error: --students must be at least 1", file=sys.stderr)
        return 2
    nbs = [NOTEBOOKS / (n if n.endswith(".ipynb") else n + ".ipynb") for n in args.notebooks]
    try:
        results = run_students_through_hub(args.students, nbs, [], timeout=args.timeout, hub_url=args.hub_url)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    for r in results:
        acc = re.findall(r"(\d{2}\.\d+)\s*%", " ".join(r["stdout"].values()))
        times = ", ".join(f"{k} {v:.1f} s" for k, v in r["per_notebook"].items())
        print(f"{r['student']}: wall {r['wall']:.1f} s ({times}); percentages seen: {acc[-3:]}; "
              f"error: {r['error']}")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
