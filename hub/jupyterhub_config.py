"""JupyterHub for a class on one machine (``make hub``; hub/README.md explains every choice).

Everything is driven by environment variables that ``hub/launch.py`` sets, so one file serves the
lecturer's ``make hub`` and the tests (which start a hub on free ports in a temporary folder):

  LENET_HUB_STATE     folder for what only the hub may read (mode 0700, files 0600): its user DB,
                      cookie secret, proxy token, the workshop and admin passwords. Never reset.
  LENET_HUB_MODE      "accounts" (the hub runs as root: one system account per student, servers
                      from the root-owned runtime, hub/runtime.py) or "shared-account" (no root:
                      every student runs as the hub's own user; a trusted group only).
  LENET_HUB_RUNTIME   the students' runtime (venv, MNIST, course, kernel note), /opt/lenet-hub.
  LENET_HUB_EXCHANGE  nbgrader's exchange for the term's assignments (/srv/nbgrader/exchange; hub/term.py).
  LENET_HUB_COURSE    the folder handed out to students (default <runtime>/course/notebooks; the
                      solutions in it are never handed out). Every account must be able to read it.
  LENET_HUB_ACCOUNT_PREFIX / LENET_HUB_HOMES   accounts are <prefix><name> ("jupyter-"), homes in /home.
  LENET_HUB_CLASS_DIR the class gallery's folder, the gallery service's alone (hub/class_db.py).
  LENET_HUB_GALLERY_ACCOUNT  the gallery service's system account as root ("lenet-gallery").
  LENET_HUB_IP/PORT   where the proxy listens (127.0.0.1:8000 by default).
  LENET_HUB_API_PORT  the hub's own port behind the proxy (loopback only).
  LENET_HUB_PROXY_API_PORT  the proxy's REST API port (loopback only).
  LENET_HUB_ADMIN     the lecturer's user name (admin: sees and stops students' servers).
  LENET_HUB_AUTH      "native" (default: the lecturer's account made by launch.py, students sign up
                      or come from a roster, the lecturer approves) or "shared" (one workshop password).
  LENET_HUB_TERMINALS "1": students get terminals too (off by default; the lecturer always has them).
  LENET_HUB_MEM       memory limit per student, e.g. "2G" (from issue 11's measurements).
  LENET_HUB_CPUS      CPU limit per student, e.g. "1.0".
  LENET_HUB_CULL_IDLE seconds of inactivity after which a student's server is stopped (3600).
  LENET_HUB_SSL_CERT / LENET_HUB_SSL_KEY   TLS for the proxy (needed when listening on a network).
  LENET_DATA_ROOT     the prepared data root whose MNIST/ students share in shared-account mode.

No secret travels in an environment variable: passwords are read from files in the state folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid
from nativeauthenticator import NativeAuthenticator
from traitlets import default

c = get_config()  # noqa: F821 - JupyterHub provides get_config() when it loads this file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STATE = Path(os.environ.get("LENET_HUB_STATE", HERE / "state")).resolve()
MODE = os.environ.get("LENET_HUB_MODE", "accounts" if os.geteuid() == 0 else "shared-account")
RUNTIME = Path(os.environ.get("LENET_HUB_RUNTIME", "/opt/lenet-hub"))
DATA_ROOT = Path(os.environ.get("LENET_DATA_ROOT", REPO / "data")).resolve()
ADMIN = os.environ.get("LENET_HUB_ADMIN", "lecturer")
TERMINALS = os.environ.get("LENET_HUB_TERMINALS", "") == "1"
STUDENTS = STATE / "students"   # homes in shared-account mode only
COURSE = Path(os.environ.get("LENET_HUB_COURSE") or RUNTIME / "course" / "notebooks")

sys.path.insert(0, str(HERE))  # limits.py and accounts.py live next to this file; JupyterHub does not add it
import accounts  # noqa: E402
import class_db  # noqa: E402
import handout  # noqa: E402
import limits  # noqa: E402
import sandbox  # noqa: E402
import term  # noqa: E402

if MODE == "accounts" and os.geteuid() != 0:
    raise SystemExit("error: LENET_HUB_MODE=accounts needs root (it creates one system account per student)")
GALLERY = class_db.service(STATE, MODE, RUNTIME, sys.executable, HERE)  # the class DB's one owner
if MODE == "accounts":  # nbgrader's exchange for the term's assignments (hub/term.py)
    term.ensure_exchange(term.EXCHANGE)
if MODE == "shared-account":  # in the hub's own log too, not only in the launcher's start-up text
    print("[lenet hub] shared-account mode (no root): every student's server runs as this hub's own user; "
          "students can read and change each other's files, share /tmp and can fill the disk (no private "
          "/tmp, no disk limit). For a class, run the hub as root (hub/README.md).",
          file=sys.stderr, flush=True)
    SANDBOX_PROBLEM = "shared-account mode"
else:
    SANDBOX_PROBLEM = sandbox.available()
    if SANDBOX_PROBLEM:
        print(f"[lenet hub] WARNING: students share /tmp and the disk, with no limit ({SANDBOX_PROBLEM})",
              file=sys.stderr, flush=True)
    else:
        print(f"[lenet hub] each student: own /tmp, /var/tmp, /dev/shm ({sandbox.TMP_TEXT or 'shared: no'} "
              f"tmpfs, counted in their memory limit), home of {sandbox.DISK_TEXT or 'unlimited size'}",
              file=sys.stderr, flush=True)

# ---- where the hub stores things (all under the state folder, only the hub can read it) ------------
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
# The hub and a proxy left running from before a restart share a token, kept in the state folder
# (launch.py made it, mode 0600). JupyterHub hands it to the proxy in the proxy's environment, which
# only root (the hub's user) can read.
c.ConfigurableHTTPProxy.auth_token = (STATE / "proxy_auth_token").read_text().strip()


def _secret(name: str) -> str:
    return (STATE / name).read_text().strip()


# ---- who may log in ----------------------------------------------------------------------------
# One name rule for every authenticator (accounts.NAME_PATTERN), checked on the lower-cased name
# before any admin check, route, folder, account or cgroup is made from it.
c.Authenticator.username_pattern = accounts.NAME_PATTERN
c.Authenticator.admin_users = {ADMIN}


class ClassSharedPassword(SharedPasswordAuthenticator):
    """Workshop mode: any valid name with the workshop password; the lecturer's name only with the
    admin password. The name is normalised and checked *first*, so ``LECTURER`` is ``lecturer`` and
    needs the admin password, and ``..`` or ``a/b`` never reach JupyterHub's routes."""

    def validate_username(self, username):
        try:
            accounts.check_name(username)
        except accounts.UnsafeName:
            return False
        return super().validate_username(username)

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        if not self.validate_username(name):
            return None
        return await super().authenticate(handler, dict(data, username=name))


