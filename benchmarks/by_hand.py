"""The NumPy LeNet-5 (``lenet_utils.by_hand``, notebook 02b) against the PyTorch path, in one process.

    python benchmarks/by_hand.py                    # the course's recipe for 1 and for 3 epochs, both ways
    python benchmarks/by_hand.py --train 6000 --test 1000 --epochs 1 --out ''   # a quick look
    python benchmarks/by_hand.py --only-notebook    # time notebooks/02b_backprop.ipynb, add it to the file

Three things, written to benchmarks/results/by_hand.json:

1. the gradient check: every layer of the reference network (its shapes, a batch of 2), its
   backward pass against finite differences and against PyTorch's autograd, in float64
   (max relative error over the layer's gradients, as ``by_hand.relative_error``);
2. seconds per epoch of training (and of the test pass) with NumPy and with ``fit`` (PyTorch,
   ``fast=False``: the plain model, as the lesson shows it; ``fast=True`` as the course trains),
   the same recipe (``TrainConfig``), the same thread count (``--threads``, default 1: on a shared
   machine two BLAS threads can run 20x slower than one);
3. test accuracy after the recipe's 1-epoch and 3-epoch runs, both ways;
4. with ``--only-notebook``: the lesson's own run time, executed from a fresh kernel into a copy as
   ``benchmarks/notebook_times.py`` does (the README quotes it until ``make bench`` times the lesson).

NumPy's thread count is set by ``by_hand.train(threads=...)`` (threadpoolctl), PyTorch's by
``fit(threads=...)``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time
from pathlib import Path

from provenance import git_commit

REPO = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="1,3", help="recipe lengths to run, comma-separated (default 1,3)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for NumPy's BLAS and PyTorch (default 1)")
    parser.add_argument("--train", type=int, default=None, help="train on the first N images (default: all 60,000)")
    parser.add_argument("--test", type=int, default=None, help="score on the first N test images (default: 10,000)")
    parser.add_argument("--no-torch", action="store_true", help="NumPy runs only")
    parser.add_argument("--only-notebook", action="store_true",
                        help="only time notebooks/02b_backprop.ipynb and add that to the --out file")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "by_hand.json"),
                        help="where to write the figures as JSON ('' for nowhere)")
    return parser.parse_args()



def gradient_check() -> dict[str, dict[str, float]]:
    """Per layer of the reference network: max relative error of its gradients (input and weights)
    against finite differences and against autograd, float64, batch of 2."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from lenet_utils import by_hand as bh

    g = np.random.default_rng(0)

    def layer(name, forward, backward, torch_fn, inputs):
        """``forward(*inputs) -> (out, cache)``; ``backward(d_out, cache)`` -> a gradient per input."""
        out, cache = forward(*inputs)
        d_out = g.normal(size=np.shape(out))
        grads = backward(d_out, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        fd = max(bh.relative_error(grad, bh.numeric_gradient(lambda: float((forward(*inputs)[0] * d_out).sum()), a))
                 for grad, a in zip(grads, inputs))
        tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
        torch_fn(*tensors).backward(torch.from_numpy(d_out))
        auto = max(bh.relative_error(grad, t.grad.numpy()) for grad, t in zip(grads, tensors))
        return name, {"finite_differences": fd, "autograd": auto, "numbers": int(sum(np.size(a) for a in inputs))}

    def conv(x_shape, w_shape, padding):
        return (lambda x, w, b: bh.conv2d_forward(x, w, b, padding), bh.conv2d_backward,
                lambda x, w, b: F.conv2d(x, w, b, padding=padding),
                [g.normal(size=x_shape), g.normal(size=w_shape) * 0.2, g.normal(size=w_shape[0])])

    def linear(n_in, n_out):
        return (bh.linear_forward, bh.linear_backward, F.linear,
                [g.normal(size=(2, n_in)), g.normal(size=(n_out, n_in)) * n_in ** -0.5, g.normal(size=n_out)])

    relu_in = g.normal(size=(2, 6, 14, 14))
    relu_in[np.abs(relu_in) < 1e-3] = 0.5                       # no finite difference across the kink
    relu2_in = g.normal(size=(2, 16, 5, 5))
    relu2_in[np.abs(relu2_in) < 1e-3] = 0.5
    labels = np.array([3, 7])
    rows = [
        layer("conv1", *conv((2, 1, 28, 28), (6, 1, 5, 5), "same")),
        layer("pool1", bh.avgpool_forward, bh.avgpool_backward, lambda x: F.avg_pool2d(x, 2, 2),
              [g.normal(size=(2, 6, 28, 28))]),
        layer("relu1", bh.relu_forward, bh.relu_backward, torch.relu, [relu_in]),
        layer("conv2", *conv((2, 6, 14, 14), (16, 6, 5, 5), 0)),
        layer("pool2", bh.avgpool_forward, bh.avgpool_backward, lambda x: F.avg_pool2d(x, 2, 2),
              [g.normal(size=(2, 16, 10, 10))]),
        layer("relu2", bh.relu_forward, bh.relu_backward, torch.relu, [relu2_in]),
        layer("flatten", bh.flatten_forward, bh.flatten_backward, lambda x: x.flatten(1),
              [g.normal(size=(2, 16, 5, 5))]),
        layer("fc1", *linear(400, 120)),
        layer("fc2", *linear(120, 84)),
        layer("fc3", *linear(84, 10)),
        layer("cross_entropy", lambda z: bh.cross_entropy_forward(z, labels),
              lambda d, cache: bh.cross_entropy_backward(cache) * d,       # d is a scalar's gradient: 1 number
              lambda z: F.cross_entropy(z, torch.from_numpy(labels)), [g.normal(size=(2, 10))]),
    ]
    return dict(rows)


def numpy_run(epochs: int, train, test, threads: int) -> dict:
    from lenet_utils import by_hand as bh

    net = bh.NumpyLeNet5(seed=0)
    history = bh.train(net, *train, bh.NumpyTrainConfig(epochs=epochs), test=test, threads=threads)
    return {"epochs": history.epochs, "test_acc": history.epochs[-1]["test_acc"],
            "seconds_per_epoch": sum(e["seconds"] for e in history.epochs) / len(history.epochs),
            "train_seconds_per_epoch": sum(e["train_seconds"] for e in history.epochs) / len(history.epochs)}


def torch_run(epochs: int, train, test, threads: int, fast: bool) -> dict:
    from lenet_utils import LeNet5, TrainConfig, fit, set_seed

    set_seed(0)
    history = fit(LeNet5(), train, test, TrainConfig(epochs=epochs), progress=False, threads=threads, fast=fast,
                  device="cpu")
    return {"epochs": history.to_dicts(), "test_acc": history.final.test_acc,
            "seconds_per_epoch": history.seconds / len(history)}


def time_notebook(out: Path) -> None:
    """Execute the lesson from a fresh kernel in a temporary copy (notebook_times.measure) and record it."""
    import shutil
    import tempfile

    import notebook_times

    load_start, commit = [round(x, 2) for x in os.getloadavg()], git_commit()
    with tempfile.TemporaryDirectory(prefix="lenet-by-hand-") as tmp:
        shutil.copy(REPO / "notebooks" / "02b_backprop.ipynb", tmp)
        measured = notebook_times.measure(folder=Path(tmp))
    measured = measured["details"]
    if measured["failed"]:
        raise SystemExit(f"the notebook failed: {measured['failed']}")
    result = json.loads(out.read_text()) if out.is_file() else {}
    result["notebook"] = {"seconds": measured["seconds"], "date": datetime.datetime.now(datetime.timezone.utc)
                          .strftime("%Y-%m-%d %H:%M UTC"), "commit": commit, "load_average_start": load_start,
                          "load_average_end": [round(x, 2) for x in os.getloadavg()]}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"02b_backprop: {measured['seconds']['02b_backprop.ipynb']:.1f} s (load {load_start[0]}); written: {out}")


