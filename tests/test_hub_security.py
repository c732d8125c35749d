"""The class hub, attacked by a student: two students logged in through the login page, student A's
code running in A's own kernel, reached through A's own server as A's browser would. Every attempt
must fail, and each test asserts it failed for the right reason (EACCES/EPERM from the kernel, 403
or 404 from the hub), not by accident. hub/README.md has the table (attempt, before, after).

Runs as root (as CI does): the hub makes one system account per student (throw-away 'lt....-'
names, removed afterwards with their homes). One hub is shared by the module's tests.
A missing proxy, runtime or MNIST is a FAILURE, never a skip.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "hub"))
from hub_load import KernelDied, Student, admit, server_pid, start_hub, stop_hub  # noqa: E402
from hub_prereqs import require_hub  # noqa: E402

pytestmark = pytest.mark.slow
STATE_PARENT = Path("/var/lib/lenet-hub")
TMP_MB, DISK_MB = 64, 128  # each student's /tmp (tmpfs) and home (own file system) in this module's hub
HELPER = """
import errno as _errno, json as _json, os as _os
def _try(f):
    try:
        value = f()
        return {"ok": True, "value": repr(value)[:300]}
    except OSError as e:
        return {"ok": False, "errno": _errno.errorcode.get(e.errno, str(e.errno)), "error": str(e)[:300]}
"""


@pytest.fixture(scope="module")
def prerequisites(mnist_ready):
    require_hub("the attack suite (the shared-account path has its own tests)")


@pytest.fixture(scope="module")
def hub(tmp_path_factory, prerequisites):
    """The hub's state where a real hub's is, on the machine's disk (not in /tmp, which students no
    longer see: hub/sandbox.py), below a folder every account may pass: the state's own mode 0700 is
    what refuses A, not a parent folder."""
    import shutil
    import tempfile

    STATE_PARENT.mkdir(parents=True, exist_ok=True)
    STATE_PARENT.chmod(0o755)
    base = Path(tempfile.mkdtemp(prefix="test-hubsec-", dir=STATE_PARENT))
    base.chmod(0o755)
    h = start_hub(base / "state", extra=("--tmp", f"{TMP_MB}M", "--disk", f"{DISK_MB}M"))
    try:
        yield h
    finally:
        stop_hub(h, everything=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def room(hub):
    """The lecturer, A and B logged in; A's and B's servers running; a kernel each."""
    lecturer, (a, b) = admit(hub, ["alice", "bob"])
    for st in (a, b):
        st.start_server()
    sa, sb = a.open_session("01_mnist_data.ipynb"), b.open_session("01_mnist_data.ipynb")
    ka, kb = a.kernel(sa["kernel"]["id"]), b.kernel(sb["kernel"]["id"])
    out, err = ka.execute(HELPER)
    assert err is None, err
    out, err = kb.execute("import os; kept = 'bob was here'; print(os.getpid())")
    assert err is None, err
    room = {"lecturer": lecturer, "a": a, "b": b, "ka": ka, "kb": kb, "b_kernel_pid": int(out.strip()),
            "sessions": [(a, sa), (b, sb)]}
    yield room
    for k in (room["ka"], room["kb"]):
        k.close()


def attempt(room, expr: str) -> dict:
    """Run ``expr`` in A's kernel inside _try(lambda: ...); the outcome as a dict."""
    out, err = room["ka"].execute(f"print(_json.dumps(_try(lambda: {expr})))")
    assert err is None, err
    return json.loads(out.strip().splitlines()[-1])


def refused(result: dict, *codes: str) -> None:
    assert not result["ok"], f"the attack succeeded: {result}"
    assert result["errno"] in codes, f"failed, but for another reason than {codes}: {result}"


# ---- who A is ---------------------------------------------------------------------------------------
def test_a_students_kernel_is_their_own_account_without_root_or_sudo(hub, room):
    out, err = room["ka"].execute(
        "import os, pwd, shutil, subprocess\n"
        "print(os.getuid(), os.geteuid(), pwd.getpwuid(os.getuid()).pw_name)\n"
        "s = shutil.which('sudo') or '/usr/bin/sudo'\n"
        "try:\n    r = subprocess.run([s, '-n', 'true'], capture_output=True); print('sudo', r.returncode)\n"
        "except OSError as e:\n    print('sudo', e.errno)")
    assert err is None, err
    uid, euid, name = out.splitlines()[0].split()
    assert int(uid) != 0 and int(euid) != 0 and name == hub.prefix + "alice"
    sudo = out.splitlines()[1].split()[1]
    assert sudo == str(errno.ENOENT) or sudo != "0", out  # no sudo here; where installed, refused


