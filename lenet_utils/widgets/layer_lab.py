"""The layer lab: change LeNet-5's layers, watch shapes and parameters follow, train the variant.

    from lenet_utils.widgets import layer_lab
    lab = layer_lab()        # shows itself in a notebook cell

Thin on purpose: the network's controls and table come from :mod:`.lab_network`, its picture, the
curves and messages from the views at the end of this module, training and the leaderboard from
:mod:`lenet_utils.lessons.experiments`.
Training runs in a background thread, so the kernel keeps answering the controls while a variant
trains; the thread only sets widget values, which ipywidgets sends to the browser from any thread.
"""

from __future__ import annotations

import html
import io
import math
import threading
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import palette
from ..config import ConfigError, LeNetConfig
from ..data import MNISTSplit, MNISTUnavailable
from ..lessons.curves import plot_runs
from ..lessons.diagram import architecture_diagram
from ..lessons.experiments import BATCH_SIZE, DEFAULT_BUDGET, STEPS_PER_EPOCH, TRAIN_SIZE, VariantResult
from ..lessons.experiments.files import RunFileError
from ..lessons.experiments.leaderboard import Leaderboard, default_runs_path, load_runs
from ..lessons.experiments.runs import RunRecord, budget_steps, train_variant
from ..lessons.experiments.variant_table import VariantTable, course_table
from .closing import close_tree
from .lab_network import ERROR_BORDER, REFERENCE, STYLE, describe, network_column, network_controls, widths_text
from .saved_view import register_once

REDRAW_SECONDS = 0.5  # the live curve is redrawn at most this often (a PNG takes 0.1-0.3 s)...
DRAW_SHARE = 0.05     # ...and only while drawing has taken at most 5% of the run: the run's seconds stay honest