def main() -> None:
    args = parse_args()
    if args.only_notebook:
        time_notebook(Path(args.out))
        return
    import numpy as np

    from lenet_utils import by_hand as bh

    started, commit = datetime.datetime.now(datetime.timezone.utc), git_commit()   # the code that runs
    load_start = [round(x, 2) for x in os.getloadavg()]
    print(f"threads {args.threads}, load average {load_start}")
    check = gradient_check()
    print(f"{'layer':<14} {'vs finite differences':>22} {'vs autograd':>12}")
    for name, row in check.items():
        print(f"{name:<14} {row['finite_differences']:>22.1e} {row['autograd']:>12.1e}")

    train_np, test_np = bh.load_mnist_arrays("train"), bh.load_mnist_arrays("test")
    if args.train:
        train_np = (train_np[0][:args.train], train_np[1][:args.train])
    if args.test:
        test_np = (test_np[0][:args.test], test_np[1][:args.test])
    if not args.no_torch:
        from lenet_utils import load_mnist

        train_t, test_t = load_mnist("train"), load_mnist("test")
        if args.train:
            train_t = train_t.subset(args.train)
        if args.test:
            test_t = test_t.subset(args.test)
    runs: dict[str, dict] = {}
    for epochs in (int(e) for e in args.epochs.split(",")):
        ways = [("numpy", lambda e=epochs: numpy_run(e, train_np, test_np, args.threads))]
        if not args.no_torch:
            ways += [("torch", lambda e=epochs: torch_run(e, train_t, test_t, args.threads, fast=False)),
                     ("torch_fast", lambda e=epochs: torch_run(e, train_t, test_t, args.threads, fast=True))]
        for way, run in ways:
            key = f"{way}_{epochs}_epochs"
            start = time.perf_counter()
            runs[key] = {**run(), "load_average_after": [round(x, 2) for x in os.getloadavg()]}
            print(f"{key:<22} test accuracy {runs[key]['test_acc']:.2%}, {runs[key]['seconds_per_epoch']:.1f} s/epoch "
                  f"({time.perf_counter() - start:.0f} s, load {runs[key]['load_average_after'][0]})")
    ratios = {}
    for epochs in (int(e) for e in args.epochs.split(",")):
        if f"torch_{epochs}_epochs" in runs:
            numpy_s = runs[f"numpy_{epochs}_epochs"]["seconds_per_epoch"]
            ratios[f"{epochs}_epochs"] = {
                "numpy_vs_torch": numpy_s / runs[f"torch_{epochs}_epochs"]["seconds_per_epoch"],
                "numpy_vs_torch_fast": numpy_s / runs[f"torch_fast_{epochs}_epochs"]["seconds_per_epoch"]}
            print(f"{epochs} epoch(s): NumPy takes {ratios[f'{epochs}_epochs']['numpy_vs_torch']:.1f}x PyTorch's time "
                  f"per epoch ({ratios[f'{epochs}_epochs']['numpy_vs_torch_fast']:.1f}x the fast path's)")
    result = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cores": os.cpu_count(),
        "threads": args.threads,
        "numpy": np.__version__,
        "load_average_start": load_start,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "train_images": len(train_np[1]),
        "test_images": len(test_np[1]),
        "recipe": "TrainConfig(): SGD, Nesterov momentum 0.9, weight decay 5e-4, batch 128, one-cycle to lr 0.1, "
                  "gradient norm clipped at 2",
        "gradient_check": check,
        "runs": runs,
        "ratios": ratios,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        print(f"written: {args.out}")


if __name__ == "__main__":
    main()
