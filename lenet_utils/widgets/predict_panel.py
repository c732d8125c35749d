"""The predict panel: upload, pick or draw a digit; see what the network sees and what it answers.

    from lenet_utils.widgets import predict_panel
    predict_panel()

Every input (an uploaded file, an example from ``data/examples``, the drawing pad) becomes bytes
and goes through :func:`lenet_utils.predict.answer.predict_image`, the same path as the CLI. A refused
input shows as a one-line message in the panel; nothing raises into the notebook. This module
decides when to show what; :mod:`.predict_views` makes the pictures, the answer and the bars.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W
import numpy as np
from torch import nn

from ..images.decoding import SUFFIXES
from ..messages import one_line
from ..predict.answer import Prediction, default_model, example_images, example_label, predict_image
from .closing import close_tree
from .drawing_pad import DrawingPad
from .look_inside_view import LookInsideView
from .predict_views import (
    NET_SIDE,
    VIEW_SIDE,
    answer_html,
    bars_html,
    blank_png,
    card,
    original_size,
    png_bytes,
    row,
    step_tiles,
)
from .saved_view import register_once
from .share_box import ShareBox

__all__ = ["GIVEN", "SHIPPED", "PredictPanel", "predict_panel"]   # GIVEN, SHIPPED: the chooser's values

_CSS = (Path(__file__).parent / "predict_panel.css").read_text()

ACCEPT = ",".join(("image/*", *SUFFIXES))   # what the upload button offers: what the decoder reads
UPLOAD_LABEL = "Upload a photo of a digit"  # the button's words, drawn by CSS (no "(0)" file count)


@dataclass
class _Source:
    data: bytes
    name: str
    kind: str                  # "upload" | "example" | "drawing"


class PredictPanel(W.VBox):
    """The panel. Its parts are attributes so tests and curious readers can drive them:
    ``upload``, ``example_button``, ``pad``, ``model_choice``, ``steps_toggle``, ``inside`` (the
    "look inside" view, its button ``inside.toggle``); the last answer is ``prediction`` and the
    message line's text is ``message_text``."""

    def __init__(self, model: nn.Module | None = None, *, examples: str | Path | None = None,
                 checkpoints: str | Path | None = None) -> None:
        self._examples = example_images(examples)
        self._example_index = 0
        self._checkpoints_dir = Path(checkpoints) if checkpoints is not None else None
        self._models = ModelCache(model)
        self._source: _Source | None = None
        self.prediction: Prediction | None = None
        self.message_text = ""
        self._refreshing = False
        self._releasing = False    # True while the panel itself empties the upload button's file

        self.upload = W.FileUpload(accept=ACCEPT, multiple=False, description=UPLOAD_LABEL, icon="upload",
                                   tooltip=f"{UPLOAD_LABEL}: a photo or scan of one handwritten digit",
                                   button_style="primary", layout=W.Layout(width="auto"))
        self.upload.add_class("lenet-upload")
        self.example_button = W.Button(description="Try an example", icon="image",
                                       tooltip=f"{len(self._examples)} digits drawn for this course, in turn",
                                       layout=W.Layout(width="auto"))
        self.example_button.add_class("lenet-example")
        self.model_choice = W.Dropdown(description="Model", layout=W.Layout(width="300px"),
                                       style={"description_width": "44px"})
        self.model_choice.add_class("lenet-model")
        self.refresh_button = W.Button(icon="refresh", tooltip="look for newly trained checkpoints",
                                       layout=W.Layout(width="36px"))
        self.steps_toggle = W.ToggleButton(description="Show the steps", icon="list-ol", value=False,
                                           tooltip="every stage of the preprocessing",
                                           layout=W.Layout(width="auto"))
        self.steps_toggle.add_class("lenet-steps-toggle")
        self.pad = DrawingPad(size=VIEW_SIDE, stroke_width=14.0)   # pen ~ 1/14 of the pad: MNIST-like strokes
        self.pad.add_class("lenet-pad-widget")

        self.original = W.Image(value=blank_png(), format="png",
                                layout=W.Layout(width=f"{VIEW_SIDE}px", height=f"{VIEW_SIDE}px"))
        self.original.add_class("lenet-frame")
        self.original_note = W.HTML("<div class='lenet-card-note'>&nbsp;</div>")
        self.network_input = W.Image(value=blank_png(NET_SIDE), format="png",
                                     layout=W.Layout(width=f"{NET_SIDE}px", height=f"{NET_SIDE}px"))
        self.network_input.add_class("lenet-pixelated")
        self.network_input.add_class("lenet-frame")
        self.answer = W.HTML(answer_html(None))
        self.answer.add_class("lenet-answer-widget")
        self.bars = W.HTML(bars_html(None))
        self.message = W.HTML("<div class='lenet-message'>&nbsp;</div>")
        self.message.add_class("lenet-message-widget")
        self.steps = W.HBox([])
        self.steps.add_class("lenet-steps")
        self.steps.layout.display = "none"
        self.inside = LookInsideView()      # computed only while open: the answer never waits for it

        controls = W.HBox([self.upload, self.example_button, self.model_choice, self.refresh_button,
                           self.steps_toggle, self.inside.toggle])
        controls.add_class("lenet-controls")
        cards = W.HBox([
            card("Your image", self.original, note=self.original_note, kind="image"),
            card("...or draw one", self.pad, kind="pad"),
            card("What the network sees (28x28), and answers", row(self.network_input, self.answer), self.bars,
                 note=W.HTML("<div class='lenet-card-note'>the input: light ink on black, as in MNIST</div>"),
                 kind="answer"),
        ])
        cards.add_class("lenet-cards")
        label_css = f".lenet-panel .lenet-upload::after {{ content: {json.dumps(UPLOAD_LABEL)}; }}"
        header = W.HTML(f"<style>{_CSS}{label_css}</style>"
                        "<div class='lenet-title'>What digit is this? Ask LeNet-5</div>"
                        "<div class='lenet-sub'>Upload a photo or scan of one handwritten digit, try one of "
                        "ours, or draw one. The image is made to look like MNIST first: that is what the "
                        "28x28 square shows.</div>")
        # 'share with the class': explicit, per image (set .share.owner to change who may delete)
        self.share = ShareBox()
        super().__init__([header, controls, cards, self.message, self.inside, self.share, self.steps])
        self.add_class("lenet-panel")

        self.refresh_models()
        self.upload.observe(self._guard(self._on_upload), names="value")
        self.example_button.on_click(self._guard(lambda _: self.show_example()))
        self.pad.observe(self._guard(self._on_draw), names="png")
        self.model_choice.observe(self._guard(self._on_model), names="value")
        self.refresh_button.on_click(self._guard(lambda _: self.refresh_models()))
        self.steps_toggle.observe(self._guard(self._on_steps), names="value")

    # --- models ----------------------------------------------------------------------------
    def model_options(self) -> list[tuple[str, str]]:
        """(label, value) for the chooser: a given model, the shipped one, then ``*.pt`` the user trained."""
        return model_options(self._models.given is not None, self._checkpoints_dir)

    def refresh_models(self) -> None:
        """Rescan for checkpoints (a model trained since the panel opened appears)."""
        current = self.model_choice.value
        options = self.model_options()
        values = [v for _, v in options]
        self._refreshing = True   # the chooser resets its value while options change: not a user's choice
        try:
            self.model_choice.options = options
            self.model_choice.value = current if current in values else (values[0] if values else None)
        finally:
            self._refreshing = False
        if current is not None and self.model_choice.value != current and self._source is not None:
            self._run()           # the chosen checkpoint was deleted: answer again with the new choice
        if not values:
            self._say("No model to ask: the shipped checkpoint is missing and data/checkpoints holds none. "
                      "Train one with `python -m lenet_utils train`.", error=True)

    def current_model(self) -> nn.Module:
        """The chosen model, loaded once (and again when its file changes)."""
        return self._models.load(self.model_choice.value)

    # --- inputs ----------------------------------------------------------------------------
    def predict_bytes(self, data: bytes, name: str, kind: str = "upload") -> Prediction:
        """Run ``data`` through the pipeline and show everything. Returns the prediction."""
        if kind != "upload" and self.upload.value:
            self._release_upload(())       # the answer is no longer the uploaded file's
        self._source = _Source(bytes(data), name, kind)
        return self._run()

    def show_example(self) -> Prediction | None:
        """The next of the course's example digits (they take turns)."""
        if not self._examples:
            self._say("No example images found in data/examples (run scripts/make_examples.py).", error=True)
            return None
        path = self._examples[self._example_index % len(self._examples)]
        self._example_index += 1
        return self.predict_bytes(path.read_bytes(), path.name, "example")

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files or self._releasing:
            return
        f = files[-1]
        self.predict_bytes(bytes(f["content"]), f.get("name") or "upload", "upload")
        # Free the bytes but keep the entry (its name, for tests and readers). Choosing the same file
        # again is still a change (its content is back), so it is answered again.
        self._release_upload(({**f, "content": memoryview(b"")},))

    def _release_upload(self, value: tuple) -> None:
        self._releasing = True
        try:
            self.upload.value = value
        finally:
            self._releasing = False

    def _on_draw(self, change) -> None:
        if not change["new"]:
            self._source = None
            self._show(None, {})
            self.share.offer(None)
            self._say("The pad is clear: draw a digit.")
            return
        self.predict_bytes(change["new"], "your drawing", "drawing")

    def _on_model(self, change) -> None:
        if not self._refreshing and self._source is not None and change["new"] is not None:
            self._run()

    def _on_steps(self, change) -> None:
        self.steps.layout.display = "flex" if change["new"] else "none"
        self._show_steps(self.prediction.stages if self.prediction is not None else {})

    # --- showing ---------------------------------------------------------------------------
    def _run(self) -> Prediction:
        src = self._source
        try:
            model = self.current_model()
        except Exception:
            self._show(None, {})          # the old answer came from another model: never leave it up
            raise                         # _guard writes the message
        pred = predict_image(src.data, model, name=src.name)
        self._show(pred, pred.stages)
        self.inside.update(model, pred)
        if pred.error is not None:
            self._say(pred.error, error=True)
        else:
            truth = example_label(src.name) if src.kind == "example" else None
            check = "" if truth is None else (" (right)" if truth == pred.label else f" (it shows a {truth})")
            if pred.not_a_digit:       # no confident figure beside "not a digit": it would contradict it
                self._say(f"{src.name}: this doesn't look like a digit (the closest is a {pred.label}){check}")
            else:
                self._say(f"{src.name}: {pred.label} with {pred.confidence:.1%} confidence{check}")
        self.share.offer(pred, src.kind, example_label(src.name) if src.kind == "example" else None)
        return pred

    def _show(self, pred: Prediction | None, stages: Mapping[str, np.ndarray]) -> None:
        self.prediction = pred
        if self._source is not None and self._source.kind == "drawing":
            self.original.value = blank_png()           # the drawing is on the pad already: never shown twice
            self.original_note.value = "<div class='lenet-card-note'>your drawing is on the pad</div>"
        elif "oriented" in stages:
            shown = stages["oriented"]
            self.original.value = png_bytes(shown, VIEW_SIDE if max(shown.shape[:2]) > VIEW_SIDE else None)
            w, h = original_size(self._source.data) or (shown.shape[1], shown.shape[0])   # not the working copy's
            self.original_note.value = (f"<div class='lenet-card-note' title='{html.escape(self._source.name)}'>"
                                        f"{html.escape(self._source.name)}, {w}x{h} px</div>")
        else:
            self.original.value = blank_png()
            self.original_note.value = "<div class='lenet-card-note'>&nbsp;</div>"
        if pred is not None and pred.ok:
            self.network_input.value = png_bytes(stages["centred"], NET_SIDE, pixelated=True)
        else:
            self.network_input.value = blank_png(NET_SIDE)
        self.answer.value = answer_html(pred)
        if pred is None:
            self.inside.update(None, None)
        self.bars.value = bars_html(pred.probabilities if pred is not None and pred.ok else None)
        self._show_steps(stages)

    def _show_steps(self, stages: Mapping[str, np.ndarray]) -> None:
        if not self.steps_toggle.value:
            return
        old, self.steps.children = self.steps.children, step_tiles(stages)
        close_tree(*old)                 # else every upload leaves its tiles alive in the kernel

    def _say(self, text: str, error: bool = False) -> None:
        """One line under the cards: what happened, or (in red) why not."""
        self.message_text = text
        body = f"<span class='lenet-error'>{html.escape(text)}</span>" if error else html.escape(text)
        self.message.value = f"<div class='lenet-message' data-error='{int(error)}'>{body}</div>"

    def _guard(self, callback: Callable[..., object]) -> Callable[..., None]:
        """Widget callbacks never raise into the kernel log: any failure becomes the message line."""
        def run(*args: object) -> None:
            try:
                callback(*args)
            except Exception as err:  # shown to the user, one line, never a traceback
                text = one_line(err)
                self._say(text if isinstance(err, ValueError) else
                          f"Something went wrong inside the panel ({type(err).__name__}: {text}); please tell "
                          "the course team what you did", error=True)
                if os.environ.get("LENET_DEBUG"):
                    raise
        return run


