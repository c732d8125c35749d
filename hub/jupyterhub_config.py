"""JupyterHub for a class on one machine (``make hub``; hub/README.md explains every choice).

Everything is driven by environment variables that ``hub/launch.py`` sets, so one file serves the
lecturer's ``make hub`` and the tests (which start a hub on a free port in a temporary folder):

  LENET_HUB_STATE     folder for everything the hub stores: its user DB, cookie secret, students'
                      homes (students/<name>/), the class's shared-digit DB (class/). Never reset.
  LENET_HUB_IP/PORT   where the proxy listens (127.0.0.1:8000 by default).
  LENET_HUB_API_PORT  the hub's own port behind the proxy (loopback only).
  LENET_HUB_PROXY_API_PORT  the proxy's REST API port (loopback only).
  LENET_HUB_ADMIN     the lecturer's user name (admin: sees and stops students' servers).
  LENET_HUB_AUTH      "native" (default: students sign up, the lecturer approves) or "shared"
                      (one workshop password, LENET_HUB_PASSWORD, for everybody).
  LENET_HUB_MEM       memory limit per student, e.g. "2G" (from issue 11's measurements).
  LENET_HUB_CPUS      CPU limit per student, e.g. "1.0".
  LENET_HUB_CULL_IDLE seconds of inactivity after which a student's server is stopped (3600).
  LENET_HUB_SSL_CERT / LENET_HUB_SSL_KEY   TLS for the proxy (needed when listening on a network).
  LENET_DATA_ROOT     the prepared data root whose MNIST/ every student shares (read-only use).

Students run as the hub's own Unix user (there are no per-student system accounts here); each one
gets a home folder of their own under the state folder, with their own copy of notebooks/.
That is isolation of *files by convention*, not a security boundary: a student's code could read
another student's folder. hub/README.md says so, and what to use when that matters (z2jh).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import default

c = get_config()  # noqa: F821 - JupyterHub provides get_config() when it loads this file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STATE = Path(os.environ.get("LENET_HUB_STATE", HERE / "state")).resolve()
NOTEBOOKS = REPO / "notebooks"
DATA_ROOT = Path(os.environ.get("LENET_DATA_ROOT", REPO / "data")).resolve()
ADMIN = os.environ.get("LENET_HUB_ADMIN", "lecturer")
STUDENTS = STATE / "students"

sys.path.insert(0, str(HERE))  # limits.py lives next to this file; JupyterHub does not add it
import limits  # noqa: E402

# ---- where the hub stores things (all under the state folder, never reset) -------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
# An old hub's servers are picked up again after a restart instead of being stopped: students'
# kernels and unsaved work survive ``make hub`` being stopped and started (see hub/README.md).
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = False

# ---- network: loopback by default, a network only with TLS ------------------------------------
c.JupyterHub.ip = os.environ.get("LENET_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("LENET_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("LENET_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('LENET_HUB_PROXY_API_PORT', '8001')}"
if os.environ.get("LENET_HUB_SSL_CERT"):
    c.JupyterHub.ssl_cert = os.environ["LENET_HUB_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["LENET_HUB_SSL_KEY"]
# The proxy comes from hub/proxy/node_modules (npm install --prefix hub/proxy), never a global one.
c.ConfigurableHTTPProxy.command = [str(HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")]
# The proxy keeps running when the hub stops, so routes to students' servers survive a restart.
c.ConfigurableHTTPProxy.should_start = True
# The hub and a proxy left running from before a restart must share a token: kept in the state folder.
_token = STATE / "proxy_auth_token"
if not _token.is_file():
    import secrets

    STATE.mkdir(parents=True, exist_ok=True)
    _token.write_text(secrets.token_hex(32))
    _token.chmod(0o600)
c.ConfigurableHTTPProxy.auth_token = _token.read_text().strip()

# ---- who may log in ----------------------------------------------------------------------------
c.Authenticator.admin_users = {ADMIN}
if os.environ.get("LENET_HUB_AUTH", "native") == "shared":
    # Workshop mode: any name with the one shared password (JupyterHub's own SharedPasswordAuthenticator).
    # The lecturer logs in with a separate admin password (32+ characters) kept in the state folder.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["LENET_HUB_PASSWORD"]
    c.SharedPasswordAuthenticator.admin_password = (STATE / "admin_password").read_text().strip()
    c.Authenticator.allow_all = True
else:
    # Term mode: students sign up at /hub/signup; the lecturer approves each at /hub/authorize.
    c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
    c.NativeAuthenticator.open_signup = False          # approval by the lecturer
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 10   # then a short lock-out against guessing
    c.NativeAuthenticator.seconds_before_next_try = 60
    c.Authenticator.allow_all = True                   # approval is NativeAuthenticator's job
    c.JupyterHub.template_paths = [str(Path(__import__("nativeauthenticator").__file__).parent / "templates")]

# ---- each student's server ---------------------------------------------------------------------


class ClassroomSpawner(SimpleLocalProcessSpawner):
    """A student's JupyterLab as a local process of the hub's own user, in the student's own folder.

    On the first spawn the course's notebooks/ are copied into ``<state>/students/<name>/notebooks``;
    later spawns never copy again, so a student's edits are never overwritten and never reach the
    repository or another student. MNIST is shared: each student's data root links to the one
    prepared ``data/MNIST`` (memory-mapped by every kernel, so the page cache holds one copy),
    while their checkpoints and runs stay in their own folder.
    """

    @default("home_dir_template")
    def _home_template(self):
        return str(STUDENTS / "{username}")

    def prepare_home(self) -> Path:
        home = Path(self.home_dir)
        home.mkdir(parents=True, exist_ok=True)
        course = home / "notebooks"
        if not course.exists():  # first spawn only: the student's copy is theirs from now on
            tmp = home / ".notebooks-copying"
            shutil.rmtree(tmp, ignore_errors=True)  # a half copy from a crash, never the student's files
            shutil.copytree(NOTEBOOKS, tmp, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            tmp.rename(course)  # atomic: the student sees the whole course or none
        data = home / "lenet-data"
        data.mkdir(exist_ok=True)
        mnist = data / "MNIST"
        if not mnist.exists() and not mnist.is_symlink():
            mnist.symlink_to(DATA_ROOT / "MNIST", target_is_directory=True)
        # Every kernel of this student runs it at start: after an out-of-memory kill, the first cell
        # they run says why (hub/kernel_note.py). Rewritten on each spawn: the hub owns this file.
        startup = home / ".ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "kernel_note.py", startup / "00-lenet-kernel-note.py")
        return home

    async def start(self):
        home = self.prepare_home()
        self.notebook_dir = str(home / "notebooks")
        self.default_url = "/lab/tree/01_mnist_data.ipynb"
        return await super().start()

    async def stop(self, now=False):
        await super().stop(now=now)
        limits.ProcessLimits.remove_for_student(self.user.name)

    def make_preexec_fn(self, name):
        base = super().make_preexec_fn(name)
        limit = limits.ProcessLimits.for_student(name)

        def preexec():
            base()
            limit.apply_in_child()  # memory/CPU cgroup where the machine lets us (limits.py)

        return preexec

    def user_env(self, env):
        env = super().user_env(env)
        home = Path(self.home_dir)
        env["LENET_DATA_DIR"] = str(home / "lenet-data")              # own checkpoints, shared MNIST
        env["LENET_CLASS_DB"] = str(STATE / "class" / "class.sqlite")   # the class's shared digits
        env["JUPYTER_CONFIG_DIR"] = str(home / ".jupyter")
        env["JUPYTER_DATA_DIR"] = str(home / ".local" / "share" / "jupyter")
        env["JUPYTER_RUNTIME_DIR"] = str(home / ".local" / "share" / "jupyter" / "runtime")
        env["IPYTHONDIR"] = str(home / ".ipython")
        env["MPLCONFIGDIR"] = str(home / ".config" / "matplotlib")
        if os.environ.get("LENET_MNIST_DIR"):
            env["LENET_MNIST_DIR"] = os.environ["LENET_MNIST_DIR"]
        if limits.CPUS:
            # Only with an explicit CPU limit: otherwise the package's own thread policy decides.
            env["LENET_HUB_CPU_LIMIT"] = str(limits.CPUS)
        return env


(STATE / "class").mkdir(parents=True, exist_ok=True)
c.JupyterHub.spawner_class = ClassroomSpawner
# The single-user server of this venv (jupyterhub-singleuser), running JupyterLab.
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.args = ["--ServerApp.terminals_enabled=True",
                  # a kernel that dies (killed, out of memory) is restarted; its notebook says so
                  "--KernelManager.autorestart=True"]
c.Spawner.args += json.loads(os.environ.get("LENET_HUB_SINGLEUSER_ARGS", "[]"))
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # classroom VMs and containers often run as root
c.Spawner.start_timeout = 180     # a cold JupyterLab on a busy 2-core machine: 5-60 s
c.Spawner.http_timeout = 180
c.Spawner.mem_limit = limits.MEM_TEXT or None      # shown to the student (JupyterLab resource use)
c.Spawner.cpu_limit = float(limits.CPUS) if limits.CPUS else None
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "LENET_MNIST_DIR", "OMP_NUM_THREADS"]

# ---- idle culling (jupyterhub-idle-culler as a hub-managed service) ----------------------------
CULL_IDLE = int(os.environ.get("LENET_HUB_CULL_IDLE", "3600"))
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_IDLE}",
                f"--cull-every={max(30, min(300, CULL_IDLE // 4))}"],
}]

# ---- the lecturer ------------------------------------------------------------------------------
# Admins see every student's server on /hub/admin and can start, stop or open them.
c.JupyterHub.shutdown_on_logout = False
c.JupyterHub.log_level = os.environ.get("LENET_HUB_LOG_LEVEL", "INFO")
