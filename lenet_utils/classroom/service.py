"""The class gallery over HTTP: the client a student's kernel, the app and the dashboard use on a hub.

On a class hub one process owns the class's SQLite file, the gallery service (``hub/gallery_service.py``,
a JupyterHub service at ``/services/gallery/``). Everyone else asks it over HTTP with their own
JupyterHub token; the service asks the hub whose token it is and stores that name as the share's
owner, so nobody can share as, or delete for, someone else::

    kernel / app  --HTTP + token-->  proxy /services/gallery/  -->  gallery service  -->  class.sqlite
                                                                    (asks the hub: whose token?)

    db = class_store()      # GalleryService() when $LENET_CLASS_SERVICE is set, else the local ClassDB()
    db.add(share); db.shares(); db.delete(share_id, owner); db.stamp()     # the same calls as ClassDB

The token is ``$JUPYTERHUB_API_TOKEN`` (every server the hub starts has one), or the file named by
``$LENET_CLASS_SERVICE_TOKEN_FILE`` (the app, which runs outside the hub, with a token the lecturer made
at ``/hub/token``). ``owner`` arguments are labels *within* the caller's own name: the caller's name
itself (or "") means the caller, anything else (the app's ``visit-...``) is a part of it the service
keeps apart ("alice/visit/<label>"). This module also holds the wire format both sides use
(:func:`share_to_json`, :func:`share_from_json`), so the client and the service cannot drift apart.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from ..mnist_files import SIDE
from .store import NICKNAME_MAX, ORIGINAL_MAX_BYTES, ClassDB, ClassDBError, Share, check_share, default_path

__all__ = ["ClassServiceError", "GalleryService", "class_store", "service_url", "share_from_json",
           "share_to_json"]

TIMEOUT = 30.0                              # s: one request (the service itself waits out SQLite's lock)
SOURCES = ("upload", "example", "drawing", "simulated")
VISIT = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a label within one's own name (the app's "visit-<hex>")
MODEL_MAX = 64


class ClassServiceError(ClassDBError):
    """The gallery service could not be used; the message says what happened and what to do."""


def service_url() -> str:
    """``$LENET_CLASS_SERVICE`` (the gallery service's address, ending in '/'), or "" when unset."""
    url = os.environ.get("LENET_CLASS_SERVICE", "").strip()
    return url if not url or url.endswith("/") else url + "/"


def class_store(*, create: bool = True) -> ClassDB | GalleryService | None:
    """The class's gallery: the service when ``$LENET_CLASS_SERVICE`` is set (a hub), else the local
    file (:func:`store.default_path`, a single laptop). ``create=False``: None when that file is missing."""
    if service_url():
        return GalleryService()
    path = default_path()
    return ClassDB(path) if create or path.exists() else None


# --- the wire format -----------------------------------------------------------------------------
def share_to_json(s: Share, *, with_original: bool = True) -> dict:
    out = {"id": s.id, "share_id": s.share_id, "created": s.created, "nickname": s.nickname, "owner": s.owner,
           "true_label": int(s.true_label), "predicted": int(s.predicted), "confidence": float(s.confidence),
           "pixels": base64.b64encode(np.asarray(s.pixels, np.uint8).tobytes()).decode(), "source": s.source,
           "probabilities": [float(p) for p in s.probabilities], "model": s.model}
    if with_original:
        out["original"] = base64.b64encode(s.original or b"").decode()
    return out


def share_from_json(d: object) -> Share:
    """A :class:`Share` from the wire; ValueError with a one-line reason for anything malformed.
    (ClassDB.add checks the rest: labels 0-9, confidence, PNG and its size.)"""
    if not isinstance(d, dict):
        raise ValueError("a share must be a JSON object")

    def field(name, kinds, default=None):
        value = d.get(name, default)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise ValueError(f"the share's {name!r} is missing or has the wrong type")
        return value

    def b64(name, limit):
        text = field(name, str)
        if len(text) > limit * 4 // 3 + 8:
            raise ValueError(f"the share's {name!r} is larger than {limit:,} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueError(f"the share's {name!r} is not base64") from None

    pixels = b64("pixels", SIDE * SIDE)
    if len(pixels) != SIDE * SIDE:
        raise ValueError(f"the share's pixels must be {SIDE}x{SIDE} bytes, not {len(pixels)}")
    probabilities = field("probabilities", list, [])
    if len(probabilities) not in (0, 10) or not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                                                    and 0 <= p <= 1 for p in probabilities):
        raise ValueError("the share's probabilities must be ten numbers between 0 and 1 (or none)")
    source = field("source", str, "upload")
    if source not in SOURCES:
        raise ValueError(f"the share's source must be one of {', '.join(SOURCES)}, not {source[:20]!r}")
    model = field("model", str, "shipped")
    if len(model) > MODEL_MAX or not model.isprintable():
        raise ValueError(f"the share's model name must be printable and at most {MODEL_MAX} characters")
    share_id = field("share_id", str)
    if not re.fullmatch(r"[0-9a-f]{32}", share_id):
        raise ValueError("the share's share_id must be 32 hex digits (uuid4().hex)")
    return Share(pixels=np.frombuffer(pixels, np.uint8).reshape(SIDE, SIDE).copy(),
                 true_label=field("true_label", int), predicted=field("predicted", int),
                 confidence=float(field("confidence", (int, float))),
                 original=b64("original", ORIGINAL_MAX_BYTES) if "original" in d else b"",
                 nickname=field("nickname", str, "")[:NICKNAME_MAX * 4], owner=str(d.get("owner") or ""),
                 source=source, probabilities=[float(p) for p in probabilities], model=model,
                 created=float(field("created", (int, float), 0.0)), share_id=share_id,
                 id=d.get("id") if isinstance(d.get("id"), int) else None)


# --- the client ----------------------------------------------------------------------------------
class GalleryService:
    """The class gallery service at ``url`` (default ``$LENET_CLASS_SERVICE``), with ``token`` (default
    ``$JUPYTERHUB_API_TOKEN``, or the file ``$LENET_CLASS_SERVICE_TOKEN_FILE``). Same calls as ClassDB."""

    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = TIMEOUT):
        self.url = (url or service_url()).rstrip("/") + "/"
        if self.url == "/":
            raise ClassServiceError("no gallery service: set LENET_CLASS_SERVICE to its address "
                                    "(on a hub, .../services/gallery/)")
        self.token = token if token is not None else _token_from_env()
        self.timeout = timeout
        self.path = self.url           # where the shares are, for messages ("the class gallery: <path>")

    def __repr__(self) -> str:
        return f"GalleryService({self.url!r})"

    # --- the calls ClassDB has ---------------------------------------------------------------
    def add(self, share: Share) -> int:
        """Store ``share`` (the service sets its owner to the token's name); returns its id."""
        check_share(share)               # a bad share is refused here, before it travels
        body = share_to_json(share)
        visit = self._visit(share.owner)
        answer = self._request("POST", "api/shares", {"visit": visit} if visit else {}, body=body)
        share.id = answer["id"]          # share.owner stays the caller's label: a retry sends the same
        return share.id

    def delete(self, share_id: int, owner: str = "") -> bool:
        """Delete share ``share_id`` if it is the caller's (``owner``: a label within the caller's
        name, see the module's text). True when a row went; False when it is not the caller's or is gone."""
        visit = self._visit(owner)
        try:
            self._request("DELETE", f"api/shares/{int(share_id)}", {"visit": visit} if visit else {})
        except ClassServiceError as err:
            if getattr(err, "status", None) in (403, 404) and err.from_service:
                return False
            raise
        return True

    def shares(self, *, owner: str | None = None, since_id: int = 0, with_original: bool = False) -> list[Share]:
        """Every share (``owner`` given: the caller's own, with that label), oldest first."""
        query = {"since_id": int(since_id), "with_original": int(bool(with_original))}
        if owner is not None:
            query["mine"] = 1
            visit = self._visit(owner)
            if visit:
                query["visit"] = visit
        answer = self._request("GET", "api/shares", query)
        return [share_from_json(d) for d in answer["shares"]]

    def original(self, share_id: int) -> bytes | None:
        try:
            answer = self._request("GET", f"api/shares/{int(share_id)}/original")
        except ClassServiceError as err:
            if getattr(err, "status", None) == 404 and err.from_service:
                return None
            raise
        return base64.b64decode(answer["original"])

    def stamp(self) -> tuple[int, int]:
        answer = self._request("GET", "api/stamp")
        return int(answer["count"]), int(answer["max_id"])

    def __len__(self) -> int:
        return self.stamp()[0]

    def whoami(self) -> str:
        """The owner name the service gives this token's shares."""
        return self._request("GET", "api/whoami")["owner"]

    # --- HTTP ---------------------------------------------------------------------------------
    def _visit(self, owner: str | None) -> str:
        """The label within the caller's name that ``owner`` means ("" for the caller itself)."""
        owner = (owner or "").strip()
        if not owner or owner in (os.environ.get("JUPYTERHUB_USER", ""), "anonymous"):
            return ""
        if not VISIT.fullmatch(owner):
            raise ValueError(f"an owner label must be 1-64 letters, digits, '_', '.' or '-', not {owner[:70]!r}")
        return owner

    def _request(self, method: str, path: str, query: dict | None = None, body: dict | None = None) -> dict:
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as reply:
                text = reply.read()
        except urllib.error.HTTPError as err:
            raise _refused(self.url, err) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise ClassServiceError(f"the class gallery service at {self.url} is not answering ({reason}); "
                                    "ask the lecturer to check the hub, then try again") from None
        if not text:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise ClassServiceError(f"{self.url} answered with something that is not the gallery service's JSON; "
                                    "is LENET_CLASS_SERVICE the gallery's address (.../services/gallery/)?") from None