# ---- the hub's secrets ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["jupyterhub_cookie_secret", "proxy_auth_token", "jupyterhub.sqlite"])
def test_a_cannot_read_the_hubs_secrets(hub, room, name):
    assert (hub.state / name).is_file()
    assert oct((hub.state / name).stat().st_mode)[-3:] == "600" and (hub.state / name).stat().st_uid == 0
    refused(attempt(room, f"open({str(hub.state / name)!r}, 'rb').read()"), "EACCES")


def test_the_state_folder_is_the_hubs_alone(hub, room):
    assert oct(hub.state.stat().st_mode)[-3:] == "700"
    refused(attempt(room, f"os.listdir({str(hub.state)!r})"), "EACCES")
    assert not (hub.state / "pending_accounts.json").exists()  # the lecturer's hash, consumed at start


def test_a_cannot_read_secrets_from_the_hubs_proxys_or_cullers_environment(hub, room):
    import psutil

    hub_pid = hub.process.pid
    proxy_pid = int((hub.state / "jupyterhub-proxy.pid").read_text())
    culler = [p.pid for p in psutil.Process(hub_pid).children() if "jupyterhub_idle_culler" in " ".join(p.cmdline())]
    assert culler, "the idle culler is not running"
    for pid in (hub_pid, proxy_pid, culler[0], server_pid(hub, "bob")):
        refused(attempt(room, f"open('/proc/{pid}/environ', 'rb').read()"), "EACCES")


def test_no_secret_on_any_command_line(hub, room):
    """/proc/*/cmdline is world-readable: no password, token or TLS key path may sit there."""
    out, err = room["ka"].execute(
        "import glob\nparts = []\n"
        "for f in glob.glob('/proc/[0-9]*/cmdline'):\n"
        "    try:\n        parts.append(open(f, 'rb').read())\n    except OSError:\n        pass\n"
        "print(len(parts)); blob = b'\\n'.join(parts)")
    assert err is None and int(out.strip()) > 5
    secrets = [hub.admin_password, (hub.state / "proxy_auth_token").read_text().strip(),
               (hub.state / "jupyterhub_cookie_secret").read_bytes().hex()[:16]]
    for s in secrets:
        out, err = room["ka"].execute(f"print({s!r}.encode() in blob)")
        assert out.strip() == "False", "a secret is readable on a command line"


# ---- B's files -------------------------------------------------------------------------------------
def test_a_cannot_read_or_write_bs_home_notebooks_checkpoints_or_startup(hub, room):
    home = hub.home("bob")
    assert oct(home.stat().st_mode)[-3:] == "700"
    refused(attempt(room, f"os.listdir({str(home)!r})"), "EACCES")
    refused(attempt(room, f"open({str(home / 'notebooks' / '01_mnist_data.ipynb')!r}).read()"), "EACCES")
    refused(attempt(room, f"open({str(home / 'notebooks' / '01_mnist_data.ipynb')!r}, 'a').write('x')"), "EACCES")
    refused(attempt(room, f"os.makedirs({str(home / 'lenet-data' / 'checkpoints')!r}, exist_ok=True)"), "EACCES")
    startup = home / ".ipython" / "profile_default" / "startup" / "99-planted.py"
    refused(attempt(room, f"open({str(startup)!r}, 'w').write('print(1)')"), "EACCES")
    assert not startup.exists()


def test_a_cannot_change_the_code_every_kernel_runs(hub, room):
    out, err = room["ka"].execute("import lenet_utils, sys; print(lenet_utils.__file__); print(sys.executable)")
    pkg, python = out.split()
    assert pkg == "/opt/lenet-hub/course/lenet_utils/__init__.py"  # the runtime's snapshot, not the repository
    refused(attempt(room, f"open({pkg!r}, 'a').write('# planted')"), "EACCES")
    refused(attempt(room, f"open({str(Path(pkg).parent / 'planted.py')!r}, 'w')"), "EACCES")
    refused(attempt(room, "open('/opt/lenet-hub/venv/lib/python3.11/site-packages/planted.pth', 'w')"), "EACCES")
    refused(attempt(room, "open('/opt/lenet-hub/kernel_note.py', 'a')"), "EACCES")
    refused(attempt(room, "open('/opt/lenet-hub/course/notebooks/01_mnist_data.ipynb', 'a')"), "EACCES")
    refused(attempt(room, "open('/opt/lenet-hub/venv/lib/python3.11/site-packages/lenet-course.pth', 'a')"), "EACCES")