class ClassNativeAuthenticator(NativeAuthenticator):
    """Term mode: NativeAuthenticator, with the lecturer's account and the roster made by the
    lecturer (launch.py leaves them in the state folder as bcrypt hashes) and nobody able to sign up
    under the admin's name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._take_pending_accounts()

    def validate_username(self, username):
        try:
            accounts.check_name(username)
        except accounts.UnsafeName:
            return False
        return super().validate_username(username)

    def create_user(self, username, password, **kwargs):
        if self.normalize_username(username) in self.admin_users:
            return None  # the lecturer's account is made by `make hub`, never by a sign-up
        return super().create_user(username, password, **kwargs)

    def _take_pending_accounts(self):
        """Accounts launch.py prepared (the lecturer at the first start, a roster): made approved,
        then the file is removed. A name that exists already keeps its password."""
        from nativeauthenticator.orm import UserInfo

        pending = STATE / "pending_accounts.json"
        if not pending.is_file():
            return
        for entry in json.loads(pending.read_text()):
            name = self.normalize_username(entry["name"])
            if not self.validate_username(name) or self.user_exists(name):
                continue
            self.db.add(UserInfo(username=name, password=entry["bcrypt"].encode(), is_authorized=True))
        self.db.commit()
        pending.unlink()


if os.environ.get("LENET_HUB_AUTH", "native") == "shared":
    c.JupyterHub.authenticator_class = ClassSharedPassword
    c.SharedPasswordAuthenticator.user_password = _secret("workshop_password")
    c.SharedPasswordAuthenticator.admin_password = _secret("admin_password")
    c.Authenticator.allow_all = True
else:
    c.JupyterHub.authenticator_class = ClassNativeAuthenticator
    c.NativeAuthenticator.open_signup = False          # approval by the lecturer
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 10   # then a short lock-out against guessing
    c.NativeAuthenticator.seconds_before_next_try = 60
    c.Authenticator.allow_all = True                   # approval is NativeAuthenticator's job
    c.JupyterHub.template_paths = [str(Path(__import__("nativeauthenticator").__file__).parent / "templates")]


# ---- each student's server ---------------------------------------------------------------------
def _hand_out(home: Path, course: Path, note: Path, mnist: Path) -> list[Path]:
    """The student's data root linking the shared MNIST (first start) and the kernel note (rewritten
    on each start). Returns what was made, to give to the student. The course itself: _course_handout."""
    made = []
    data = home / "lenet-data"
    if not data.exists():
        data.mkdir()
        made.append(data)
    link = data / "MNIST"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(mnist, target_is_directory=True)
        made.append(link)
    # Every kernel of this student runs it at start: after an out-of-memory kill, the first cell
    # they run says why (hub/kernel_note.py).
    startup = home / ".ipython" / "profile_default" / "startup"
    if not startup.is_dir():
        startup.mkdir(parents=True)
        made.append(home / ".ipython")
    target = startup / "00-lenet-kernel-note.py"
    if target.is_symlink() or (target.exists() and not target.is_file()):
        target.unlink()
    shutil.copyfile(note, target)
    made.append(target)
    return made


async def _course_handout(spawner, home: Path, account=None) -> str:
    """The course into ``home/notebooks`` (hub/handout.py: first hand-out, then updates merged in on
    every start), run as the student (``account``, a pwd entry) when the hub is root; then the
    lessons whose solutions the lecturer released (``hub/launch.py release-solutions``), as root.
    Returns the page the student's lab opens on: UPDATES.md when something changed."""
    import asyncio

    if account is None:  # shared-account mode: the hub's own user is the student's
        outcome = handout.merge(REPO / "notebooks", home)
        solutions = REPO / "notebooks"
    else:
        proc = await asyncio.create_subprocess_exec(
            *handout.command(str(RUNTIME / "venv" / "bin" / "python"), COURSE, home),
            user=account.pw_uid, group=account.pw_gid, extra_groups=[], cwd=str(home),
            env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"handing out the course to {spawner.user.name} failed: "
                               f"{err.decode(errors='replace').strip().splitlines()[-1:]}")
        outcome = handout.result_from(out)
        solutions = RUNTIME / "solutions"
    got = handout.install_solutions(home / "notebooks", handout.solution_files(solutions, handout.released(STATE)))
    spawner.log.info("hand-out for %s: added %d, updated %s, kept %s (new version beside), restored %s, "
                     "removed %s, solutions %s", spawner.user.name, len(outcome.added), outcome.updated,
                     outcome.kept, outcome.restored, outcome.removed, got)
    return f"/lab/tree/{handout.UPDATES}" if outcome.news else "/lab/tree/01_mnist_data.ipynb"


