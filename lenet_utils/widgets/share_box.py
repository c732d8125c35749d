"""'Share with the class': the predict panel's box for sending one answered digit to the class store.

Sharing is an explicit choice per image: after an answer the student picks which digit it truly
is, adds an optional nickname, and presses the button. A student can list and delete their own
shares. Nothing is shared without the button.

The network's answer is never preset as the true label (only a course example's known label is):
a preset guess would be shared by whoever clicks through, so a smiley the network reads as a 0
(the not-a-digit detector misses some) would enter the class gallery as a "0", and the gallery's
accuracy would count the network's own guesses as right. An answer flagged "not a digit" says so
here too. The button stays off until a label is picked.

    box = ShareBox()               # the panel hosts one; box.offer(prediction) after each answer
"""

from __future__ import annotations

import html
import time

import ipywidgets as W

from ..classroom.service import GalleryService, class_store
from ..classroom.shares import default_owner, share_from_prediction
from ..classroom.store import ClassDB, ClassDBError
from ..messages import one_line
from ..predict.answer import Prediction


class ShareBox(W.VBox):
    """The box. ``offer(pred, kind, truth)`` after each answer; ``share()`` is the button's action.
    ``owner`` decides whose shares ``mine()`` lists and ``delete`` may remove."""

    def __init__(self, db: ClassDB | GalleryService | None = None, owner: str | None = None) -> None:
        self._db = db
        self.owner = owner or default_owner()
        self._pred: Prediction | None = None
        self._kind = "upload"
        self._shared = False           # this answer is shared already: one image, one share
        self.true_label = W.Dropdown(options=[(str(d), d) for d in range(10)], value=None, description="It is a",
                                     layout=W.Layout(width="130px"), style={"description_width": "52px"})
        self.true_label.add_class("lenet-share-label")
        self.nickname = W.Text(placeholder="nickname (optional)", layout=W.Layout(width="170px"))
        self.nickname.add_class("lenet-share-nickname")
        self.share_button = W.Button(description="Share with the class", icon="users", button_style="success",
                                     disabled=True, layout=W.Layout(width="auto"))
        self.share_button.add_class("lenet-share-button")
        self.status = W.HTML("<div class='lenet-share-status'>Answer a digit first, then share it if you like.</div>")
        self.mine_list = W.Dropdown(options=[], description="Yours", layout=W.Layout(width="220px"),
                                    style={"description_width": "40px"})
        self.mine_list.add_class("lenet-share-mine")
        self.delete_button = W.Button(description="Delete", icon="trash", disabled=True, layout=W.Layout(width="auto"))
        self.delete_button.add_class("lenet-share-delete")
        row1 = W.HBox([self.true_label, self.nickname, self.share_button])
        row2 = W.HBox([self.mine_list, self.delete_button])
        for row in (row1, row2):
            row.add_class("lenet-share-row")
        title = W.HTML("<div class='lenet-card-title'>Share with the class</div>")
        super().__init__([title, row1, self.status, row2])
        self.add_class("lenet-card")
        self.add_class("lenet-share")
        self.share_button.on_click(lambda _: self._safely(self.share))
        self.true_label.observe(lambda _: self._enable(), names="value")
        self.delete_button.on_click(lambda _: self._safely(self.delete_selected))

    @property
    def db(self) -> ClassDB | GalleryService:
        if self._db is None:            # opened on first use: a panel without sharing never touches it
            self._db = class_store()    # the hub's gallery service ($LENET_CLASS_SERVICE), else the file
        return self._db

    def offer(self, pred: Prediction | None, kind: str = "upload", truth: int | None = None) -> None:
        """After an answer: offer it for sharing. The true label is preset only to a known ``truth``
        (a course example); otherwise the student picks it, so no guess is shared by a click."""
        self._pred = pred if pred is not None and pred.ok else None
        self._kind = kind
        self._shared = False
        self.true_label.value = truth if self._pred is not None else None
        if self._pred is None:
            self._say("Answer a digit first, then share it if you like.")
        elif truth is not None:
            self._say("This example's true label is set. Share it if you like.")
        elif self._pred.not_a_digit:
            self._say("This doesn't look like a digit, so it is not shared as one. If it is a digit, pick "
                      "which, then share.", data="data-not-a-digit='1'")
        else:
            self._say("Which digit is it really? Pick it (the network may be wrong), then share.")
        self._enable()

    def _enable(self) -> None:
        """The button is on only with an answer, a label chosen, and nothing shared from it yet."""
        self.share_button.disabled = self._pred is None or self.true_label.value is None or self._shared

    def share(self) -> int:
        """Store the offered digit with the chosen label; returns the share's id."""
        if self._pred is not None and self.true_label.value is None:
            raise ValueError("Pick the digit it shows first: no label is guessed for you")
        share = share_from_prediction(self._pred, self.true_label.value, nickname=self.nickname.value,
                                      owner=self.owner, source=self._kind)
        share_id = self.db.add(share)
        self._shared = True                        # one image, one share: the next answer re-enables
        self._enable()
        self._say(f"Shared as a {share.true_label} (#{share_id}). Thank you!", data=f"data-shared='{share_id}'")
        self.refresh_mine()
        return share_id

    def refresh_mine(self) -> None:
        """List this owner's shares, newest first."""
        mine = self.db.shares(owner=self.owner)[::-1]
        self.mine_list.options = [(f"#{s.id}: a {s.true_label}, {time.strftime('%H:%M', time.localtime(s.created))}",
                                   s.id) for s in mine]
        self.mine_list.value = mine[0].id if mine else None      # the newest is chosen for "Delete"
        self.delete_button.disabled = not mine

    def delete_selected(self) -> None:
        chosen = self.mine_list.value
        if chosen is not None and self.db.delete(chosen, self.owner):
            self._say(f"Deleted share #{chosen}.")
        self.refresh_mine()

    def _say(self, text: str, error: bool = False, data: str = "") -> None:
        cls = "lenet-share-status lenet-error" if error else "lenet-share-status"
        self.status.value = f"<div class='{cls}' {data}>{html.escape(text)}</div>"

    def _safely(self, action) -> None:
        """A full disk or a refused database file becomes one red line, never a traceback."""
        try:
            action()
        except (ClassDBError, ValueError, OSError) as err:
            self._say(one_line(err), error=True)
