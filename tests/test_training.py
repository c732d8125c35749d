import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from toydata import separable

from lenet_utils.model import LeNet5
from lenet_utils.training import History, TrainConfig, evaluate, fit, make_optimizer, make_scheduler, set_seed

SEARCH = Path(__file__).resolve().parents[1] / "benchmarks" / "recipe_search.py"


def _run(config, seed=0, **kwargs):
    set_seed(seed)
    model = LeNet5()
    return model, fit(model, separable(), separable(64, seed=1), config, progress=False, device="cpu", **kwargs)


def test_fit_returns_a_history_per_epoch():
    model, history = _run(TrainConfig(epochs=3, batch_size=32))
    assert isinstance(history, History) and len(history) == 3
    assert [e.epoch for e in history] == [1, 2, 3]
    assert history.steps_per_epoch == 8 and history.total_steps == 24 == history.steps_done
    assert len(history.lrs) == 24
    for e in history:
        assert 0 <= e.train_acc <= 1 and 0 <= e.val_acc <= 1
        assert e.train_loss > 0 and e.seconds > 0 and e.lr >= 0
    assert history.final.val_acc == history.column("val_acc")[-1] == history.final.test_acc  # old name
    assert history.final.val_acc > 0.9  # learnt the toy task
    assert not model.training


def test_fit_is_reproducible_with_a_seed():
    _, a = _run(TrainConfig(epochs=2, batch_size=32, augment=True))
    _, b = _run(TrainConfig(epochs=2, batch_size=32, augment=True))
    assert a.step_losses == b.step_losses
    assert a.column("val_acc") == b.column("val_acc")
    _, c = _run(TrainConfig(epochs=2, batch_size=32, augment=True, seed=1), seed=1)
    assert c.step_losses != a.step_losses


def test_one_cycle_schedule_rises_then_anneals():
    _, history = _run(TrainConfig(epochs=4, batch_size=32, lr=0.08, warmup=0.25))
    lrs = history.lrs
    peak = max(range(len(lrs)), key=lrs.__getitem__)
    assert abs(lrs[peak] - 0.08) < 1e-6
    assert 0.15 * len(lrs) <= peak <= 0.35 * len(lrs)
    assert lrs[0] == pytest.approx(0.08 / 25)
    assert lrs[-1] < 0.01 * 0.08


def test_constant_schedule_and_adam():
    _, history = _run(TrainConfig(epochs=1, batch_size=64, optimizer="adam", lr=1e-3, schedule="constant"))
    assert set(history.lrs) == {1e-3}


def test_max_steps_is_a_budget():
    _, history = _run(TrainConfig(epochs=3, batch_size=32, max_steps=5))
    assert history.steps_done == 5 and len(history) == 1 and history.total_steps == 5
    assert not history.stopped_early


def test_callbacks_see_the_history_and_can_stop():
    seen_epochs, seen_steps = [], []

    def per_epoch(h):
        seen_epochs.append(len(h))
        return len(h) < 2  # stop after the second epoch

    def per_step(h):
        seen_steps.append(h.steps_done)

    _, history = _run(TrainConfig(epochs=5, batch_size=64), callback=per_epoch, step_callback=per_step)
    assert seen_epochs == [1, 2] and len(history) == 2 and history.stopped_early
    assert seen_steps == list(range(1, 9))


def test_step_callback_can_stop_mid_epoch():
    _, history = _run(TrainConfig(epochs=2, batch_size=32), step_callback=lambda h: h.steps_done < 3)
    assert history.steps_done == 3 and history.stopped_early and len(history) == 1


def test_fit_without_a_test_split():
    set_seed(0)
    history = fit(LeNet5(), separable(64), None, TrainConfig(epochs=1, batch_size=32), progress=False)
    assert math.isnan(history.final.val_acc)


def test_history_helpers():
    _, history = _run(TrainConfig(epochs=3, batch_size=32))
    assert history.seconds == pytest.approx(sum(e.seconds for e in history))
    hit = history.first_reaching(0.0)
    assert hit.epoch == 1 and history.seconds_to(0.0) == pytest.approx(history[0].seconds)
    assert history.first_reaching(1.01) is None and history.seconds_to(1.01) is None
    assert history.to_dicts()[0]["epoch"] == 1
    with pytest.raises(ValueError, match="empty"):
        _ = History().final