class LayerLab(widgets.VBox):
    """The lab as one widget. Its parts are attributes, so a test or a notebook can drive it:
    ``lab.controls["pool"].value = "max"``, ``lab.train(wait=True)``, ``lab.leaderboard``."""

    def __init__(self, *, train: MNISTSplit | None = None, val: MNISTSplit | None = None,
                 table: VariantTable | None | str = "default", budget: float | None = None, seed: int = 0,
                 device: str = "auto", runs_path: str | Path | None = None):
        self._train_split, self._val_split = train, val
        self.device = device
        self.table = course_table() if table == "default" else table
        self.leaderboard = Leaderboard(table=self.table)
        self._thread: threading.Thread | None = None
        self._stop, self._last_draw = threading.Event(), 0.0  # a stop request; when the curves were last drawn
        self._trained = 0  # runs trained in this lab: names them "run 1", "run 2", ...
        self.last_run: RunRecord | None = None
        self.last_error: str | None = None

        # --- the network: one control per setting ------------------------------------------
        self.controls = network_controls()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.reset_button = widgets.Button(description="reset to reference", icon="undo",
                                           layout=widgets.Layout(width="auto"))
        self.reset_button.on_click(lambda _: self.reset())
        # Beside the controls when both fit, else under them (the row wraps at the table's width, ~640 px);
        # narrower still, the table scrolls in its own box: a column is never cut off.
        self.summary_html = widgets.HTML(layout=widgets.Layout(flex="1 1 660px", margin="0 0 0 16px", min_width="0",
                                                               overflow="auto"))
        self.diagram = DiagramView()  # the network as in LeCun's figure, redrawn on every change
        self.diagram.layout.overflow = "auto"  # at full size (labels 12 px, for a projector); a narrow page scrolls it
        self.config: LeNetConfig | None = None
        self.config_error: ConfigError | None = None

        # --- training ----------------------------------------------------------------------
        if budget is None:  # the variants table's budget, so a run compares with it; else half an epoch
            budget = (self.table.steps / math.ceil(self._train_size / BATCH_SIZE) if self._table_applies
                      else DEFAULT_BUDGET / STEPS_PER_EPOCH)
        self.budget = widgets.FloatSlider(round(min(max(budget, 0.05), 1.0), 2), min=0.05, max=1.0,
                                          step=0.05, description="budget (epochs)", style=STYLE)
        self.budget_label = widgets.HTML()
        self.budget.observe(lambda _: self._show_budget(), names="value")
        self.seed = widgets.BoundedIntText(seed, min=0, max=2**31 - 1, description="seed", style=STYLE,
                                           layout=widgets.Layout(width="200px"))
        self.train_button = widgets.Button(description="train", icon="play", button_style="success")
        self.stop_button = widgets.Button(description="stop", icon="stop", disabled=True)
        self.train_button.on_click(lambda _: self.train())
        self.stop_button.on_click(lambda _: self.stop())
        self.progress = widgets.IntProgress(0, min=0, max=1, description="batches", style=STYLE)
        self.status = widgets.HTML()
        self.curves = widgets.Image(format="png", layout=widgets.Layout(width="560px"))
        self.board_html = widgets.HTML()

        # --- saving and loading runs -------------------------------------------------------
        self.path = widgets.Text(str(runs_path or default_runs_path()), description="runs file", style=STYLE,
                                 layout=widgets.Layout(width="560px"))
        self.save_button = widgets.Button(description="save runs", icon="save")
        self.load_button = widgets.Button(description="load runs", icon="folder-open")
        self.save_button.on_click(lambda _: self.save())
        self.load_button.on_click(lambda _: self.load())
        self.file_message = widgets.HTML()

        training = widgets.VBox([
            widgets.HTML("<b>Train this variant</b>"),
            widgets.HBox([self.budget, self.budget_label]),
            widgets.HBox([self.seed, self.train_button, self.stop_button]),
            self.progress, self.status,
        ])
        super().__init__([
            self.diagram, widgets.HBox([network_column(self.controls, self.reset_button), self.summary_html],
                                       layout=widgets.Layout(flex_flow="row wrap")),
            training,
            widgets.HTML("<b>This session's runs</b>"),
            self.board_html,
            self.curves,
            widgets.HBox([self.path, self.save_button, self.load_button]), self.file_message,
        ])
        self.add_class("lenet-layer-lab")
        self._on_change()
        self._show_budget()
        self._refresh_board()

    # --- the network --------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The controls' values as LeNetConfig settings (``fc_widths`` still text)."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **settings: Any) -> LayerLab:
        """Set controls by LeNetConfig name, e.g. ``lab.set(pool="max", fc_widths=(120, 84))``."""
        for name, value in settings.items():
            if name not in self.controls:
                raise KeyError(f"the lab has no control {name!r}; it has {', '.join(self.controls)}")
            self.controls[name].value = widths_text(value) if name == "fc_widths" else value
        return self

    def reset(self) -> None:
        """Every control back to the reference LeNet-5."""
        self.set(**{name: getattr(REFERENCE, name) for name in self.controls})

    def _on_change(self, change=None) -> None:
        self.config, self.config_error, self.summary_html.value = describe(self.values(), self.table)
        self.diagram.show(self.config)
        self._mark(self.config_error.field if self.config_error is not None else None)
        self.train_button.disabled = self.config is None or self.running

    def _mark(self, field: str | None) -> None:
        for name, control in self.controls.items():
            control.layout.border = ERROR_BORDER if name == field else ""

    # --- training -----------------------------------------------------------------------------
    @property
    def _train_size(self) -> int:
        return len(self._train_split) if self._train_split is not None else TRAIN_SIZE

    @property
    def _table_applies(self) -> bool:
        """Whether the variants table was trained on the lab's training split (its size, at least)."""
        return self.table is not None and self.table.train_size == self._train_size

    @property
    def steps(self) -> int:
        """The budget in batches, for the training split the lab uses."""
        return budget_steps(self.budget.value, train_size=self._train_size)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _show_budget(self) -> None:
        note = ""
        if self._table_applies:
            note = (" (the variants table's budget)" if self.steps == self.table.steps
                    else f" (the variants table used {self.table.steps}: compare with care)")
        self.budget_label.value = f"= {self.steps} batches of {BATCH_SIZE}{note}"

    def train(self, wait: bool = False, timeout: float | None = None) -> RunRecord | None:
        """Train the variant the controls describe, in the background; ``wait=True`` blocks until
        it ends and returns its record. Refused, with a message, while another run is going or
        when the network is impossible."""
        if self.running:
            self._say("A run is already going: wait for it to finish, or press stop.", "warn")
            return None
        if self.config is None:
            self._say(f"Fix the network first: {html.escape(str(self.config_error))}", "error")
            return None
        config, steps, seed = self.config, self.steps, int(self.seed.value)
        self._stop.clear()
        self.last_run, self.last_error = None, None
        self.progress.value, self.progress.max = 0, steps
        self.train_button.disabled, self.stop_button.disabled = True, False
        self._say("Starting...")
        self._thread = threading.Thread(target=self._run, args=(config, steps, seed), name="layer-lab-train",
                                        daemon=True)
        self._thread.start()
        if wait:
            self.wait(timeout)
            return self.last_run
        return None

    def stop(self) -> None:
        """Ask the running training to stop after the current batch; the run is kept, marked stopped."""
        if self.running:
            self._stop.set()
            self._say("Stopping after this batch...")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run ends; ``False`` if it is still going after ``timeout`` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self, config: LeNetConfig, steps: int, seed: int) -> None:
        try:
            train, val = self._data()
            self._say(f"Training <b>{html.escape(config.describe_changes())}</b> for {steps} batches, seed {seed}. "
                      "Changing the controls now does not touch this run.")
            self._trained += 1
            name = f"run {self._trained}"
            live = types.SimpleNamespace(losses=[], label=f"{name}: {config.describe_changes()} (training)")
            started = self._last_draw = time.perf_counter()  # the run's start: its first curve comes after 0.5 s
            drawing = [0.0]                                   # seconds spent drawing during this run

            def on_step(history) -> bool:
                self.progress.value = history.steps_done
                live.losses = history.step_losses
                now = time.perf_counter()
                if now - self._last_draw > REDRAW_SECONDS and drawing[0] <= DRAW_SHARE * (now - started):
                    self._draw(live)
                    self._last_draw = time.perf_counter()
                    drawing[0] += self._last_draw - now
                return not self._stop.is_set()

            run = train_variant(config, steps, seed, train=train, val=val, step_callback=on_step,
                                device=self.device, name=name)
            self.leaderboard.add(run)
            self.last_run = run
            done = (f"{run.name}: <b>{run.val_acc:.2%}</b> validation accuracy after {run.steps} batches "
                    f"({run.seconds:.1f} s)" + (", stopped early" if run.stopped else ""))
            if self.table is not None:
                done += "<pre style='margin:4px 0'>" + html.escape(str(self.table.compare(run))) + "</pre>"
            self._say(done, "ok")
        except Exception as err:  # shown in the lab, not lost in a thread
            self.last_error = explain(err)
            self._say(self.last_error, "error")
        finally:
            self.train_button.disabled = self.config is None
            self.stop_button.disabled = True
            self._refresh_board()

    def _data(self):
        if self._train_split is None or self._val_split is None:
            from ..data import load_mnist

            self._say("Loading MNIST (first run only)...")
            self._train_split = self._train_split if self._train_split is not None else load_mnist("train")
            self._val_split = self._val_split if self._val_split is not None else load_mnist("val")
        return self._train_split, self._val_split

    # --- leaderboard, curves, files -----------------------------------------------------------
    def _refresh_board(self) -> None:
        self.board_html.value = self.leaderboard._repr_html_()
        self._draw(None)

    def _draw(self, live) -> None:
        reference = self.table.reference if self._table_applies else None
        self.curves.value = curves_png(self.leaderboard.runs, reference, live)

    def save(self, path: str | Path | None = None) -> None:
        """Write the leaderboard's runs to ``path`` (default: the lab's runs file box)."""
        try:
            target = Path(path or self.path.value.strip() or default_runs_path()).expanduser()
            written = self.leaderboard.save(target)
            self._file_say(f"Saved {len(self.leaderboard)} run(s) to {written}.", "ok")
        except (RunFileError, OSError) as err:
            self._file_say(f"Could not save: {err}", "error")

    def load(self, path: str | Path | None = None) -> None:
        """Add the runs in a file to the leaderboard, named after the file ("group3/run 1"), so a
        class can pool its files; runs already on the board are not added twice."""
        path = Path(path or self.path.value.strip() or default_runs_path()).expanduser()
        try:
            runs = load_runs(path)
        except (RunFileError, OSError) as err:
            self._file_say(f"Could not load: {err}", "error")
            return
        new = self.leaderboard.merge(runs, source=path.stem)
        self._file_say(f"Loaded {len(new)} run(s)" + (f" ({len(runs) - len(new)} already here)"
                                                        if len(new) < len(runs) else "") + ".", "ok")
        self._refresh_board()

    # --- messages -----------------------------------------------------------------------------
    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = message(text, kind)

    def _file_say(self, text: str, kind: str) -> None:
        self.file_message.value = message(html.escape(text), kind)

    def close(self) -> None:
        """Stop any run and close every widget of the lab (their comms too)."""
        self._stop.set()
        close_tree(self)


