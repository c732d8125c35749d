"""One answered digit made into a share for the class store: its 28x28 input, a size-capped original, who sent it.

The predict panel's "share with the class" box and the simulated class both share through
:func:`share_from_prediction`, so a simulated student's digit is stored exactly as a real one.
"""

from __future__ import annotations

import getpass
import io
import os

import numpy as np
from PIL import Image

from ..predict.answer import Prediction
from .store import ORIGINAL_MAX_BYTES, Share

__all__ = ["ORIGINAL_SIDE", "capped_original", "default_owner", "share_from_prediction"]

ORIGINAL_SIDE = 256            # px: the stored original's longer side at most (a size cap, not a copy)


def default_owner() -> str:
    """Who may delete a share made from this kernel: the hub's name for the student
    (``$JUPYTERHUB_USER``: on a cluster every pod's login name is ``jovyan``), else the login name.
    The gallery service does not trust it: it stores the name the hub gives the caller's token."""
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub_user:
        return hub_user
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): everyone in it is one owner
        return "anonymous"


def capped_original(picture: np.ndarray, side: int = ORIGINAL_SIDE) -> bytes:
    """The uploaded picture as a PNG no larger than ``side`` px and ``ORIGINAL_MAX_BYTES``."""
    img = Image.fromarray(np.ascontiguousarray(picture))
    while True:
        small = img.copy()
        small.thumbnail((side, side), Image.BOX)
        buf = io.BytesIO()
        small.save(buf, "PNG", optimize=True)
        if buf.tell() <= ORIGINAL_MAX_BYTES or side <= 32:
            return buf.getvalue()
        side //= 2                     # a noisy colour photo: halve until it fits


def share_from_prediction(pred: Prediction, true_label: int, *, nickname: str = "", owner: str = "",
                          source: str = "upload") -> Share:
    """A :class:`Share` from a successful prediction (a refused image cannot be shared)."""
    if pred is None or not pred.ok or "centred" not in pred.stages:
        raise ValueError("only an image the network answered can be shared")
    picture = pred.stages.get("oriented", pred.stages["centred"])
    return Share(pixels=np.asarray(pred.stages["centred"], np.uint8), true_label=int(true_label),
                 predicted=int(pred.label), confidence=float(pred.confidence), original=capped_original(picture),
                 nickname=nickname, owner=owner, source=source, probabilities=list(pred.probabilities))