def test_evaluate_matches_a_manual_count():
    set_seed(0)
    model = LeNet5().eval()
    split = separable(100)
    result = evaluate(model, split, batch_size=7)
    with torch.no_grad():
        logits = model(split.images[:])
    assert result.count == 100
    assert result.accuracy == pytest.approx((logits.argmax(1) == split.labels).float().mean().item())
    assert result.loss == pytest.approx(torch.nn.functional.cross_entropy(logits, split.labels).item(), rel=1e-5)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", -1), ("optimizer", "rmsprop"),
                                          ("lr", 0), ("schedule", "step"), ("warmup", 1.0),
                                          ("max_steps", 0), ("label_smoothing", 1.0), ("betas", (0.9,)),
                                          ("betas", (0.9, 1.0)), ("betas", "fast"), ("ema", 1.0), ("ema", 0),
                                          ("ema", "0.99"), ("ema", True), ("anneal_to", -0.1), ("anneal_to", 2),
                                          ("nesterov", "yes")])
def test_bad_recipe_is_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} must be"):
        TrainConfig(**{field: value})


def test_adam_uses_the_recipes_betas():
    opt = make_optimizer(LeNet5(), TrainConfig(optimizer="adam", lr=0.003, betas=(0.7, 0.9)))
    assert opt.param_groups[0]["betas"] == (0.7, 0.9) and opt.param_groups[0]["lr"] == 0.003


def test_the_fast_recipe_is_a_named_config_that_takes_changes():
    """TrainConfig.fast() is an ordinary, validated TrainConfig: shorter than the default, seedable."""
    fast = TrainConfig.fast()
    assert isinstance(fast, TrainConfig) and fast != TrainConfig()
    assert fast.epochs <= TrainConfig().epochs
    assert TrainConfig.fast(seed=3).seed == 3 and TrainConfig.fast(seed=3).batch_size == fast.batch_size
    with pytest.raises(ValueError, match="TrainConfig.batch_size must be"):
        TrainConfig.fast(batch_size=0)
    with pytest.raises(TypeError):
        TrainConfig.fast(epoch=2)                                # a misspelt field is refused, not ignored


def test_the_fast_recipe_trains_the_same_through_the_fast_layer_and_layer_by_layer():
    """A few steps of TrainConfig.fast() with fit(fast=True) and fit(fast=False): the same weights to float
    rounding (the fast layer changes how, never what)."""
    config = TrainConfig.fast(max_steps=3)
    weights = []
    for fast in (True, False):
        model, history = _run(config, fast=fast, threads=1)
        assert history.steps_done == 3
        weights.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_ema_returns_and_scores_the_moving_average_of_the_weights():
    """TrainConfig.ema: after every step the average moves (1 - decay) of the way to the weights; fit scores the
    average after each epoch and leaves it in the model. Checked against the average computed by hand from the
    weights after each step (a step callback sees them before the average replaces them at the end)."""
    set_seed(0)
    model = LeNet5()
    average = _weights(model)                                  # the average starts at the initial weights
    after_each_step = []
    val = separable(64, seed=1)
    history = fit(model, separable(), val, TrainConfig(epochs=1, batch_size=64, ema=0.5), progress=False,
                  device="cpu", step_callback=lambda h: after_each_step.append(_weights(model)))
    assert len(after_each_step) == 4
    for weights in after_each_step:
        average = [0.5 * a + 0.5 * w for a, w in zip(average, weights)]
    for got, want, last in zip(model.parameters(), average, after_each_step[-1]):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)
        assert not torch.allclose(got.detach(), last)          # not the last step's weights: the average
    assert history.final.val_loss == pytest.approx(evaluate(model, val).loss, rel=1e-6)   # the average was scored


def test_without_ema_the_model_keeps_the_last_steps_weights():
    set_seed(0)
    model = LeNet5()
    after_each_step = []
    fit(model, separable(), None, TrainConfig(epochs=1, batch_size=64), progress=False, device="cpu",
        step_callback=lambda h: after_each_step.append(_weights(model)))
    for got, last in zip(model.parameters(), after_each_step[-1]):
        assert torch.equal(got.detach(), last)