def test_the_runtime_stays_roots_after_students_started(hub, room):
    for part in ("data", "course"):
        for p in Path("/opt/lenet-hub", part).rglob("*"):
            st = p.lstat()
            assert (st.st_uid, st.st_gid) == (0, 0) and not st.st_mode & 0o022, f"{p} is not root's alone"


def test_a_cannot_write_the_shared_mnist(hub, room):
    raw = "/opt/lenet-hub/data/MNIST/raw/train-images-idx3-ubyte"
    refused(attempt(room, f"open({raw!r}, 'r+b').write(b'x')"), "EACCES")
    refused(attempt(room, f"os.unlink({raw!r})"), "EACCES")
    via_home = str(hub.home("alice") / "lenet-data" / "MNIST" / "raw" / "train-labels-idx1-ubyte")
    refused(attempt(room, f"open({via_home!r}, 'r+b').write(b'x')"), "EACCES")


# ---- the class database --------------------------------------------------------------------------
# One process opens it: the gallery service, as its own account (lenet-gallery), in a folder only that
# account can enter (hub/class_db.py). Students share and delete through the service with their token.
def class_db_folder(hub) -> Path:
    import hashlib

    return Path(f"/var/lib/lenet-hub/class-{hashlib.sha1(str(hub.state.resolve()).encode()).hexdigest()[:10]}")


def test_a_cannot_open_delete_or_replace_the_class_database(hub, room):
    import pwd

    folder = class_db_folder(hub)
    db = str(folder / "class.sqlite")
    gallery = pwd.getpwnam("lenet-gallery").pw_uid
    assert Path(db).is_file() and oct(folder.stat().st_mode)[-3:] == "700" and folder.stat().st_uid == gallery
    out, err = room["ka"].execute("print(os.environ.get('LENET_CLASS_DB'))")
    assert err is None and out.strip() == "None"   # students are not even told where it is
    refused(attempt(room, f"os.listdir({str(folder)!r})"), "EACCES")
    refused(attempt(room, f"open({db!r}, 'rb').read(16)"), "EACCES")
    for f in (db, db + "-wal", db + "-shm"):
        refused(attempt(room, f"os.unlink({f!r})"), "EACCES")
    refused(attempt(room, f"open({db + '.new'!r}, 'wb')"), "EACCES")
    refused(attempt(room, f"os.rename({db!r}, {db + '.gone'!r})"), "EACCES")
    assert Path(db).is_file()


def test_deleting_bs_shares_through_sql_is_refused_because_a_cannot_open_the_file(hub, room):
    share = ("from lenet_utils.classroom.service import class_store\nfrom lenet_utils.classroom.store import Share\n"
             "import io\nimport numpy as np\nfrom PIL import Image\npng = io.BytesIO()\n"
             "Image.new('L', (28, 28)).save(png, 'PNG')\ndb = class_store()\n"
             "sid = db.add(Share(pixels=np.zeros((28, 28), np.uint8), true_label=3, predicted=3, confidence=0.9, "
             "original=png.getvalue()))\nprint(sid)")
    out, err = room["kb"].execute(share)
    assert err is None, err
    bobs = int(out.strip())
    out, err = room["ka"].execute(share)
    assert err is None, err
    db = str(class_db_folder(hub) / "class.sqlite")
    refused(attempt(room, f"open({db!r}, 'r+b')"), "EACCES")          # what sqlite3.connect does first
    out, err = room["ka"].execute(
        f"import sqlite3\ntry:\n    sqlite3.connect({db!r}).execute('DELETE FROM shares WHERE id = {bobs}')\n"
        "except sqlite3.Error as e:\n    print(e)")
    assert err is None and out.strip() == "unable to open database file", out
    out, err = room["ka"].execute(f"print(db.delete({bobs}, 'bob'))")  # the service: only one's own
    assert err is None and out.strip() == "False"
    out, err = room["kb"].execute(f"print(db.delete({bobs}), {bobs} in [s.id for s in db.shares()])")
    assert err is None and out.strip() == "True False"