def _class_env(env: dict, home: Path) -> dict:
    env["LENET_DATA_DIR"] = str(home / "lenet-data")              # own checkpoints, shared MNIST
    env["LENET_CLASS_SERVICE"] = GALLERY["url"] + f"/services/{class_db.NAME}/"   # the class gallery
    env["JUPYTER_CONFIG_DIR"] = str(home / ".jupyter")
    env["JUPYTER_DATA_DIR"] = str(home / ".local" / "share" / "jupyter")
    env["JUPYTER_RUNTIME_DIR"] = str(home / ".local" / "share" / "jupyter" / "runtime")
    env["IPYTHONDIR"] = str(home / ".ipython")
    env["MPLCONFIGDIR"] = str(home / ".config" / "matplotlib")
    env.pop("LENET_MNIST_DIR", None)  # students read the one prepared copy, never a source folder
    env["LENET_NBGRADER_EXCHANGE"] = str(term.EXCHANGE)           # the runtime's nbgrader_config.py reads it
    if limits.CPUS:
        # Only with an explicit CPU limit: otherwise the package's own thread policy decides.
        env["LENET_HUB_CPU_LIMIT"] = str(limits.CPUS)
    return env


def _server_args(spawner) -> list[str]:
    terminals = TERMINALS or spawner.user.admin
    return [f"--ServerApp.terminals_enabled={terminals}",
            # a kernel that dies (killed, out of memory) is restarted; its notebook says so
            "--KernelManager.autorestart=True",
            *json.loads(os.environ.get("LENET_HUB_SINGLEUSER_ARGS", "[]"))]


class ClassServerMixin:
    """What both spawners share around their own set-up: where the student's JupyterLab opens, its
    options, and the student's cgroups removed once the server stopped."""

    async def start_in(self, home: Path, default_url: str):
        """Start the student's server with ``home/notebooks`` as its folder (after the set-up), opening
        ``default_url`` (the first lesson, or UPDATES.md when the hand-out changed something)."""
        self.notebook_dir = str(home / "notebooks")
        self.default_url = default_url
        self.args = _server_args(self)
        return await super().start()

    async def stop(self, now=False):
        await super().stop(now=now)
        limits.ProcessLimits.remove_for_student(self.user.name)