def _token_from_env() -> str:
    file = os.environ.get("LENET_CLASS_SERVICE_TOKEN_FILE", "").strip()
    if file:
        try:
            return Path(file).expanduser().read_text().strip()
        except OSError as err:
            raise ClassServiceError(f"cannot read the gallery token file {file} ({err.strerror}): "
                                    "make a token at /hub/token and save it there") from None
    return os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()


def _refused(url: str, err: urllib.error.HTTPError) -> ClassServiceError:
    try:
        said = json.loads(err.read() or b"{}").get("error", "")
    except (ValueError, AttributeError, OSError):
        said = ""
    hint = {401: "no JupyterHub token was sent: run this inside a hub server, or set LENET_CLASS_SERVICE_TOKEN_FILE",
            403: "refused", 404: "not found",
            413: "the share is too large"}.get(err.code, f"HTTP {err.code}")
    if err.code in (502, 503, 504):
        hint = "the gallery service is not running behind the hub; ask the lecturer to check it"
    share_missing = err.code == 404 and said.startswith("no share")   # the gallery's own 404
    if err.code == 404 and not share_missing:
        out = ClassServiceError(f"{url} has no gallery service (HTTP 404): check LENET_CLASS_SERVICE")
    else:
        out = ClassServiceError(f"the class gallery service at {url}: {said or hint}")
    out.status, out.from_service = err.code, bool(said) and (err.code != 404 or share_missing)
    return out