# ---- processes -------------------------------------------------------------------------------------
def test_a_cannot_signal_bs_kernel_or_server_the_hub_or_the_proxy(hub, room):
    proxy_pid = int((hub.state / "jupyterhub-proxy.pid").read_text())
    for pid in (room["b_kernel_pid"], server_pid(hub, "bob"), hub.process.pid, proxy_pid):
        refused(attempt(room, f"os.kill({pid}, {int(signal.SIGKILL)})"), "EPERM")
    out, err = room["kb"].execute("print(kept)")
    assert err is None and out.strip() == "bob was here"


def test_a_cannot_raise_its_limits_or_leave_its_group(hub, room):
    out, err = room["ka"].execute(
        "mem = [l.split(':', 2)[2] for l in open('/proc/self/cgroup').read().splitlines() "
        "if 'memory' in l.split(':')[1].split(',')][0]\nprint('/sys/fs/cgroup/memory' + mem)")
    group = Path(out.strip())
    assert group.name == "alice" and (group / "memory.limit_in_bytes").read_text().strip() == str(2 << 30)
    refused(attempt(room, f"open({str(group / 'memory.limit_in_bytes')!r}, 'w').write(str(8 << 30))"), "EACCES")
    refused(attempt(room, f"open({str(group.parent.parent / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))"),
            "EACCES")
    refused(attempt(room, f"open({str(group.parent / 'bob' / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))"),
            "EACCES")
    refused(attempt(room, f"os.mkdir({str(group / 'escape')!r})"), "EACCES")
    assert (group / "memory.limit_in_bytes").read_text().strip() == str(2 << 30)


FILL = """
def _fill(path, chunk=1 << 20):
    written = 0
    try:
        with open(path, 'wb') as f:
            while True:
                written += f.write(b'x' * chunk)
                f.flush()
    except OSError as e:
        return written, _errno.errorcode.get(e.errno, str(e.errno))
    return written, None
"""


def _statvfs_total_mb(kernel, folder: str) -> float:
    out, err = kernel.execute(f"s = os.statvfs({folder!r}); print(s.f_blocks * s.f_frsize / 2**20)")
    assert err is None, err
    return float(out)


def _mounts(kernel) -> dict[str, str]:
    """mount point -> file system type, as the kernel's own process sees them."""
    out, err = kernel.execute("print(open('/proc/self/mountinfo').read())")
    assert err is None, err
    seen = {}
    for line in out.splitlines():
        if " - " in line:
            left, right = line.split(" - ", 1)
            seen[left.split()[4]] = right.split()[0]
    return seen


def _memory_usage(group: Path) -> int:
    return int((group / "memory.usage_in_bytes").read_text())


def _memory_group(kernel) -> Path:
    out, err = kernel.execute("print([l.split(':', 2)[2] for l in open('/proc/self/cgroup').read().splitlines() "
                              "if 'memory' in l.split(':')[1].split(',')][0])")
    assert err is None, err
    return Path("/sys/fs/cgroup/memory" + out.strip())


def test_each_student_has_an_own_tmp_a_cannot_see_bs_files(hub, room):
    """/tmp, /var/tmp and /dev/shm are a tmpfs of the student's own (hub/sandbox.py): B's file there
    is not in A's /tmp, nor in the machine's."""
    name = f"/tmp/{hub.prefix}bob-file"
    out, err = room["kb"].execute(f"open({name!r}, 'w').write('mine'); os.chmod({name!r}, 0o644); print('ok')")
    assert err is None and out.strip() == "ok", err
    for k in (room["ka"], room["kb"]):
        mounts = _mounts(k)
        assert all(mounts.get(f) == "tmpfs" for f in ("/tmp", "/var/tmp", "/dev/shm")), mounts
        assert abs(_statvfs_total_mb(k, "/tmp") - TMP_MB) < 1
    refused(attempt(room, f"open({name!r}).read()"), "ENOENT")      # not there: B's tmpfs is B's
    refused(attempt(room, f"os.unlink({name!r})"), "ENOENT")
    out, err = room["ka"].execute(f"print({Path(name).name!r} in os.listdir('/tmp'))")
    assert out.strip() == "False"
    assert not Path(name).exists()                                    # nor in the machine's /tmp
    out, err = room["kb"].execute(f"print(open({name!r}).read())")
    assert err is None and out.strip() == "mine"