def test_ema_trains_the_same_through_the_fast_layer_and_layer_by_layer():
    config = TrainConfig.fast(max_steps=3, ema=0.9)
    weights = [_weights(_run(config, fast=fast, threads=1)[0]) for fast in (True, False)]
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_anneal_to_sets_the_one_cycle_last_rate():
    for anneal_to in (0.1, 1 / 25e4):
        _, history = _run(TrainConfig(epochs=2, batch_size=32, lr=0.08, anneal_to=anneal_to))
        assert history.lrs[-1] == pytest.approx(0.08 * anneal_to)
        assert max(history.lrs) == pytest.approx(0.08)
    assert TrainConfig().anneal_to == 1 / 25e4                  # the default: the course's schedule, to ~0


def test_plain_momentum_is_an_option():
    opt = make_optimizer(LeNet5(), TrainConfig(nesterov=False, momentum=0.95))
    assert not opt.param_groups[0]["nesterov"] and opt.param_groups[0]["momentum"] == 0.95
    assert not make_optimizer(LeNet5(), TrainConfig(momentum=0)).param_groups[0]["nesterov"]


def test_sgd_uses_nesterov_momentum():
    opt = make_optimizer(LeNet5(), TrainConfig())
    assert opt.param_groups[0]["nesterov"] and opt.param_groups[0]["momentum"] == 0.9
    make_scheduler(opt, TrainConfig(), 10)


@pytest.mark.mnist
@pytest.mark.slow
def test_default_recipe_reaches_99_percent_within_6_epochs(mnist_train, mnist_test):
    """The course's promise: the reference LeNet-5 to >= 99.0% on the CPU with TrainConfig()."""
    config = TrainConfig()
    assert config.epochs <= 6
    set_seed(config.seed)
    history = fit(LeNet5(), mnist_train, mnist_test, config, progress=False)
    assert history.first_reaching(0.99) is not None, history.column("test_acc")


@pytest.mark.mnist
@pytest.mark.slow
def test_fast_recipe_reaches_99_percent_in_its_last_epoch(mnist_train, mnist_test):
    """TrainConfig.fast()'s promise, for seed 0: >= 99.0% test accuracy by its last epoch (fewer epochs than the
    default's 5). benchmarks/time_to_99.py measures how often, and how fast, over 10 seeds."""
    config = TrainConfig.fast()
    assert config.epochs < TrainConfig().epochs
    set_seed(config.seed)
    history = fit(LeNet5(), mnist_train, mnist_test, config, progress=False)
    assert history.first_reaching(0.99) is not None, history.column("test_acc")


def _search(*args, timeout=300):
    return subprocess.run([sys.executable, str(SEARCH), *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.mnist
def test_recipe_search_adds_each_run_to_its_file(mnist_ready, tmp_path):
    """benchmarks/recipe_search.py at a tiny size: one record per (recipe, seed) with its provenance; a rerun
    replaces that seed's record and keeps the others; a smoke run never writes into the real result file."""
    out = tmp_path / "search.json"
    tiny = ["--train", "256", "--test", "200", "--epochs", "1", "--out", str(out)]
    first = _search("fast", "fast_ema", "--seeds", "0-1", *tiny)
    assert first.returncode == 0, first.stderr[-2000:]
    again = _search("fast", "--seeds", "1,2", *tiny)
    assert again.returncode == 0, again.stderr[-2000:]
    data = json.loads(out.read_text())
    fast, ema = data["recipes"]["fast"], data["recipes"]["fast_ema"]
    assert [r["seed"] for r in fast["runs"]] == [0, 1, 2] and [r["seed"] for r in ema["runs"]] == [0, 1]
    assert fast["config"]["batch_size"] == 256 and ema["config"]["ema"] == 0.99 and "seed" not in fast["config"]
    for run in fast["runs"] + ema["runs"]:
        assert run["images_seen"] == 256 and run["epochs"] == 1 and run["threads"] == 1
        assert 0 <= run["test_acc"] <= 1 and run["date"] and run["commit"] and len(run["load_average_start"]) == 3
    assert fast["summary"]["seeds"] == 3
    assert fast["summary"]["test_acc"]["min"] == min(r["test_acc"] for r in fast["runs"])
    assert "fast" in first.stdout and "of 2 seeds" in first.stdout
    refused = _search("fast", "--train", "256", "--epochs", "1")
    assert refused.returncode == 2 and "does not go into the result file" in refused.stderr.strip().splitlines()[-1]
    unknown = _search("fastest")
    assert unknown.returncode == 2 and "unknown recipe fastest" in unknown.stderr
