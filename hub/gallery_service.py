"""The class gallery as a JupyterHub service: the one process that opens the class's SQLite file.

    kernel / app  --HTTP, "Authorization: token <its JupyterHub token>"-->  /services/gallery/api/...
         gallery service: asks the hub whose token it is (HubAuth), then reads or writes class.sqlite

The hub starts it (``c.JupyterHub.services``, hub/jupyterhub_config.py) as its own system account
(``lenet-gallery`` on a hub running as root), and only that account can enter the folder that holds
the file (mode 0700): students cannot read, change or delete the file at all, only ask this service.
The owner of a share is the name the hub gives the caller's token, never a name in the request; a
share is deleted only by its owner (403 for anyone else's). SQLite's transactions (WAL: one process,
a local disk) make a share wholly there or not at all, across a crash or a restart of the service.

    GET    api/shares[?since_id=N&with_original=1&mine=1&visit=L]   {"shares": [...]}, oldest first
    POST   api/shares[?visit=L]           a share (JSON, lenet_utils.classroom.service's format) -> {"id", "owner"}
    DELETE api/shares/<id>[?visit=L]      204; 403 (another's share); 404 (no such share)
    GET    api/shares/<id>/original       {"original": base64 PNG}
    GET    api/stamp                      {"count", "max_id"}: changes with every add or delete
    GET    api/whoami                     {"owner"}: the name this token's shares get
    GET    health                         {"ok": true} (no token needed; says nothing about shares)

Owners: a user's name ("alice"), a service's "service/<name>"; with ``visit=L`` (a label the caller
picks, as the app does for each visitor) "alice/visit/L". JupyterHub refuses '/' in user names, so
no caller can take another's owner name. Every answer is JSON; every error is {"error": one line}.

    python hub/gallery_service.py --db /var/lib/lenet-hub/class-<id>/class.sqlite   (the hub runs it)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from urllib.parse import urlparse

from tornado import web
from tornado.httpserver import HTTPServer

from lenet_utils.classroom.service import VISIT, share_from_json, share_to_json
from lenet_utils.classroom.store import ClassDB, ClassDBError
from lenet_utils.messages import one_line

MAX_SHARE = 1 << 20     # bytes: a share is at most ~270 kB of JSON (a 200 kB PNG in base64); larger: 413
MAX_BODY = 4 << 20      # bytes: beyond this tornado drops the connection without reading it


class ApiError(web.HTTPError):
    def __init__(self, status: int, message: str):
        super().__init__(status, reason=None)
        self.message = message


def owner_name(model: dict, visit: str = "") -> str:
    """The owner a caller's shares get: the hub's name for its token (+ "/visit/<label>")."""
    base = f"service/{model['name']}" if model.get("kind") == "service" else model["name"]
    return f"{base}/visit/{visit}" if visit else base


class Handler(web.RequestHandler):
    """Every request: the token checked with the hub first; the database calls in a worker thread."""

    def initialize(self, db: ClassDB, auth) -> None:
        self.db, self.auth = db, auth
        self.owner = ""

    async def prepare(self) -> None:
        token = self.auth.get_token(self, in_cookie=False)
        if not token:
            raise ApiError(401, "no JupyterHub token: send 'Authorization: token <JUPYTERHUB_API_TOKEN>'")
        try:
            model = await self.auth.user_for_token(token, sync=False)
        except Exception as err:  # the hub down or slow: say so, never a traceback
            raise ApiError(503, f"the hub did not answer the token check ({one_line(err)}); try again") from None
        if not model:
            raise ApiError(403, "the hub does not know this token (expired or revoked?): log in to the hub again")
        if not self.auth.check_scopes(self.auth.access_scopes, model):
            raise ApiError(403, "this token may not use the class gallery (it lacks "
                                f"{' or '.join(sorted(self.auth.access_scopes))})")
        visit = self.get_query_argument("visit", "")
        if visit and not VISIT.fullmatch(visit):
            raise ApiError(400, "visit must be 1-64 letters, digits, '_', '.' or '-'")
        self.owner = owner_name(model, visit)

    async def run(self, fn, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
        except ValueError as err:
            raise ApiError(400, one_line(err)) from None
        except ClassDBError as err:
            raise ApiError(503, f"the class database: {one_line(err)}") from None

    def send(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))

    def write_error(self, status_code: int, **kwargs) -> None:
        err = kwargs.get("exc_info", (None, None))[1]
        message = getattr(err, "message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))

    def check_xsrf_cookie(self) -> None:  # token-authenticated API: no cookies, no XSRF
        return


class SharesHandler(Handler):
    async def get(self) -> None:
        try:
            since = int(self.get_query_argument("since_id", "0"))
        except ValueError:
            raise ApiError(400, "since_id must be a whole number") from None
        with_original = self.get_query_argument("with_original", "0") == "1"
        owner = self.owner if self.get_query_argument("mine", "0") == "1" else None
        shares = await self.run(lambda: self.db.shares(owner=owner, since_id=since, with_original=with_original))
        self.send({"shares": [share_to_json(s, with_original=with_original) for s in shares]})

    async def post(self) -> None:
        if len(self.request.body) > MAX_SHARE:
            raise ApiError(413, f"the share is {len(self.request.body):,} bytes; at most {MAX_SHARE:,}")
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            raise ApiError(400, "the body is not JSON: send one share as a JSON object") from None
        share = await self.run(share_from_json, body)
        share.owner = self.owner          # the token's name, whatever the request said
        share.created = 0.0               # the service's clock, not the caller's
        # share_id makes a retried request one row; tied to the owner, so no one can name another's
        share.share_id = _scoped_id(self.owner, share.share_id)
        share_id = await self.run(self.db.add, share)
        self.send({"id": share_id, "owner": self.owner}, 201)


class ShareHandler(Handler):
    async def delete(self, share_id: str) -> None:
        owner = await self.run(self.db.owner_of, int(share_id))
        if owner is None:
            raise ApiError(404, f"no share #{share_id} (deleted already?)")
        if owner != self.owner:
            raise ApiError(403, f"share #{share_id} is not yours: only the student who shared it can delete it")
        if not await self.run(self.db.delete, int(share_id), self.owner):
            raise ApiError(404, f"no share #{share_id} (deleted already?)")
        self.set_status(204)
        self.finish()


class OriginalHandler(Handler):
    async def get(self, share_id: str) -> None:
        import base64

        data = await self.run(self.db.original, int(share_id))
        if data is None:
            raise ApiError(404, f"no share #{share_id}")
        self.send({"original": base64.b64encode(data).decode()})


class StampHandler(Handler):
    async def get(self) -> None:
        count, max_id = await self.run(self.db.stamp)
        self.send({"count": count, "max_id": max_id})


class WhoamiHandler(Handler):
    async def get(self) -> None:
        self.send({"owner": self.owner})


class HealthHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish('{"ok": true}')


def _scoped_id(owner: str, share_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{owner}\0{share_id}".encode()).hexdigest()[:32]


def make_app(db: ClassDB, auth, prefix: str = "/services/gallery/") -> web.Application:
    """The service's routes under ``prefix``; ``auth`` is a HubAuth (tests pass a fake)."""
    p = "/" + prefix.strip("/") + "/"
    kw = {"db": db, "auth": auth}
    return web.Application([
        (p + "api/shares", SharesHandler, kw),
        (p + r"api/shares/(\d{1,18})", ShareHandler, kw),
        (p + r"api/shares/(\d{1,18})/original", OriginalHandler, kw),
        (p + "api/stamp", StampHandler, kw),
        (p + "api/whoami", WhoamiHandler, kw),
        (p + "health", HealthHandler),
    ], default_handler_class=_NotFound)