def test_a_filling_tmp_gets_enospc_from_its_own_tmpfs_charged_to_its_own_memory(hub, room):
    """A writes into /tmp until the kernel refuses: ENOSPC at A's tmpfs size, the pages counted in A's
    memory group (not B's, not the machine's disk); B still writes into its own /tmp."""
    out, err = room["ka"].execute(FILL)
    assert err is None, err
    ga, gb = _memory_group(room["ka"]), _memory_group(room["kb"])
    assert ga.name == "alice" and gb.name == "bob"
    a0, b0 = _memory_usage(ga), _memory_usage(gb)
    try:
        out, err = room["ka"].execute("print(*_fill('/tmp/fill'))")
        assert err is None, err
        written, why = out.split()
        assert why == "ENOSPC" and TMP_MB - 2 <= int(written) / 2**20 <= TMP_MB, out
        a1, b1 = _memory_usage(ga), _memory_usage(gb)
        assert a1 - a0 > 0.8 * TMP_MB * 2**20, (a0, a1)          # tmpfs pages are A's memory
        assert b1 - b0 < 0.25 * TMP_MB * 2**20, (b0, b1)
        assert not Path("/tmp/fill").exists()
        out, err = room["kb"].execute("open('/tmp/bob-after', 'wb').write(b'y' * (1 << 20)); print('ok')")
        assert err is None and out.strip() == "ok"
    finally:
        room["ka"].execute("os.path.exists('/tmp/fill') and os.unlink('/tmp/fill')")
    assert _memory_usage(ga) < a0 + 0.5 * TMP_MB * 2**20           # freed again when A deletes it


def test_a_filling_its_home_gets_enospc_from_its_own_file_system_b_unharmed(hub, room):
    """The home is an ext4 image of its own (hub/sandbox.py): A filling it stops at its size with
    ENOSPC; the image holds no more than that on the machine's disk; B's server saves and B's
    kernel answers."""
    home_a, home_b = hub.home("alice"), hub.home("bob")
    assert os.path.ismount(home_a) and os.path.ismount(home_b)
    image = Path("/var/lib/lenet-hub/homes") / f"{hub.prefix}alice.img"
    assert image.is_file() and oct(image.parent.stat().st_mode)[-3:] == "700"
    refused(attempt(room, f"os.listdir({str(image.parent)!r})"), "EACCES")
    assert 0.8 * DISK_MB <= _statvfs_total_mb(room["ka"], str(home_a)) <= DISK_MB  # less ext4's own tables
    out, err = room["ka"].execute(FILL)
    assert err is None, err
    try:
        out, err = room["ka"].execute(f"print(*_fill({str(home_a / 'fill')!r}))")
        assert err is None, err
        written, why = out.split()
        assert why == "ENOSPC" and 0.5 * DISK_MB <= int(written) / 2**20 <= DISK_MB, out
        assert image.stat().st_blocks * 512 <= image.stat().st_size == DISK_MB << 20  # bounded on the disk
        saved = room["b"].server_api("PUT", "contents/after-a-filled.txt",
                                     json={"type": "file", "format": "text", "content": "still saving"})
        assert saved.status_code in (200, 201), saved.text
        out, err = room["kb"].execute("print(kept)")
        assert err is None and out.strip() == "bob was here"
    finally:
        room["ka"].execute(f"os.path.exists({str(home_a / 'fill')!r}) and os.unlink({str(home_a / 'fill')!r})")
    assert (home_b / "notebooks" / "after-a-filled.txt").read_text() == "still saving"


