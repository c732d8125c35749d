"""The lab's JSON files: written atomically, read back with a one-line error naming the problem.

Notebook 06 saves the leaderboard (``Leaderboard.save``) and reads the variants table
(``VariantTable.load``); both go through here.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1                        # of both files; a newer one is refused


class RunFileError(ValueError):
    """A runs or results file that cannot be used; the message names the file, the problem and the fix."""


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary name, so a crash never leaves half a file."""
    if path.is_dir():
        raise RunFileError(f"{path} is a folder; give a file path such as {path / 'layer_lab.json'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # "x" mode: the umask decides permissions
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written file under the real name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    return write_text(path, dumps(payload) + "\n")


def dumps(value: Any, depth: int = 0) -> str:
    """JSON, indented, but a list of numbers stays on one line (a loss curve is one line, not 235)."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)) and value and not all(
            isinstance(v, (int, float, str, bool)) or v is None for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


def read_json(path: Path, fmt: str, what: str) -> dict[str, Any]:
    """The JSON object in ``path``, which must declare ``"format": fmt``; ``what`` names the file
    the reader should give instead, in every error."""
    if path.is_dir():
        raise RunFileError(f"{path} is a folder, not a file; give the path of {what}.")
    if not path.is_file():
        raise RunFileError(f"{path} does not exist; give the path of {what}.")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RunFileError(f"{path} is not a text file; give the path of {what}.") from None
    except json.JSONDecodeError as err:
        raise RunFileError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                           f"it may be truncated. Give the path of {what}.") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        found = payload.get("format") if isinstance(payload, dict) else None
        raise RunFileError(f"{path} is not {what}" + (f" (its format is {found!r})" if found else "") + ".")
    version = payload.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFileError(f"{path} has format version {version!r}; this lenet_utils reads version "
                           f"{FORMAT_VERSION}. Update lenet_utils (pip install -U -e .).")
    return payload
