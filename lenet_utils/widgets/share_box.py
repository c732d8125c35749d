"""'Share with the class': the predict panel's box for sending one answered digit to the class store.

Sharing is an explicit choice per image: after an answer the box offers the network's label as
the true label (correct it if the network was wrong), an optional nickname, and a button. A
student can list and delete their own shares. Nothing is shared without the button.

    box = ShareBox()               # the panel hosts one; box.offer(prediction) after each answer
"""

from __future__ import annotations

import html
import time

import ipywidgets as W

from ..classroom.shares import default_owner, share_from_prediction
from ..classroom.store import ClassDB, ClassDBError
from ..messages import one_line
from ..predict.answer import Prediction


class ShareBox(W.VBox):
    """The box. ``offer(pred, kind, truth)`` after each answer; ``share()`` is the button's action.
    ``owner`` decides whose shares ``mine()`` lists and ``delete`` may remove."""

    def __init__(self, db: ClassDB | None = None, owner: str | None = None) -> None:
        self._db = db
        self.owner = owner or default_owner()
        self._pred: Prediction | None = None
        self._kind = "upload"
        self.true_label = W.Dropdown(options=[(str(d), d) for d in range(10)], value=0, description="It is a",
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
        self.delete_button.on_click(lambda _: self._safely(self.delete_selected))

    @property
    def db(self) -> ClassDB:
        if self._db is None:            # opened on first use: a panel without sharing never touches it
            self._db = ClassDB()
        return self._db

    def offer(self, pred: Prediction | None, kind: str = "upload", truth: int | None = None) -> None:
        """After an answer: offer it for sharing, the true label preset to ``truth`` or the answer."""
        self._pred = pred if pred is not None and pred.ok else None
        self._kind = kind
        self.share_button.disabled = self._pred is None
        if self._pred is not None:
            self.true_label.value = truth if truth is not None else int(pred.label)
            self._say("Is the label right? Correct it if not, then share.")
        else:
            self._say("Answer a digit first, then share it if you like.")

    def share(self) -> int:
        """Store the offered digit with the chosen label; returns the share's id."""
        share = share_from_prediction(self._pred, self.true_label.value, nickname=self.nickname.value,
                                      owner=self.owner, source=self._kind)
        share_id = self.db.add(share)
        self.share_button.disabled = True          # one image, one share: the next answer re-enables
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
