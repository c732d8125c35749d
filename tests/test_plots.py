import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lenet_utils.lessons import plots
from lenet_utils.metrics import reliability
from lenet_utils.model import LeNet5
from lenet_utils.training import EpochStats, History


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history():
    h = History(steps_per_epoch=2)
    h.epochs = [EpochStats(1, 0.5, 0.8, 0.4, 0.85, 1.0, 0.1), EpochStats(2, 0.3, 0.9, 0.35, 0.9, 1.0, 0.0)]
    h.lrs = [0.01, 0.1, 0.05, 0.0]
    return h


def test_mosaic_lays_tiles_out_with_gaps():
    tiles = torch.arange(6 * 4, dtype=torch.float32).view(6, 2, 2)
    m = plots.mosaic(tiles, ncols=3, pad=1)
    assert m.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert m[0, 0] == 0 and m[3, 0] == tiles[3, 0, 0]
    assert np.isnan(m[2, 0]) and np.isnan(m[0, 2])


@pytest.mark.parametrize("draw", [
    lambda ax: plots.show_digits(torch.rand(10, 28, 28), labels=list(range(10)), predictions=[0] * 10, ax=ax),
    lambda ax: plots.show_digit_values(torch.randint(0, 256, (28, 28)), ax=ax),
    lambda ax: plots.plot_curve(_history(), "acc", ax=ax),
    lambda ax: plots.plot_lr_schedule(_history().lrs, steps_per_epoch=2, ax=ax),
    lambda ax: plots.plot_confusion_matrix(torch.eye(10, dtype=torch.long) * 5 + 1, ax=ax, normalize=True),
    lambda ax: plots.plot_filters(LeNet5().conv2.weight, ax=ax),
    lambda ax: plots.plot_feature_maps(torch.rand(1, 6, 28, 28), ax=ax, title="conv1"),
    lambda ax: plots.plot_probabilities(torch.softmax(torch.randn(10), 0), ax=ax),
    lambda ax: plots.plot_reliability(reliability(torch.softmax(torch.randn(50, 10), 1), torch.randint(0, 10, (50,))),
                                      ax=ax),
])
def test_every_helper_draws_on_the_given_axes_and_returns_them(draw):
    fig, ax = plt.subplots()
    assert draw(ax) is ax
    assert ax.has_data() or ax.images or ax.texts


def test_helpers_make_their_own_figure_without_ax():
    ax = plots.plot_probabilities([0.1] * 10)
    assert ax.figure is not None and len(ax.patches) == 10
    axes = plots.plot_history(_history())
    assert len(axes) == 2 and axes[0].get_ylabel() == "cross-entropy loss"


def test_curve_rejects_unknown_metric():
    with pytest.raises(ValueError, match="'loss' or 'acc'"):
        plots.plot_curve(_history(), "f1")


def test_mistakes_are_captioned_in_red():
    ax = plots.show_digits(torch.rand(2, 28, 28), labels=[3, 5], predictions=[3, 6])
    captions = {t.get_text(): t.get_color() for t in ax.texts}
    assert captions == {"3": "black", "5->6": "red"}


def test_live_plot_draws_from_the_first_batches_and_at_the_end():
    from toydata import separable

    from lenet_utils import LeNet5, TrainConfig, fit

    live = plots.LivePlot(every=4, budget=0.0, show=False)
    assert live.last_png[:4] == b"\x89PNG" and live.title.get_text() == "training: the curves start after 4 batches"
    seen_at, titles, pictures = [], [], []
    original = live.redraw

    def redraw(h):
        seen_at.append(h.steps_done)
        original(h)
        titles.append(live.title.get_text())
        pictures.append(live.last_png)

    live.redraw = redraw
    history = fit(LeNet5(), separable(256), separable(64, seed=1), TrainConfig(epochs=2, batch_size=32),
                  progress=False, step_callback=live, callback=live)
    assert seen_at[0] == 4 and seen_at[-1] == history.total_steps == 16
    assert live.redraws == len(seen_at) >= 4
    loss_ax, acc_ax = live.axes
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("loss", "accuracy")
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert len(history.step_accs) == len(history.step_losses) == 16
    test_line = [line for line in acc_ax.lines if line.get_label().startswith("validation")][0]
    assert len(test_line.get_xdata()) == 2                  # the final picture has both epochs' test points
    # the title says how far training is, so no progress bar is needed beside the plot
    assert titles[0].startswith("batch 4 of 16, epoch 1 of 2, ")
    assert titles[2].startswith("batch 12 of 16, epoch 2 of 2, ")
    assert titles[-1].startswith("done: batch 16 of 16, epoch 2 of 2, ")
    assert len(set(pictures)) == len(pictures)              # every redraw sent a new picture
    assert live.backgrounds == 2   # the axes drawn twice (empty, then for 2 epochs); the rest drawn over them


def _trained(losses, epochs=0):
    h = History(steps_per_epoch=100, total_steps=200)
    h.step_losses, h.step_accs = list(losses), [0.5] * len(losses)
    h.epochs = [EpochStats(e + 1, 0.5, 0.8, 0.4, 0.85, 1.0, 0.1) for e in range(epochs)]
    return h


def test_live_plot_draws_curves_and_test_points_over_a_kept_background():
    live = plots.LivePlot(show=False)
    live.redraw(_trained([2.3] * 50))                           # mid-epoch 1: no epoch scored yet
    assert len(live.axes[0].lines[0].get_xdata()) == 50 - 40 + 1   # the curve is there already
    backgrounds, first = live.backgrounds, live.last_png
    live.redraw(_trained([2.3] * 50 + [1.0] * 60, epochs=1))   # the curve moves, a test point appears
    assert live.backgrounds == backgrounds and live.last_png != first
    loss_train, loss_test = live.axes[0].lines
    assert loss_train.get_label() == "train (last 40 batches)" and len(loss_train.get_xdata()) == 110 - 40 + 1
    assert list(loss_test.get_xdata()) == [1] and list(loss_test.get_ydata()) == [0.4]
    assert live.axes[0].get_ylabel() == "cross-entropy loss" and live.axes[1].get_ylim() == (0, 1)


def test_live_plot_redraws_its_axes_when_the_loss_rises_above_them():
    live = plots.LivePlot(show=False)
    live.redraw(_trained([2.3] * 50))
    top, backgrounds = live.axes[0].get_ylim()[1], live.backgrounds
    live.redraw(_trained([2.3] * 50 + [9.0] * 50))              # diverging: the curve would leave the axes
    assert live.backgrounds == backgrounds + 1 and live.axes[0].get_ylim()[1] > 9.0 > top


def test_live_plot_keeps_to_its_time_budget():
    """With a large budget, only the first picture and the final one are drawn."""
    from toydata import separable

    from lenet_utils import LeNet5, TrainConfig, fit

    live = plots.LivePlot(every=1, budget=1e6, show=False)
    fit(LeNet5(), separable(256), None, TrainConfig(epochs=2, batch_size=32), progress=False,
        step_callback=live, callback=live)
    assert live.redraws == 2 and live.seconds > live.setup > 0   # laying out the axes is in the cost it reports


def test_a_run_cut_short_puts_its_last_test_point_where_it_stopped():
    h = _trained([1.0] * 150, epochs=2)
    from lenet_utils.lessons.curves import epoch_ends

    h.total_steps = 150                                        # max_steps: the second epoch ended early
    assert epoch_ends(h) == [1, 1.5]
    live = plots.LivePlot(show=False)
    live.redraw(h)
    assert list(live.axes[1].lines[1].get_xdata()) == [1, 1.5] and live.axes[1].get_xlim() == (0, 1.5)