def predict_panel(model: nn.Module | None = None, *, examples: str | Path | None = None,
                  checkpoints: str | Path | None = None) -> PredictPanel:
    """Build the panel. ``model`` (optional) is offered first in the model chooser; ``examples``
    and ``checkpoints`` replace ``data/examples`` and ``data/checkpoints`` (for tests)."""
    register_once()          # a saved, unexecuted notebook shows the panel's title, not its repr
    return PredictPanel(model, examples=examples, checkpoints=checkpoints)


# --- which models the panel offers, each loaded once -----------------------------------------------
SHIPPED = "shipped"            # model chooser value of the checkpoint inside the package
PAPER = "paper1998"            # ... of the shipped 1998 LeNet-5 (notebook 04b)
GIVEN = "given"                # ... of a model passed to predict_panel(model=...)


def model_options(given: bool, folder: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) for the chooser: a given model, the shipped one, then ``*.pt`` in ``folder``
    (``data/checkpoints`` when None)."""
    from ..checkpoints import PRETRAINED_PATH
    from ..paths import checkpoints_dir

    options = [("the model passed to predict_panel()", GIVEN)] if given else []
    from ..paper1998 import PAPER_CHECKPOINT

    if PRETRAINED_PATH.is_file():
        options.append(("shipped LeNet-5 (lenet5_mnist.pt)", SHIPPED))
    if PAPER_CHECKPOINT.is_file():
        options.append(("LeNet-5 as in 1998 (lenet5_paper1998.pt)", PAPER))
    folder = folder or checkpoints_dir()
    if folder.is_dir():
        options += [(f"yours: {p.name}", str(p)) for p in sorted(folder.glob("*.pt"))]
    return options


class ModelCache:
    """The chooser's models: the shipped one is the package's own (``predict.default_model()``, shared
    with the CLI and every panel and visitor of the app); a checkpoint file is loaded once, sealed
    for answers (``fast.seal``: folded once, as the shipped one) and loaded again when its mtime changes."""

    def __init__(self, given: nn.Module | None = None) -> None:
        self.given = given
        self._models: dict[str, tuple[float, nn.Module]] = {}   # value -> (file mtime, model)

    def load(self, value: str | None) -> nn.Module:
        """The model for the chooser's ``value``; ``CheckpointError`` with one line when it cannot be had."""
        from ..checkpoints import CheckpointError, load_checkpoint
        from ..fast import seal

        if value == GIVEN:
            return self.given
        if value is None:
            raise CheckpointError("no model available: train one with `python -m lenet_utils train`")
        if value == SHIPPED:
            return default_model()                 # raises CheckpointError with one line when missing
        if value == PAPER:                         # the 1998 network behind the course's input and scores
            if PAPER not in self._models:
                from ..paper1998 import PaperOnCourseInput, load_paper_pretrained

                self._models[PAPER] = (0.0, seal(PaperOnCourseInput(load_paper_pretrained())))
            return self._models[PAPER][1]
        path = Path(value)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            raise CheckpointError(f"{path}: the checkpoint file is gone; press the refresh button") from None
        cached = self._models.get(value)
        if cached is None or cached[0] != mtime:
            self._models[value] = (mtime, seal(load_checkpoint(path).model))
        return self._models[value][1]