# ---- the hub's doors --------------------------------------------------------------------------------
def test_a_cannot_use_bs_server_or_the_hub_api_beyond_its_own(hub, room):
    a = room["a"]
    r = a.s.get(hub.url + "user/bob/api/contents", timeout=30, allow_redirects=False)
    assert r.status_code in (302, 403), r.status_code
    if r.status_code == 302:  # through the hub's OAuth, which refuses A for B's server
        r = a.s.get(hub.url + "user/bob/api/contents", timeout=30)
        assert r.status_code == 403, r.status_code
    out, err = room["ka"].execute(
        "import urllib.request, urllib.error\n"
        "req = urllib.request.Request(os.environ['JUPYTERHUB_API_URL'] + '/users/bob', "
        "headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "try:\n    print(urllib.request.urlopen(req).status)\nexcept urllib.error.HTTPError as e:\n    print(e.code)")
    assert out.strip() in ("403", "404"), out  # A's own token does not reach B
    assert a.api("GET", "users").status_code == 403
    assert a.api("POST", "users/bob/server").status_code in (403, 404)  # 404: B's existence not told
    assert a.api("POST", "users/alice/tokens", json={"scopes": ["admin:users"]}).status_code in (400, 403)


def test_a_forged_lecturer_cookie_is_refused(hub, room):
    """Without the cookie secret (unreadable above) a made-up login cookie is only refused."""
    s = requests.Session()
    for name in ("jupyterhub-hub-login", "jupyterhub-session-id"):
        s.cookies.set(name, "2|1:0|10:1700000000|20:jupyterhub-hub-login|40:bGVjdHVyZXI=|" + "0" * 64)
    r = s.get(hub.url + "hub/api/user", timeout=30)
    assert r.status_code == 403, r.status_code
    r = s.get(hub.url + "hub/admin", timeout=30)
    assert "/hub/login" in r.url


def test_no_terminal_for_a_student(hub, room):
    a = room["a"]
    r = a.server_api("POST", "terminals")
    assert r.status_code == 404, (r.status_code, r.text[:200])  # terminals are off, not merely hidden
    assert a.server_api("GET", "terminals").status_code == 404


def test_signing_up_as_the_lecturer_is_refused(hub, room):
    message = Student(hub, "lecturer", password="a-new-password-1").sign_up()
    assert "already" in message.lower() or "not" in message.lower(), message
    upper = Student(hub, "LECTURER", password="a-new-password-2").sign_up()
    assert "already" in upper.lower() or "not" in upper.lower(), upper
    real = Student(hub, "lecturer", password=hub.admin_password)
    real.log_in()
    assert real.logged_in and real.api("GET", "users").status_code == 200
    for pw in ("a-new-password-1", "a-new-password-2"):
        intruder = Student(hub, "lecturer", password=pw)
        intruder.log_in()
        assert not intruder.logged_in


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "bob\x00", "Lecturer ", "-x", "x" * 25, "ünï"])
def test_unsafe_names_cannot_sign_up_or_log_in(hub, room, name):
    st = Student(hub, name, password="good-password-123")
    message = st.sign_up()
    assert "invalid" in message.lower() or "not" in message.lower() or message == "", message
    st.log_in()
    assert not st.logged_in
    # nothing was made from the name: no route in the proxy, no account
    token = (hub.state / "proxy_auth_token").read_text().strip()
    routes = requests.get(f"http://127.0.0.1:{hub.proxy_api_port}/api/routes",
                          headers={"Authorization": f"token {token}"}, timeout=10).json()
    assert set(routes) <= {"/", "/user/alice", "/user/bob", "/services/gallery"}, routes
    assert requests.get(hub.url + "hub/login", timeout=30).status_code == 200  # the login page is still the hub's


# ---- out of memory: A is killed, B is not ---------------------------------------------------------
def test_exhausting_memory_kills_a_not_b(hub, room):
    a = room["a"]
    session = a.open_session("02_architecture.ipynb")
    k = a.kernel(session["kernel"]["id"])
    try:
        with pytest.raises(KernelDied):
            k.execute("hog = b'x' * (3 << 30)", timeout=120)
    finally:
        k.close()
        a.close_session(session)
    out, err = room["kb"].execute("print(kept)")
    assert err is None and out.strip() == "bob was here"


# ---- workshop mode: attacks without code --------------------------------------------------------
@pytest.fixture(scope="module")
def workshop(tmp_path_factory, prerequisites):
    h = start_hub(tmp_path_factory.mktemp("hubsec-shared") / "state", extra=("--auth", "shared"),
                  env={"HUB_PASSWORD": "workshop-pass-1"})
    try:
        yield h
    finally:
        stop_hub(h, everything=True)