def layer_lab(**kwargs: Any) -> LayerLab:
    """Build the layer lab. Keyword arguments go to :class:`LayerLab` (``train``/``val`` splits,
    ``table``, ``budget`` in epochs, ``seed``, ``device``, ``runs_path``)."""
    register_once()          # a saved, unexecuted notebook shows the lab's title, not its repr
    return LayerLab(**kwargs)


# --- what the lab shows besides its controls: the picture, the curves, the messages ---------------
class DiagramView(widgets.HTML):
    """The network the controls describe, drawn as in LeCun's figure (:mod:`lenet_utils.lessons.diagram`)
    and redrawn by :meth:`show` on every change. While the controls describe no network, the last
    one that could be built stays, faded, so the lab's layout does not jump."""

    def __init__(self, config: LeNetConfig | None = None):
        super().__init__(layout=widgets.Layout(width="100%", min_height="200px"))
        self.drawn: LeNetConfig = config or LeNetConfig()
        self.show(self.drawn)

    def show(self, config: LeNetConfig | None) -> None:
        faded = config is None
        self.drawn = config or self.drawn
        note = "This network cannot be built; the picture is the last one that could." if faded else ""
        self.value = (f"<div class='lenet-lab-diagram{' lenet-lab-diagram-faded' if faded else ''}' "
                      f"style='opacity:{0.35 if faded else 1}'>{architecture_diagram(self.drawn).svg}</div>"
                      f"<div class='lenet-lab-diagram-note' style='color:{palette.ERROR};min-height:1.3em'>"
                      f"{note}</div>")