class AccountSpawner(ClassServerMixin, LocalProcessSpawner):
    """A student's JupyterLab as their own system account (``jupyter-<name>``), from the root-owned
    runtime, in their own home (mode 0700), inside their own memory/CPU cgroup.

    On the first spawn the account is created and the course (without solutions) handed out into
    ``~/notebooks``; later spawns merge the course's changes in (hub/handout.py): a file the student
    has not touched is updated, an edited one is kept with the new version beside it, so a student's
    edits are never overwritten and never reach the repository or another student. MNIST is shared
    read-only from the runtime (memory-mapped by every kernel, one copy in the page cache),
    checkpoints and runs stay in the student's home.
    """

    @property
    def account(self) -> str:
        return accounts.account_name(self.user.name)

    async def start(self):
        entry = accounts.ensure_account(self.user.name)
        home = Path(entry.pw_dir)
        if not SANDBOX_PROBLEM:
            self.log.info("%s: %s", self.user.name, sandbox.mount_home(self.account, home, entry.pw_uid,
                                                                        entry.pw_gid))
        made = _hand_out(home, RUNTIME / "course" / "notebooks", RUNTIME / "kernel_note.py", RUNTIME / "data" / "MNIST")
        for path in made:
            accounts.chown_tree(path, entry.pw_uid, entry.pw_gid)
        url = await _course_handout(self, home, entry)
        self.cmd = [str(RUNTIME / "venv" / "bin" / "jupyterhub-singleuser")]
        return await self.start_in(home, url)

    def make_preexec_fn(self, name):
        limit = limits.ProcessLimits.for_student(self.user.name)
        tmp = sandbox.PrivateTmp(None if SANDBOX_PROBLEM else sandbox.TMP)
        become = set_user_setuid(self.account)

        def preexec():
            limit.apply_in_child()  # join the student's cgroup while still root: afterwards it cannot
            tmp.enter_in_child()    # own mount namespace, own /tmp (hub/sandbox.py); still root
            become()

        return preexec

    def user_env(self, env):
        import pwd

        entry = pwd.getpwnam(self.account)
        env["USER"] = env["LOGNAME"] = self.account
        env["HOME"] = entry.pw_dir
        env["SHELL"] = "/bin/bash" if TERMINALS else entry.pw_shell
        env["PATH"] = f"{RUNTIME / 'venv' / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin"
        env.pop("VIRTUAL_ENV", None)
        return _class_env(env, Path(entry.pw_dir))


class SharedAccountSpawner(ClassServerMixin, SimpleLocalProcessSpawner):
    """Without root: every student's server runs as the hub's own user, in ``<state>/students/<name>``.
    Files are separated by folder, not by permissions: a trusted group only (launch.py says so)."""

    @default("home_dir_template")
    def _home_template(self):
        return str(STUDENTS / "{username}")

    async def start(self):
        home = Path(self.home_dir)
        home.mkdir(parents=True, exist_ok=True)
        _hand_out(home, REPO / "notebooks", HERE / "kernel_note.py", DATA_ROOT / "MNIST")
        return await self.start_in(home, await _course_handout(self, home))

    def make_preexec_fn(self, name):
        base = super().make_preexec_fn(name)
        limit = limits.ProcessLimits.for_student(self.user.name)

        def preexec():
            base()
            limit.apply_in_child()

        return preexec

    def user_env(self, env):
        return _class_env(super().user_env(env), Path(self.home_dir))


if MODE == "accounts":
    c.JupyterHub.spawner_class = AccountSpawner
    c.Spawner.env_keep = ["LANG", "LC_ALL"]
else:
    c.JupyterHub.spawner_class = SharedAccountSpawner
    c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
    c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "OMP_NUM_THREADS"]
c.Spawner.start_timeout = 180     # a cold JupyterLab on a busy 2-core machine: 5-60 s
c.Spawner.http_timeout = 180
c.Spawner.mem_limit = limits.MEM_TEXT or None      # shown to the student (JupyterLab resource use)
c.Spawner.cpu_limit = float(limits.CPUS) if limits.CPUS else None

# ---- idle culling (jupyterhub-idle-culler as a hub-managed service) ----------------------------
CULL_IDLE = int(os.environ.get("LENET_HUB_CULL_IDLE", "3600"))
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}, *class_db.roles()]  # every student (and their server's token) may use the gallery service
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_IDLE}",
                f"--cull-every={max(30, min(300, CULL_IDLE // 4))}"],
}, GALLERY]  # the class gallery (hub/gallery_service.py): the one process that opens the class's SQLite file

# ---- the lecturer ------------------------------------------------------------------------------
# Admins see every student's server on /hub/admin and can start, stop or open them.
c.JupyterHub.shutdown_on_logout = False
c.JupyterHub.log_level = os.environ.get("LENET_HUB_LOG_LEVEL", "INFO")