@pytest.mark.parametrize("name", ["LECTURER", "Lecturer", "Lecturer ", "..", "../x", "a/b", "a\x00b"])
def test_workshop_names_that_must_not_log_in_with_the_workshop_password(workshop, name):
    st = Student(workshop, name, password="workshop-pass-1")
    st.log_in()
    assert not st.logged_in, name
    lecturer = Student(workshop, "lecturer", password=workshop.admin_password)
    lecturer.log_in()
    users = {u["name"]: u for u in lecturer.api("GET", "users").json()}
    assert users["lecturer"]["admin"] is True and set(users) <= {"lecturer", "dora"}
    assert requests.get(workshop.url + "hub/login", timeout=30).status_code == 200


def test_workshop_student_is_never_admin(workshop):
    dora = Student(workshop, "dora", password="workshop-pass-1")
    dora.log_in()
    assert dora.logged_in and dora.api("GET", "users").status_code == 403


def test_the_hub_log_has_no_secret(hub, workshop):
    for h in (hub, workshop):
        text = h.log_path.read_text(errors="replace")
        assert h.admin_password not in text and "workshop-pass-1" not in text


# ---- TLS on loopback with a throw-away certificate -------------------------------------------------
def test_the_hub_over_tls_logs_a_student_in(tmp_path, prerequisites):
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o600)
    h = start_hub(tmp_path / "state", extra=("--ssl-cert", str(cert), "--ssl-key", str(key)), scheme="https",
                  verify=str(cert))
    try:
        with pytest.raises(requests.exceptions.SSLError):  # not the default trust store's: it is ours
            requests.get(h.url + "hub/login", timeout=10)
        with pytest.raises(requests.exceptions.ConnectionError):  # no plain HTTP on the TLS port
            requests.get(h.url.replace("https", "http") + "hub/login", timeout=10)
        lecturer = Student(h, h.admin, password=h.admin_password)
        carol = Student(h, "carol")
        for st in (lecturer, carol):
            st.s.verify = str(cert)
            st.s.trust_env = False  # else $REQUESTS_CA_BUNDLE would replace the session's own CA
        lecturer.log_in()
        assert lecturer.logged_in
        carol.sign_up()
        lecturer.approve("carol")
        carol.log_in()
        assert carol.logged_in and carol.api("GET", "user").json()["name"] == "carol"
        assert all(c.secure for c in carol.s.cookies if c.name.startswith("jupyterhub"))
    finally:
        stop_hub(h, everything=True)


# ---- the lecturer's account and the roster, made at the first start ------------------------------
def test_first_start_makes_the_lecturer_and_the_roster_with_passwords_shown_once(tmp_path, prerequisites):
    import re

    roster = tmp_path / "roster.csv"
    roster.write_text("name,display name,password\nErin,Erin E.,\nfrank,Frank F.,franks-password-1\n")
    state = tmp_path / "state"
    h = start_hub(state, extra=("--students", str(roster)), env={"HUB_ADMIN_PASSWORD": ""})
    try:
        log = h.log_path.read_text()
        shown = dict(re.findall(r"^  (\S+)\s+(\S+)   ", log, re.M))
        assert set(shown) == {"lecturer", "erin"}, log[:2000]  # frank brought his own
        assert "franks-password-1" not in log
        lecturer = Student(h, "lecturer", password=shown["lecturer"])
        lecturer.log_in()
        assert lecturer.logged_in and lecturer.api("GET", "users").status_code == 200
        for name, pw in (("erin", shown["erin"]), ("frank", "franks-password-1")):
            st = Student(h, name, password=pw)
            st.log_in()
            assert st.logged_in, name   # approved by the roster, no /hub/authorize
        assert "already" in Student(h, "lecturer", password="another-password-1").sign_up().lower()
        stop_hub(h, everything=False)
        again = start_hub(state, h.port, api_port=h.api_port, proxy_api_port=h.proxy_api_port, prefix=h.prefix,
                          env={"HUB_ADMIN_PASSWORD": ""})
        h.process, h.log_path = again.process, again.log_path
        assert "Passwords made now" not in again.log_path.read_text()  # shown once, at the first start
        lecturer = Student(h, "lecturer", password=shown["lecturer"])
        lecturer.log_in()
        assert lecturer.logged_in
    finally:
        stop_hub(h, everything=True)