def curves_png(runs: Sequence[Any], reference: VariantResult | None = None, live: Any = None) -> bytes:
    """The runs' training losses overlaid, the table's reference curve first when given, the run
    still training (``live``, anything with ``.losses`` and ``.label``) drawn bold."""
    from matplotlib.figure import Figure  # no pyplot: safe off the main thread, never shown twice

    fig = Figure(figsize=(6, 3.4), dpi=80)
    ax = fig.add_subplot()
    curves: list[Any] = []
    if reference is not None:
        curves.append(types.SimpleNamespace(losses=reference.losses,
                                            label=f"table: reference ({len(reference.accs)} seeds)"))
    curves += [*runs, *([live] if live is not None else [])]
    plot_runs(curves, ax=ax, highlight=live.label if live is not None else None)
    if not runs and live is None:
        ax.set_title("your runs' curves appear here", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def message(text: str, kind: str = "info") -> str:
    """``text`` (HTML) coloured by ``kind``: ok, warn, error or info."""
    color = {"ok": palette.OK, "warn": palette.WARN, "error": palette.ERROR}.get(kind, "inherit")
    return f"<div class='lenet-lab-{kind}' style='color:{color}'>{text}</div>"


def explain(err: Exception) -> str:
    """A failed run in a sentence, with what to try: never a traceback in the lab."""
    if isinstance(err, MNISTUnavailable):
        return f"MNIST is not available: {html.escape(str(err))}"
    return (f"Training failed: {html.escape(type(err).__name__)}: {html.escape(str(err))}. "
            "Try a smaller network or budget; if it persists, run <code>python -m lenet_utils doctor</code>.")

