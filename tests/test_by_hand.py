"""lenet_utils.by_hand, the NumPy LeNet-5: every backward pass checked three ways.

1. against finite differences (float64, relative error below 1e-6), layer by layer;
2. against PyTorch's autograd on the same weights and inputs, layer by layer;
3. the whole network's parameter gradients against ``LeNet5``'s for a batch of real digits,
   through ``state_dict`` (which goes there and back unchanged).

Then the optimiser step for step against ``torch.optim.SGD``, the module with PyTorch blocked
(forward, backward and a few training steps on MNIST), and a short training run that learns.

"Relative error" here is max |analytic - reference| / max |reference| over a whole gradient array:
an elementwise ratio is meaningless where both are ~0 (a pixel no kernel reaches).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_utils import by_hand as bh
from lenet_utils.model import LeNet5

REPO = Path(__file__).resolve().parents[1]
FD_TOLERANCE = 1e-6        # finite differences, float64 (the bar)
AUTOGRAD_TOLERANCE = 1e-10  # the same arithmetic in float64 up to summation order


rel_error, numeric_grad = bh.relative_error, bh.numeric_gradient


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- 1 and 2: each layer, against finite differences and against autograd -------------------------------
CONV_CASES = [  # (batch, channels in, side, filters, kernel, padding)
    (2, 1, 8, 3, 5, "same"),     # conv1's shape family
    (2, 3, 7, 4, 3, "valid"),    # conv2's
    (2, 2, 6, 3, 3, 1),          # a whole number of pixels
    (1, 2, 6, 2, 4, "same"),     # an even kernel: the odd pixel of padding goes after
    (3, 2, 5, 2, 5, 2),          # padding that makes "same" by hand
    (2, 1, 5, 2, 1, "valid"),    # a 1x1 kernel
]


@pytest.mark.parametrize("batch, channels, side, filters, k, padding", CONV_CASES)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")   # PyTorch's note on its own speed
def test_conv2d_backward(batch, channels, side, filters, k, padding):
    g = rng(1)
    x = g.normal(size=(batch, channels, side, side))
    w, b = g.normal(size=(filters, channels, k, k)), g.normal(size=filters)
    out, cache = bh.conv2d_forward(x, w, b, padding)
    d_out = g.normal(size=out.shape)                              # L = sum(out * d_out)
    d_x, d_w, d_b = bh.conv2d_backward(d_out, cache)

    def loss():
        return float((bh.conv2d_forward(x, w, b, padding)[0] * d_out).sum())

    for analytic, array in ((d_x, x), (d_w, w), (d_b, b)):
        assert rel_error(analytic, numeric_grad(loss, array)) < FD_TOLERANCE

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = F.conv2d(xt, wt, bt, padding=padding)
    assert rel_error(out, yt.detach().numpy()) < AUTOGRAD_TOLERANCE
    yt.backward(torch.from_numpy(d_out))
    for analytic, tensor in ((d_x, xt), (d_w, wt), (d_b, bt)):
        assert rel_error(analytic, tensor.grad.numpy()) < AUTOGRAD_TOLERANCE

    skipped, d_w2, d_b2 = bh.conv2d_backward(d_out, cache, input_grad=False)
    assert skipped is None and np.array_equal(d_w2, d_w) and np.array_equal(d_b2, d_b)


@pytest.mark.parametrize("shape, size", [((2, 3, 8, 8), 2), ((2, 2, 7, 9), 2), ((1, 2, 6, 6), 3)])
def test_avgpool_backward(shape, size):
    g = rng(2)
    x = g.normal(size=shape)
    out, cache = bh.avgpool_forward(x, size)
    d_out = g.normal(size=out.shape)
    d_x = bh.avgpool_backward(d_out, cache)
    assert rel_error(d_x, numeric_grad(lambda: float((bh.avgpool_forward(x, size)[0] * d_out).sum()), x)) < FD_TOLERANCE

    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, size, size)
    assert rel_error(out, yt.detach().numpy()) < AUTOGRAD_TOLERANCE
    yt.backward(torch.from_numpy(d_out))
    assert rel_error(d_x, xt.grad.numpy()) < AUTOGRAD_TOLERANCE


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (5, 7)])
def test_relu_backward(shape):
    g = rng(3)
    x = g.normal(size=shape)
    x[np.abs(x) < 1e-3] = 0.5                          # finite differences must not straddle the kink
    out, cache = bh.relu_forward(x)
    d_out = g.normal(size=out.shape)
    d_x = bh.relu_backward(d_out, cache)
    assert rel_error(d_x, numeric_grad(lambda: float((bh.relu_forward(x)[0] * d_out).sum()), x)) < FD_TOLERANCE

    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.from_numpy(d_out))
    assert rel_error(d_x, xt.grad.numpy()) < AUTOGRAD_TOLERANCE


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (4, 16, 5, 5)])
def test_flatten_backward(shape):
    g = rng(4)
    x = g.normal(size=shape)
    out, cache = bh.flatten_forward(x)
    assert np.array_equal(out, nn.Flatten()(torch.from_numpy(x)).numpy())   # PyTorch's order of features
    d_out = g.normal(size=out.shape)
    d_x = bh.flatten_backward(d_out, cache)
    assert rel_error(d_x, numeric_grad(lambda: float((bh.flatten_forward(x)[0] * d_out).sum()), x)) < FD_TOLERANCE


@pytest.mark.parametrize("batch, n_in, n_out", [(3, 5, 4), (1, 7, 2), (6, 40, 12)])
def test_linear_backward(batch, n_in, n_out):
    g = rng(5)
    x, w, b = g.normal(size=(batch, n_in)), g.normal(size=(n_out, n_in)), g.normal(size=n_out)
    out, cache = bh.linear_forward(x, w, b)
    d_out = g.normal(size=out.shape)
    d_x, d_w, d_b = bh.linear_backward(d_out, cache)

    def loss():
        return float((bh.linear_forward(x, w, b)[0] * d_out).sum())

    for analytic, array in ((d_x, x), (d_w, w), (d_b, b)):
        assert rel_error(analytic, numeric_grad(loss, array)) < FD_TOLERANCE

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    F.linear(xt, wt, bt).backward(torch.from_numpy(d_out))
    for analytic, tensor in ((d_x, xt), (d_w, wt), (d_b, bt)):
        assert rel_error(analytic, tensor.grad.numpy()) < AUTOGRAD_TOLERANCE


@pytest.mark.parametrize("batch, classes, scale", [(4, 10, 1.0), (1, 3, 1.0), (8, 10, 30.0)])
def test_cross_entropy_backward(batch, classes, scale):
    """Scale 30: logits large enough that a softmax without the max shift would overflow exp in float32."""
    g = rng(6)
    logits, labels = g.normal(size=(batch, classes)) * scale, g.integers(0, classes, batch)
    loss, cache = bh.cross_entropy_forward(logits, labels)
    d_logits = bh.cross_entropy_backward(cache)
    numeric = numeric_grad(lambda: bh.cross_entropy_forward(logits, labels)[0], logits)
    assert rel_error(d_logits, numeric) < FD_TOLERANCE

    lt = torch.tensor(logits, requires_grad=True)
    lt_loss = F.cross_entropy(lt, torch.from_numpy(labels))
    lt_loss.backward()
    assert abs(loss - lt_loss.item()) < 1e-12 * max(1.0, abs(loss))
    assert rel_error(d_logits, lt.grad.numpy()) < AUTOGRAD_TOLERANCE
    big = bh.cross_entropy_forward(np.float32(1000) * np.eye(3, dtype=np.float32), np.arange(3))[0]
    assert np.isfinite(big) and big == 0


# --- 3: the whole network ----------------------------------------------------------------------------------
def torch_state(model: nn.Module) -> dict[str, np.ndarray]:
    """LeNet5's weights as the NumPy network takes them: the torch-side conversion, plain arrays."""
    return {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """32 real test digits, normalised as the course does, and their labels. Needs MNIST: fails without."""
    pixels, labels = bh.load_mnist_arrays("test")
    return bh.normalize(pixels[:32]), labels[:32]


def lenet_grads(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    model.zero_grad()
    loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return loss.item(), {name: p.grad.numpy().copy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("seed", [0, 1])
def test_network_gradients_equal_lenet5s(digits, seed):
    torch.manual_seed(seed)
    model = LeNet5().double()
    net = bh.NumpyLeNet5(torch_state(model), dtype=np.float64)
    x, y = digits[0].astype(np.float64), digits[1]
    loss, logits, grads = net.loss_and_grads(x, y)
    want_loss, want = lenet_grads(model, x, y)
    assert abs(loss - want_loss) < 1e-12
    assert list(grads) == list(want)                                # every parameter, in state-dict order
    for name in want:
        assert rel_error(grads[name], want[name]) < AUTOGRAD_TOLERANCE, name
    with torch.no_grad():
        assert rel_error(logits, model(torch.from_numpy(x)).numpy()) < AUTOGRAD_TOLERANCE


def test_network_gradients_in_float32_as_trained(digits):
    """The dtype training uses: float32 on both sides, equal to float32 rounding."""
    torch.manual_seed(0)
    model = LeNet5()
    net = bh.NumpyLeNet5(torch_state(model))
    _, _, grads = net.loss_and_grads(*digits)
    _, want = lenet_grads(model, *digits)
    for name in want:
        assert grads[name].dtype == np.float32
        assert rel_error(grads[name], want[name]) < 1e-4, name


def test_network_gradients_against_finite_differences(digits):
    """A sample of each parameter array, nudged one at a time through the whole network (float64)."""
    net = bh.NumpyLeNet5(seed=3, dtype=np.float64)
    x, y = digits[0][:4].astype(np.float64), digits[1][:4]
    _, _, grads = net.loss_and_grads(x, y)
    g = rng(7)
    for name, w in net.params.items():
        flat = w.reshape(-1)
        for i in g.choice(flat.size, size=min(6, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            plus = bh.cross_entropy_forward(net.forward(x)[0], y)[0]
            flat[i] = old - 1e-6
            minus = bh.cross_entropy_forward(net.forward(x)[0], y)[0]
            flat[i] = old
            numeric = (plus - minus) / 2e-6
            assert abs(grads[name].reshape(-1)[i] - numeric) <= 1e-6 * max(np.abs(grads[name]).max(), 1e-8), name


def test_lecuns_32x32_variant_against_pytorch(digits):
    """conv1_padding='valid' on 32x32 images is the 1998 C1; a PyTorch twin gives the same gradients."""
    torch.manual_seed(0)
    model = LeNet5().double()
    same = model.conv1
    model.conv1 = nn.Conv2d(1, 6, 5).double()        # LeCun's unpadded C1, with the same weights
    model.conv1.load_state_dict(same.state_dict())
    net = bh.NumpyLeNet5(torch_state(model), dtype=np.float64, conv1_padding="valid")
    x = np.pad(digits[0].astype(np.float64), ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=digits[0].min())
    y = digits[1]
    loss, _, grads = net.loss_and_grads(x, y)
    want_loss, want = lenet_grads(model, x, y)
    assert abs(loss - want_loss) < 1e-12
    for name in want:
        assert rel_error(grads[name], want[name]) < AUTOGRAD_TOLERANCE, name


def test_state_dict_goes_there_and_back(digits):
    torch.manual_seed(0)
    model = LeNet5()
    net = bh.NumpyLeNet5(torch_state(model))
    assert net.count_parameters() == 61_706
    back = LeNet5()
    back.load_state_dict({name: torch.from_numpy(value) for name, value in net.state_dict().items()})
    for name, value in model.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
    with torch.no_grad():
        logits = back(torch.from_numpy(digits[0])).numpy()
    assert rel_error(net.forward(digits[0])[0], logits) < 1e-5
    # the NumPy network holds copies: changing it leaves the source alone
    net.params["fc3.bias"] += 1
    assert torch.equal(model.state_dict()["fc3.bias"], back.state_dict()["fc3.bias"])


def test_numpy_init_is_pytorchs_distribution():
    net = bh.NumpyLeNet5(seed=0)
    for name, value in net.params.items():
        fan_in = np.prod(bh.PARAM_SHAPES[name.replace(".bias", ".weight")][1:])
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(value).max() <= bound and np.abs(value).max() > 0.9 * bound, name
    assert not np.array_equal(net.params["fc1.weight"], bh.NumpyLeNet5(seed=1).params["fc1.weight"])
    assert np.array_equal(net.params["fc1.weight"], bh.NumpyLeNet5(seed=0).params["fc1.weight"])


@pytest.mark.parametrize("bad, says", [
    (lambda sd: sd.pop("fc2.bias"), "missing ['fc2.bias']"),
    (lambda sd: sd.update(extra=np.zeros(1)), "unknown ['extra']"),
    (lambda sd: sd.update({"conv1.weight": np.zeros((6, 1, 3, 3))}), "conv1.weight has shape (6, 1, 3, 3)"),
])
def test_a_wrong_state_dict_is_one_clear_line(bad, says):
    sd = torch_state(LeNet5())
    bad(sd)
    with pytest.raises(ValueError) as err:
        bh.NumpyLeNet5(sd)
    assert says in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("call, says", [
    (lambda: bh.NumpyLeNet5().forward(np.zeros((2, 28, 28))), "(B, 1, 28, 28)"),
    (lambda: bh.NumpyLeNet5().forward(np.zeros((2, 1, 20, 20))), "28x28"),
    (lambda: bh.NumpyLeNet5(conv1_padding="full"), "padding must be"),
    (lambda: bh.conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((3, 1, 3, 3)), np.zeros(3)), "same C"),
    (lambda: bh.NumpyTrainConfig(batch_size=0), "batch_size"),
    (lambda: bh.train(bh.NumpyLeNet5(), np.zeros((3, 28, 28), np.uint8), np.zeros(2)), "one label each"),
    (lambda: bh.load_mnist_arrays("validation"), "'train', 'test'"),
])
def test_bad_input_is_one_clear_line(call, says):
    with pytest.raises(ValueError) as err:
        call()
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="not an IDX file"):
        bh.read_idx_array(bad)
    short = tmp_path / "short"
    short.write_bytes(b"\0\0\x08\x01" + (10).to_bytes(4, "big") + b"\0" * 3)
    with pytest.raises(ValueError, match="header says 18"):
        bh.read_idx_array(short)


# --- learning: the optimiser, the schedule, the recipe ----------------------------------------------------
def test_sgd_steps_as_torch_sgd():
    """Five Nesterov steps with weight decay and a changing learning rate, gradient clipping included."""
    torch.manual_seed(0)
    model = LeNet5().double()
    net = bh.NumpyLeNet5(torch_state(model), dtype=np.float64)
    ours = bh.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    theirs = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    g = rng(8)
    for step, lr in enumerate([0.01, 0.05, 0.1, 0.07, 0.02]):
        grads = {name: g.normal(size=shape) * (step + 1) for name, shape in bh.PARAM_SHAPES.items()}
        for name, p in model.named_parameters():
            p.grad = torch.from_numpy(grads[name].copy())
        norm = bh.clip_grad_norm(grads, 2.0)
        assert abs(norm - nn.utils.clip_grad_norm_(model.parameters(), 2.0).item()) < 1e-9 * norm
        ours.step(net.params, grads, lr=lr)
        for group in theirs.param_groups:
            group["lr"] = lr
        theirs.step()
    for name, value in model.state_dict().items():
        assert rel_error(net.params[name], value.numpy()) < 1e-12, name


def test_the_schedule_and_recipe_are_the_courses():
    from lenet_utils.data import MNIST_MEAN, MNIST_STD
    from lenet_utils.training import TrainConfig, one_cycle

    for total in (1, 7, 469):
        assert [bh.one_cycle(s, total) for s in range(total)] == [one_cycle(s, total) for s in range(total)]
    recipe, ours = TrainConfig(), bh.NumpyTrainConfig()
    for name in ("batch_size", "lr", "momentum", "weight_decay", "schedule", "warmup", "grad_clip", "seed"):
        assert getattr(ours, name) == getattr(recipe, name), name
    assert recipe.optimizer == "sgd" and (bh.MNIST_MEAN, bh.MNIST_STD) == (MNIST_MEAN, MNIST_STD)


def test_numpy_mnist_is_the_same_as_load_mnists():
    from lenet_utils.data import load_mnist

    pixels, labels = bh.load_mnist_arrays("test")
    split = load_mnist("test")
    assert pixels.dtype == np.uint8 and isinstance(pixels, np.memmap) and pixels.shape == (10_000, 28, 28)
    assert np.array_equal(pixels[:500], split.pixels[:500].numpy())
    assert np.array_equal(labels, split.labels.numpy())
    assert np.allclose(bh.normalize(pixels[:8]), split.images[:8].numpy(), atol=1e-6)


def test_a_short_training_run_beats_chance():
    """120 steps of 64 digits (a seventh of an epoch): far above the 10% of guessing, loss falling."""
    pixels, labels = bh.load_mnist_arrays("train")
    test = bh.load_mnist_arrays("test")
    net = bh.NumpyLeNet5(seed=0)
    seen = []
    history = bh.train(net, pixels, labels, bh.NumpyTrainConfig(batch_size=64, max_steps=120),
                       test=(test[0][:2000], test[1][:2000]), step_callback=lambda h: seen.append(len(h.step_losses)))
    assert seen == list(range(1, 121)) and len(history.step_losses) == 120
    assert np.mean(history.step_losses[:10]) > 2.0 > 0.6 > np.mean(history.step_losses[-10:])
    assert history.epochs[0]["test_acc"] > 0.85, history.epochs


def test_training_limits_blas_threads_and_gives_them_back():
    from threadpoolctl import threadpool_info

    def blas_threads_now():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before, during = blas_threads_now(), []
    pixels, labels = bh.load_mnist_arrays("test")
    bh.train(bh.NumpyLeNet5(), pixels[:256], labels[:256], bh.NumpyTrainConfig(batch_size=128),
             step_callback=lambda h: during.append(blas_threads_now()))
    assert before and during == [[1] * len(before)] * 2 and blas_threads_now() == before


def test_a_callback_returning_false_stops_training():
    pixels, labels = bh.load_mnist_arrays("test")
    history = bh.train(bh.NumpyLeNet5(), pixels[:1000], labels[:1000], bh.NumpyTrainConfig(batch_size=100),
                       step_callback=lambda h: len(h.step_losses) < 3)
    assert len(history.step_losses) == 3 and len(history.epochs) == 1


# --- 5: no PyTorch at all ---------------------------------------------------------------------------------
NO_TORCH = r"""
import sys
sys.modules["torch"] = None          # any import of torch, direct or indirect, now raises ImportError
sys.modules["torchvision"] = None
sys.modules["threadpoolctl"] = None  # optional (by_hand.blas_threads); a browser's NumPy does without
before = set(sys.modules)
import numpy as np
from lenet_utils import by_hand as bh
import json

net = bh.NumpyLeNet5(seed=0)
x = np.random.default_rng(0).normal(size=(4, 1, 28, 28)).astype(np.float32)
loss, logits, grads = net.loss_and_grads(x, np.array([0, 1, 2, 3]))
pixels, labels = bh.load_mnist_arrays("test")
history = bh.train(net, pixels[:640], labels[:640], bh.NumpyTrainConfig(batch_size=64))
new = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps({"loss": loss, "logits": list(logits.shape), "grads": sorted(grads), "steps": len(history.step_losses),
                  "torch": sys.modules["torch"] is None, "new": new,
                  "outside": [n for n in new if n not in sys.stdlib_module_names and n not in ("numpy", "lenet_utils")
                              and n != "cython_runtime" and not n.startswith("_cython_")]}))   # numpy's Cython parts
"""


def test_runs_with_pytorch_blocked():
    """The module, a forward and backward pass and a short training run on MNIST, with ``import torch``
    (and the optional threadpoolctl) made impossible: what a browser without PyTorch (Pyodide) could run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=300, env=env,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["torch"] and np.isfinite(found["loss"]) and found["logits"] == [4, 10]
    assert found["grads"] == sorted(bh.PARAM_SHAPES) and found["steps"] == 10
    assert found["outside"] == [], found["new"]                     # NumPy and the standard library only


# --- the benchmark ------------------------------------------------------------------------------------------
LAYERS = ["conv1", "pool1", "relu1", "conv2", "pool2", "relu2", "flatten", "fc1", "fc2", "fc3", "cross_entropy"]


def test_the_benchmark_runs_and_records_when_where_and_what(tmp_path):
    """A small run of benchmarks/by_hand.py: every figure there, and the date, commit and load with them."""
    out = tmp_path / "by_hand.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "by_hand.py"), "--train", "512", "--test", "256",
                           "--epochs", "1", "--out", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["date"].endswith("UTC") and result["commit"] != "unknown" and result["threads"] == 1
    assert len(result["load_average_start"]) == len(result["load_average_end"]) == 3
    assert list(result["gradient_check"]) == LAYERS
    for row in result["gradient_check"].values():
        assert row["finite_differences"] < 1e-6 and row["autograd"] < 1e-10
    assert set(result["runs"]) == {"numpy_1_epochs", "torch_1_epochs", "torch_fast_1_epochs"}
    assert all(run["seconds_per_epoch"] > 0 and 0 <= run["test_acc"] <= 1 for run in result["runs"].values())
    runs = result["runs"]
    assert result["ratios"]["1_epochs"]["numpy_vs_torch"] == (runs["numpy_1_epochs"]["seconds_per_epoch"]
                                                             / runs["torch_1_epochs"]["seconds_per_epoch"])
    assert "numpy_1_epochs" in proc.stdout and "vs finite differences" in proc.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["by_hand.json"]          # nothing else written


def test_the_committed_results_are_a_full_run():
    """results/by_hand.json, which notebook 02b and the README quote: full epochs, the issue's target met."""
    result = json.loads((REPO / "benchmarks" / "results" / "by_hand.json").read_text())
    assert result["train_images"] == 60_000 and result["test_images"] == 10_000
    assert {f"{way}_{n}_epochs" for way in ("numpy", "torch", "torch_fast") for n in (1, 3)} == set(result["runs"])
    assert [len(result["runs"][f"numpy_{n}_epochs"]["epochs"]) for n in (1, 3)] == [1, 3]
    assert result["runs"]["numpy_1_epochs"]["test_acc"] >= 0.98
    assert list(result["gradient_check"]) == LAYERS
    assert result["load_average_start"] and result["commit"] and result["date"]
    assert result["notebook"]["seconds"]["02b_backprop.ipynb"] > 0 and result["notebook"]["load_average_start"]


def test_the_shipped_model_reads_digits_the_same_in_numpy():
    """The predict panel's model, its weights moved into the NumPy network: the same answers on all
    10,000 test digits (what a browser without PyTorch would give)."""
    from lenet_utils.checkpoints import load_pretrained
    from lenet_utils.inference import predict_logits

    model = load_pretrained()
    net = bh.NumpyLeNet5(torch_state(model))
    pixels, labels = bh.load_mnist_arrays("test")
    ours = net.predict_logits(bh.normalize(pixels))
    theirs = predict_logits(model, torch.from_numpy(bh.normalize(pixels)), fast=False).numpy()
    assert rel_error(ours, theirs) < 1e-4
    assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.9995      # ties at float rounding aside
    assert bh.evaluate(net, pixels, labels)[1] == pytest.approx((theirs.argmax(1) == labels).mean(), abs=5e-4)
