"""The class gallery service (hub/gallery_service.py) and its client (lenet_utils.classroom.service).

Part 1, without a hub: the service's handlers behind a fake token check (tokens -> names), served on
a loopback port in a thread, used through the package's client as a kernel would. Part 2, on a real
hub started as tests/test_hub_security.py starts it (root: one account per student): two students
share and delete from their own kernels through the service, one cannot delete the other's (403),
the owner is the token's user whatever the request says, no student can open the file, the service
is killed and restarted by the hub and loses nothing, 20 concurrent sharers lose nothing, and the
app's client shares (through the proxy, with a token) into the gallery the students see.
A missing proxy, runtime or MNIST for part 2 is a FAILURE, never a skip.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lenet_utils.classroom.service import ClassServiceError, GalleryService, class_store
from lenet_utils.classroom.store import ClassDB, Share

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hub"))
sys.path.insert(0, str(REPO / "benchmarks"))
import gallery_service  # noqa: E402

SCOPE = "access:services!service=gallery"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (28, 28)).save(buf, "PNG")
    return buf.getvalue()


def share(label: int = 3, owner: str = "", nickname: str = "") -> Share:
    return Share(pixels=np.full((28, 28), label * 20, np.uint8), true_label=label, predicted=label, confidence=0.9,
                 original=png(), owner=owner, nickname=nickname, probabilities=[0.1] * 10)


# ---- part 1: the service's handlers with a fake token check -------------------------------------
class FakeAuth:
    """HubAuth's four members the handlers use; tokens -> user models, as the hub would answer."""

    access_scopes = {SCOPE}

    def __init__(self, tokens: dict):
        self.tokens = tokens

    def get_token(self, handler, in_cookie=False):
        m = re.match(r"token\s+(.+)", handler.request.headers.get("Authorization", ""), re.I)
        return m.group(1) if m else ""

    async def user_for_token(self, token, sync=False):
        return self.tokens.get(token)

    def check_scopes(self, required, model):
        return set(required) & set(model["scopes"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The service's app on a loopback port, in a thread of its own (its own event loop)."""

    def __init__(self, db_path: Path, auth: FakeAuth, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/services/gallery/"
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            from tornado.httpserver import HTTPServer

            self.server = HTTPServer(gallery_service.make_app(ClassDB(db_path), auth),
                                     max_body_size=gallery_service.MAX_BODY)
            self.server.listen(self.port, "127.0.0.1")
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


USERS = {"tok-ann": {"kind": "user", "name": "ann", "scopes": [SCOPE]},
         "tok-ben": {"kind": "user", "name": "ben", "scopes": [SCOPE]},
         "tok-app": {"kind": "service", "name": "app", "scopes": [SCOPE]},
         "tok-noscope": {"kind": "user", "name": "cat", "scopes": ["read:users:name!user"]}}


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path / "class.sqlite", FakeAuth(USERS))
    yield s
    s.stop()


def http(url: str, method: str = "GET", token: str | None = None, body: bytes | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_two_users_share_list_and_delete_only_their_own(served):
    ann, ben = GalleryService(served.url, "tok-ann"), GalleryService(served.url, "tok-ben")
    a1 = ann.add(share(1, nickname="Ann"))
    b1 = ben.add(share(2))
    assert [(s.id, s.owner, s.true_label) for s in ann.shares()] == [(a1, "ann", 1), (b1, "ben", 2)]
    assert [s.id for s in ann.shares(owner="")] == [a1]          # "mine": the token's own
    assert ann.stamp() == (2, b1) and len(ben) == 2
    assert ann.original(a1) == png()
    assert not ann.delete(b1)                                    # the client: False, as ClassDB's
    status, body = http(served.url + f"api/shares/{b1}", "DELETE", "tok-ann")
    assert status == 403 and "not yours" in body["error"]
    assert http(served.url + "api/shares/999999", "DELETE", "tok-ann")[0] == 404
    assert ben.delete(b1) and [s.id for s in ann.shares()] == [a1]


def test_the_owner_is_the_tokens_user_whatever_the_request_says(served):
    body = json.dumps({**gallery_service.share_to_json(share(5)), "owner": "ben"}).encode()
    status, answer = http(served.url + "api/shares", "POST", "tok-ann", body)
    assert status == 201 and answer["owner"] == "ann"
    (s,) = GalleryService(served.url, "tok-ben").shares()
    assert s.owner == "ann"
    assert http(served.url + f"api/shares/{s.id}", "DELETE", "tok-ben")[0] == 403   # ben cannot, though "named"
    # a label within one's name never reaches another's: ann's "visit" is ann/visit/<label>
    status, answer = http(served.url + "api/shares?visit=ben", "POST", "tok-ann",
                          json.dumps(gallery_service.share_to_json(share(6))).encode())
    assert answer["owner"] == "ann/visit/ben"
    assert http(served.url + f"api/shares/{answer['id']}", "DELETE", "tok-ben")[0] == 403
    assert http(served.url + "api/whoami", token="tok-app")[1] == {"owner": "service/app"}


def test_a_retried_share_is_one_row_and_cannot_name_anothers(served):
    ann, ben = GalleryService(served.url, "tok-ann"), GalleryService(served.url, "tok-ben")
    s = share(4)
    first = ann.add(s)
    assert ann.add(s) == first and len(ann) == 1                  # a retry after a lost reply
    theirs = share(4)
    theirs.share_id = s.share_id                                  # ben reuses ann's share_id
    assert ben.add(theirs) != first and len(ann) == 2             # his own row; ann's untouched


def test_app_visits_are_kept_apart(served):
    app = GalleryService(served.url, "tok-app")
    one, two = app.add(share(7, owner="visit-1")), app.add(share(8, owner="visit-2"))
    assert [s.id for s in app.shares(owner="visit-1")] == [one]
    assert not app.delete(two, "visit-1") and app.delete(two, "visit-2")
    assert [s.owner for s in app.shares()] == ["service/app/visit/visit-1"]


@pytest.mark.parametrize("token, status, words", [
    (None, 401, "no JupyterHub token"),
    ("tok-unknown", 403, "does not know this token"),
    ("tok-noscope", 403, "lacks access:services!service=gallery"),
])
def test_callers_without_a_good_token_are_refused(served, token, status, words):
    calls = (("GET", "api/shares"), ("POST", "api/shares"), ("DELETE", "api/shares/1"), ("GET", "api/stamp"))
    for method, path in calls:
        code, body = http(served.url + path, method, token, b"{}" if method == "POST" else None)
        assert code == status and words in body["error"], (method, path, code, body)
    assert http(served.url + "health")[0] == 200                # says nothing about shares


@pytest.mark.parametrize("change, words", [
    ({"true_label": 12}, "true label must be a digit"),
    ({"confidence": 1.5}, "confidence must be between 0 and 1"),
    ({"pixels": "AAAA"}, "28x28"),
    ({"original": "aGVsbG8="}, "PNG"),
    ({"source": "camera"}, "source must be one of"),
    ({"share_id": "../x"}, "32 hex digits"),
    ({"probabilities": [2.0] * 10}, "probabilities"),
    ({"true_label": "3"}, "wrong type"),
])
def test_bad_shares_get_one_line_400(served, change, words):
    body = {**gallery_service.share_to_json(share(3)), **change}
    code, answer = http(served.url + "api/shares", "POST", "tok-ann", json.dumps(body).encode())
    assert code == 400 and words in answer["error"] and "\n" not in answer["error"], answer
    assert len(GalleryService(served.url, "tok-ann")) == 0


def test_too_large_and_not_json_are_refused(served):
    big = {**gallery_service.share_to_json(share(3)), "original": "A" * (2 << 20)}
    code, answer = http(served.url + "api/shares", "POST", "tok-ann", json.dumps(big).encode())
    assert code == 413 and "at most 1,048,576" in answer["error"]
    code, answer = http(served.url + "api/shares", "POST", "tok-ann", b"not json{")
    assert code == 400 and "not JSON" in answer["error"]


def test_the_client_says_in_one_line_when_the_service_is_down_or_refuses(served):
    down = GalleryService(f"http://127.0.0.1:{free_port()}/services/gallery/", "tok-ann", timeout=5)
    with pytest.raises(ClassServiceError, match="not answering.*ask the lecturer") as info:
        down.shares()
    assert "\n" not in str(info.value)
    with pytest.raises(ClassServiceError, match="does not know this token") as info:
        GalleryService(served.url, "tok-unknown").add(share())
    wrong = GalleryService(served.url.replace("/services/gallery/", "/services/other/"), "tok-ann")
    with pytest.raises(ClassServiceError, match="no gallery service"):
        wrong.delete(1)


def test_the_service_restarts_and_loses_nothing(tmp_path):
    s = Served(tmp_path / "class.sqlite", FakeAuth(USERS))
    ids = [GalleryService(s.url, "tok-ann").add(share(d)) for d in range(5)]
    s.stop()
    again = Served(tmp_path / "class.sqlite", FakeAuth(USERS), port=s.port)
    try:
        assert [x.id for x in GalleryService(again.url, "tok-ben").shares()] == ids
    finally:
        again.stop()


def test_twenty_concurrent_sharers_lose_nothing(served):
    def work(i):
        client = GalleryService(served.url, "tok-ann" if i % 2 else "tok-ben")
        return [client.add(share(i % 10, nickname=f"s{i}")) for _ in range(5)]

    with ThreadPoolExecutor(20) as pool:
        ids = [x for chunk in pool.map(work, range(20)) for x in chunk]
    stored = GalleryService(served.url, "tok-ann").shares()
    assert len(ids) == len(set(ids)) == len(stored) == 100


def test_class_store_picks_the_service_when_LENET_CLASS_SERVICE_is_set(served, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_CLASS_DB", str(tmp_path / "local.sqlite"))
    monkeypatch.delenv("LENET_CLASS_SERVICE", raising=False)
    assert isinstance(class_store(), ClassDB)
    monkeypatch.setenv("LENET_CLASS_SERVICE", served.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-ben")
    monkeypatch.setenv("JUPYTERHUB_USER", "ben")
    db = class_store()
    assert isinstance(db, GalleryService)
    db.add(share(9, owner="ben"))
    from lenet_utils.classroom.gallery import load_gallery
    from lenet_utils.classroom.shares import default_owner

    assert default_owner() == "ben" and load_gallery().labels.tolist() == [9]
    token_file = tmp_path / "token"
    token_file.write_text("tok-app\n")
    monkeypatch.setenv("LENET_CLASS_SERVICE_TOKEN_FILE", str(token_file))
    assert GalleryService().whoami() == "service/app"


def test_the_share_box_shares_through_the_service(served, monkeypatch):
    from lenet_utils.widgets import predict_panel

    monkeypatch.setenv("LENET_CLASS_SERVICE", served.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-ann")
    monkeypatch.setenv("JUPYTERHUB_USER", "ann")
    p = predict_panel()
    box = p.share
    assert box.owner == "ann"
    p.show_example()
    box.share_button.click()
    assert "lenet-error" not in box.status.value, box.status.value
    (s,) = GalleryService(served.url, "tok-ben").shares()
    assert s.owner == "ann" and box.mine_list.options[0][1] == s.id
    box.delete_button.click()
    assert len(GalleryService(served.url, "tok-ben")) == 0
    monkeypatch.setenv("LENET_CLASS_SERVICE", f"http://127.0.0.1:{free_port()}/services/gallery/")
    box._db = None
    p.show_example()
    box.share_button.click()                                   # the service is down: one red line
    assert "lenet-error" in box.status.value and "not answering" in box.status.value


# ---- part 2: on a real hub ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(tmp_path_factory, mnist_ready):
    from hub_load import start_hub, stop_hub
    from hub_prereqs import require_hub

    require_hub("the gallery service's hub tests")
    h = start_hub(tmp_path_factory.mktemp("gallery") / "state")
    try:
        yield h
    finally:
        stop_hub(h, everything=True)


@pytest.fixture(scope="module")
def room(hub):
    from hub_load import admit

    lecturer, (a, b) = admit(hub, ["alice", "bob"])
    kernels, ids = [], []
    for st in (a, b):
        st.start_server()
        session = st.open_session("01_mnist_data.ipynb")
        ids.append(session["kernel"]["id"])
        kernels.append(st.kernel(ids[-1]))
    make = ("import io, os\nimport numpy as np\nfrom PIL import Image\n"
            "from lenet_utils.classroom.service import class_store\nfrom lenet_utils.classroom.store import Share\n"
            "png = io.BytesIO(); Image.new('L', (28, 28)).save(png, 'PNG')\n"
            "def make(label, owner=''):\n"
            "    return Share(pixels=np.zeros((28, 28), np.uint8), true_label=label, predicted=label, "
            "confidence=0.9, original=png.getvalue(), owner=owner)\n"
            "db = class_store(); print(type(db).__name__)")
    for k in kernels:
        out, err = k.execute(make)
        assert err is None and out.strip() == "GalleryService", (out, err)
    room = {"lecturer": lecturer, "a": a, "b": b, "ka": kernels[0], "kb": kernels[1], "ka_id": ids[0]}
    yield room
    for k in {id(k): k for k in (*kernels, room["ka"])}.values():   # a test may reconnect A's kernel
        k.close()


def db_folder(hub) -> Path:
    return Path(f"/var/lib/lenet-hub/class-{hashlib.sha1(str(hub.state.resolve()).encode()).hexdigest()[:10]}")


def service_pid(hub) -> int:
    import psutil

    for p in psutil.Process(hub.process.pid).children():
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "gallery_service.py" in " ".join(p.cmdline()):
                return p.pid
        except psutil.Error:  # gone, or killed and not yet reaped by the hub
            continue
    raise AssertionError("the gallery service is not running under the hub")


def token_for(student, note: str) -> str:
    r = student.api("POST", f"users/{student.name}/tokens", json={"scopes": [SCOPE], "note": note})
    assert r.status_code == 201, r.text
    return r.json()["token"]


@pytest.mark.slow
def test_the_service_runs_as_its_own_account_and_owns_the_file_alone(hub, room):
    import pwd

    import psutil

    folder = db_folder(hub)
    gallery = pwd.getpwnam("lenet-gallery")
    assert psutil.Process(service_pid(hub)).uids().real == gallery.pw_uid != 0
    st = folder.stat()
    assert (st.st_uid, oct(st.st_mode)[-3:]) == (gallery.pw_uid, "700")
    assert (folder / "class.sqlite").stat().st_uid == gallery.pw_uid
    out, err = room["ka"].execute("print('LENET_CLASS_DB' in os.environ, os.environ['LENET_CLASS_SERVICE'])")
    assert err is None and out.split()[0] == "False" and out.split()[1].endswith("/services/gallery/")


@pytest.mark.slow
def test_students_share_and_delete_through_the_service_only_their_own(hub, room):
    ka, kb = room["ka"], room["kb"]
    out, err = kb.execute(  # B names alice as the owner in the request itself: the service stores "bob"
        "import json, urllib.request\nfrom lenet_utils.classroom.service import share_to_json\n"
        "body = json.dumps({**share_to_json(make(2)), 'owner': 'alice'}).encode()\n"
        "req = urllib.request.Request(os.environ['LENET_CLASS_SERVICE'] + 'api/shares', data=body, method='POST', "
        "headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "answer = json.loads(urllib.request.urlopen(req).read())\n"
        "bobs = answer['id']; print(bobs, answer['owner'], [s.owner for s in db.shares() if s.id == bobs][0])")
    assert err is None, err
    bobs, owner, stored = out.split()
    assert owner == stored == "bob"                       # the token's user, not the name in the request
    out, err = ka.execute(f"alices = db.add(make(1)); print(alices, db.delete({bobs}, 'bob'), len(db.shares()))")
    assert err is None, err
    alices, deleted, count = out.split()
    assert deleted == "False" and int(count) >= 2
    out, err = ka.execute(  # the raw HTTP answer, with A's own token: 403
        "import urllib.request, urllib.error\n"
        f"req = urllib.request.Request(os.environ['LENET_CLASS_SERVICE'] + 'api/shares/{bobs}', method='DELETE', "
        "headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "try:\n    print(urllib.request.urlopen(req).status)\nexcept urllib.error.HTTPError as e:\n    print(e.code)")
    assert out.strip() == "403"
    out, err = kb.execute(f"print(db.delete({bobs}, 'bob'), [s.id for s in db.shares(owner='bob')])")
    assert err is None and out.strip() == "True []"
    out, err = ka.execute("from lenet_utils.classroom.gallery import load_gallery\n"
                          f"print({alices} in load_gallery().ids.tolist())")
    assert out.strip() == "True"


@pytest.mark.slow
def test_the_service_is_killed_restarted_by_the_hub_and_loses_nothing(hub, room):
    lecturer = room["lecturer"]
    client = GalleryService(hub.url + "services/gallery/", token_for(lecturer, "restart test"))
    before = [s.share_id for s in client.shares()]
    added = client.add(share(8))
    old = service_pid(hub)
    os.kill(old, signal.SIGKILL)                       # a crash, not a clean stop
    deadline = time.monotonic() + 180                  # the hub polls its services every 30 s
    while time.monotonic() < deadline:
        try:
            if service_pid(hub) != old and client.stamp():
                break
        except (AssertionError, ClassServiceError):
            pass
        time.sleep(0.5)
    else:
        raise AssertionError("the hub did not restart the gallery service within 180 s")
    after = client.shares()
    assert [s.share_id for s in after][:len(before)] == before and added in [s.id for s in after]


@pytest.mark.slow
def test_twenty_concurrent_sharers_through_the_hub_lose_nothing(hub, room):
    tokens = [token_for(st, f"concurrency {i}") for i, st in enumerate((room["a"], room["b"]))]
    url = hub.url + "services/gallery/"
    count0 = GalleryService(url, tokens[0]).stamp()[0]

    def work(i):
        client = GalleryService(url, tokens[i % 2])
        return [client.add(share(i % 10, nickname=f"t{i}")) for _ in range(5)]

    with ThreadPoolExecutor(20) as pool:
        ids = [x for chunk in pool.map(work, range(20)) for x in chunk]
    stored = GalleryService(url, tokens[1]).shares()
    mine = [s for s in stored if s.nickname.startswith("t")]
    assert len(ids) == len(set(ids)) == len(mine) == 100 and len(stored) == count0 + 100
    assert {s.owner for s in mine} == {"alice", "bob"}


@pytest.mark.slow
def test_a_student_cannot_open_the_file_at_all(hub, room):
    """issue 21's 'deleting B's shares through SQL': A cannot even open the file now (EACCES)."""
    folder = db_folder(hub)
    db = str(folder / "class.sqlite")
    code = ("import errno, sqlite3\nres = []\n"
            f"for f in (lambda: os.listdir({str(folder)!r}), lambda: open({db!r}, 'rb'), lambda: open({db!r}, 'r+b'),"
            f" lambda: os.unlink({db!r}), lambda: os.rename({db!r}, {db + '.x'!r})):\n"
            "    try:\n        f(); res.append('ok')\n    except OSError as e:\n"
            "        res.append(errno.errorcode[e.errno])\n"
            f"try:\n    sqlite3.connect({db!r}).execute('DELETE FROM shares'); res.append('sql ok')\n"
            "except sqlite3.Error as e:\n    res.append('sql: ' + str(e))\nprint(res)")
    out, err = room["ka"].execute(code)
    assert err is None, err
    assert out.strip() == str(["EACCES"] * 5 + ["sql: unable to open database file"]), out


@pytest.mark.slow
def test_the_app_shares_into_the_gallery_the_students_see(hub, room, tmp_path):
    """The app runs outside the hub: its client goes through the hub's proxy with a token the lecturer
    made (LENET_CLASS_SERVICE_TOKEN_FILE). Each visit is an owner of its own within the lecturer's name."""
    token = tmp_path / "gallery-token"
    token.write_text(token_for(room["lecturer"], "the app"))
    token.chmod(0o600)
    env = {**os.environ, "LENET_CLASS_SERVICE": hub.url + "services/gallery/",
           "LENET_CLASS_SERVICE_TOKEN_FILE": str(token), "PYTHONPATH": f"{REPO}:{REPO / 'app'}"}
    for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER", "LENET_CLASS_DB"):
        env.pop(name, None)
    code = ("from page import build_panel\npage = build_panel()\npanel = page.children[1]\n"
            "panel.show_example()\nsid = panel.share.share()\n"
            "print(sid, panel.share.owner, panel.share.db.shares()[-1].owner)")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO / "app", env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    sid, visit, owner = r.stdout.split()[-3:]
    assert visit.startswith("visit-") and owner == f"lecturer/visit/{visit}"
    out, err = room["ka"].execute("from lenet_utils.classroom.gallery import load_gallery\n"
                                  f"print({sid} in load_gallery().ids.tolist(), db.delete({sid}, 'alice'))")
    assert err is None and out.strip() == "True False"    # alice sees the app's share, cannot delete it


@pytest.mark.slow
def test_a_killed_hub_restarts_and_the_gallery_loses_nothing(hub, room):
    """The hub killed (not stopped: its service keeps running, holding the port and the file), then
    started again: the new hub stops the orphan, its own service serves the same file on the same
    port, and a kernel started before the crash shares and lists as before."""
    import psutil
    from hub_load import start_hub

    out, err = room["ka"].execute("before = [s.share_id for s in db.shares()]; print(len(before))")
    assert err is None, err
    orphan = service_pid(hub)
    hub.process.kill()                                    # a crash of the hub alone
    hub.process.wait(30)
    assert psutil.pid_exists(orphan)                      # the service outlived it
    again = start_hub(hub.state, hub.port, api_port=hub.api_port, proxy_api_port=hub.proxy_api_port,
                      prefix=hub.prefix, admin_password=hub.admin_password)
    hub.process, hub.log_path = again.process, again.log_path   # the fixture stops the new one
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE
    ka = room["a"].kernel(room["ka_id"])                  # the same kernel (its variables kept), a new connection
    room["ka"] = ka
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out, err = ka.execute(
            "try:\n    after = [s.share_id for s in db.shares()]; sid = db.add(make(5)); print('ok', sid)\n"
            "except Exception as e:\n    print('error', e)")
        if out.startswith("ok"):
            break
        time.sleep(2)
    assert out.startswith("ok"), out
    out, err = ka.execute("print(after[:len(before)] == before, len(db.shares()) == len(before) + 1)")
    assert err is None and out.strip() == "True True"
    assert service_pid(hub) != orphan


# ---- z2jh: the same service beside the hub in its pod -----------------------------------------
def test_z2jh_runs_the_gallery_beside_the_hub_on_its_own_volume():
    sys.path.insert(0, str(REPO / "tests"))
    import yaml
    import z2jh_chart

    vals = z2jh_chart.values()
    hub = vals["hub"]
    (sidecar,) = [c for c in hub["extraContainers"] if c["name"] == "gallery"]
    script = sidecar["command"][1]
    assert script == "/srv/course/hub/gallery_service.py" and (REPO / "hub" / "gallery_service.py").is_file()
    port = int(hub["services"]["gallery"]["url"].rsplit(":", 1)[1])
    assert [p["containerPort"] for p in sidecar["ports"]] == [port]
    assert {"port": port, "targetPort": port, "name": "gallery"} in hub["service"]["extraPorts"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in sidecar["env"]}
    assert env["JUPYTERHUB_API_TOKEN"] == {"secretKeyRef": {"name": "hub", "key": "hub.services.gallery.apiToken"}}
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/gallery/"
    (mount,) = sidecar["volumeMounts"]
    assert sidecar["command"][3].startswith(mount["mountPath"] + "/")              # the file on its volume
    (volume,) = [v for v in hub["extraVolumes"] if v["name"] == mount["name"]]
    claim = yaml.safe_load((REPO / "hub" / "z2jh" / "gallery-volume.yaml").read_text())
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]                       # a block volume, one pod
    assert hub["deploymentStrategy"]["type"] == "Recreate"                         # never two hubs on it
    assert not any(m.get("name") == mount["name"] for m in vals["singleuser"]["storage"].get("extraVolumeMounts") or [])
    assert vals["singleuser"]["extraEnv"]["LENET_CLASS_SERVICE"] == f"http://hub:{port}/services/gallery/"
    rule = hub["networkPolicy"]["ingress"][0]
    assert rule["ports"] == [{"port": port}]
    assert SCOPE in hub["loadRoles"]["user"]["scopes"] and SCOPE in hub["loadRoles"]["server"]["scopes"]
    assert set(hub["loadRoles"]["server"]["scopes"]) >= {"users:activity!user", "access:servers!server"}


# ---- hub/class_db.py without a hub ---------------------------------------------------------------
def test_without_root_the_service_runs_as_the_hubs_user_with_this_trees_package(tmp_path):
    import class_db

    spec = class_db.service(tmp_path / "state", "shared-account", Path("/nonexistent"), sys.executable,
                            REPO / "hub")
    assert spec["name"] == "gallery" and "user" not in spec
    assert spec["command"][:2] == [sys.executable, str(REPO / "hub" / "gallery_service.py")]
    assert spec["environment"]["PYTHONPATH"] == str(REPO)
    db = Path(spec["command"][-1])
    assert db == tmp_path / "state" / "class" / "class.sqlite" and len(ClassDB(db)) == 0
    port = int(spec["url"].rsplit(":", 1)[1])
    again = class_db.service(tmp_path / "state", "shared-account", Path("/nonexistent"), sys.executable, REPO / "hub")
    assert again["url"].endswith(f":{port}")   # kept across restarts: kernels started before still find it
    assert {r["name"] for r in class_db.roles()} == {"user", "server"}


def test_as_root_an_old_group_writable_gallery_is_taken_over_and_keeps_its_rows(tmp_path, monkeypatch):
    """The design before the service: root:<group> 3770, files 0660. At the next start the folder and
    files become the service account's (0700/0600), a link planted there goes, the rows stay."""
    if os.geteuid() != 0:
        pytest.fail("this test changes owners: it runs as root (as CI does)", pytrace=False)
    import shutil
    import uuid

    import class_db

    folder = Path("/var/lib/lenet-hub") / f"test-class-{uuid.uuid4().hex[:8]}"   # a folder others can reach
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir()
    shadow = Path("/etc/shadow").stat()
    ClassDB(folder / "class.sqlite").add(share(7))
    os.chmod(folder, 0o3770)
    (folder / "class.sqlite").chmod(0o660)
    (folder / "planted").symlink_to("/etc/shadow")
    monkeypatch.setenv("LENET_HUB_CLASS_DIR", str(folder))
    (tmp_path / "state").mkdir()
    try:
        spec = class_db.service(tmp_path / "state", "accounts", Path("/opt/runtime"), sys.executable, REPO / "hub")
        check_taken_over(folder, spec, shadow)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_taken_over(folder: Path, spec: dict, shadow) -> None:
    import pwd

    import class_db

    gallery = pwd.getpwnam(class_db.account())
    assert spec["user"] == class_db.account() and gallery.pw_uid != 0 and gallery.pw_shell == "/usr/sbin/nologin"
    assert spec["command"][:2] == ["/opt/runtime/venv/bin/python", "/opt/runtime/gallery_service.py"]
    st = folder.stat()
    assert (st.st_uid, oct(st.st_mode)[-4:]) == (gallery.pw_uid, "0700")
    for f in folder.iterdir():
        assert (f.stat().st_uid, oct(f.stat().st_mode)[-3:]) == (gallery.pw_uid, "600"), f
    assert not (folder / "planted").exists() and not (folder / "planted").is_symlink()
    after = Path("/etc/shadow").stat()               # the link was removed, never followed
    assert (after.st_uid, after.st_gid, after.st_mode) == (shadow.st_uid, shadow.st_gid, shadow.st_mode)
    assert [s.true_label for s in ClassDB(folder / "class.sqlite").shares()] == [7]