class _NotFound(web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish('{"error": "no such gallery API: see hub/gallery_service.py"}')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="The class gallery service (started by the hub).")
    p.add_argument("--db", required=True, help="the class's SQLite file (its folder: this account's alone)")
    p.add_argument("--ip", default="", help="address to listen on (default: the host of $JUPYTERHUB_SERVICE_URL)")
    args = p.parse_args(argv)
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/gallery/")
    try:
        db = ClassDB(args.db)
    except ClassDBError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    from jupyterhub.services.auth import HubAuth

    auth = HubAuth(cache_max_age=60)   # a token's answer is kept a minute: 20 sharers, one hub check each
    ip = args.ip or url.hostname or "127.0.0.1"
    pid_file = db.path.with_name("gallery.pid")     # a hub started after a crash stops us (class_db.stop_orphan)
    try:
        asyncio.run(serve(make_app(db, auth, prefix), ip, url.port or 80, f"{db.path} at {ip}:{url.port}{prefix}",
                          pid_file))
    except OSError as err:   # the port is taken: say which, in one line
        print(f"error: the gallery service cannot listen on {ip}:{url.port}: {one_line(err)}", file=sys.stderr)
        return 2
    return 0


async def serve(app: web.Application, ip: str, port: int, what: str, pid_file=None) -> None:
    """Serve until SIGTERM/SIGINT (the hub stops its services with SIGTERM)."""
    import signal

    server = HTTPServer(app, max_body_size=MAX_BODY)
    server.listen(port, ip)
    if pid_file is not None:
        pid_file.write_text(str(os.getpid()))
    print(f"[gallery] serving {what} as uid {os.getuid()}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
