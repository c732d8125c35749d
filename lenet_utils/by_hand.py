"""LeNet-5 by hand, gradients included: every layer's forward AND backward pass in NumPy (notebook 02b).

Each layer is two small functions. ``*_forward(x, ...)`` returns its output and a ``cache`` (what the
backward pass will need); ``*_backward(d_out, cache)`` takes dL/d(output) and returns dL/d(input),
plus dL/d(weights) for layers that have weights. That is the chain rule, one layer at a time:

    dL/dx = dL/dy · dy/dx        (what flows back to the layer before)
    dL/dw = dL/dy · dy/dw        (what the optimiser uses to move w)

:class:`NumpyLeNet5` chains them into the course's reference network (``lenet_utils/model.py``), with
the same parameter names as ``LeNet5().state_dict()``, so PyTorch's weights load into it and back.
:func:`train` trains it with SGD + Nesterov momentum under the one-cycle schedule, the course's
recipe (``training.TrainConfig``), batch by batch from the memory-mapped uint8 MNIST files.

This module imports nothing but NumPy, the standard library and the package's torch-free
``mnist_files`` (PyTorch is never imported, not even indirectly), so it runs where PyTorch cannot,
e.g. Pyodide in a browser. tests/test_by_hand.py checks every backward function against finite
differences and against PyTorch's autograd.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .mnist_files import MNIST_MEAN, MNIST_STD  # the training set's pixel mean and std on [0, 1]; no PyTorch

__all__ = [
    "MNIST_MEAN", "MNIST_STD", "PARAM_SHAPES", "SGD", "NumpyHistory", "NumpyLeNet5", "NumpyTrainConfig",
    "avgpool_backward", "avgpool_forward", "clip_grad_norm", "conv2d_backward", "conv2d_forward",
    "cross_entropy_backward", "cross_entropy_forward", "evaluate", "flatten_backward", "flatten_forward",
    "linear_backward", "linear_forward", "load_mnist_arrays", "normalize", "numeric_gradient", "one_cycle",
    "read_idx_array", "relative_error",
    "relu_backward", "relu_forward", "train", "blas_threads",
]

# LeNet5().state_dict(): name -> shape, in the order the input meets the layers (61,706 numbers).
PARAM_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,),        # C1: six 5x5 kernels
    "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),      # C3: sixteen 6x5x5 kernels
    "fc1.weight": (120, 400), "fc1.bias": (120,),            # C5
    "fc2.weight": (84, 120), "fc2.bias": (84,),              # F6
    "fc3.weight": (10, 84), "fc3.bias": (10,),               # one score per digit
}


# --- convolution ------------------------------------------------------------------------------------
def conv_padding(padding: int | str, kernel: int) -> tuple[int, int]:
    """Pixels added (before, after) on each axis: ``"same"`` keeps the side (PyTorch puts the odd
    pixel of an even kernel after), ``"valid"`` adds none, a whole number ``p`` adds p on each side."""
    if padding == "same":
        return (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2
    if padding == "valid":
        return 0, 0
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return int(padding), int(padding)
    raise ValueError(f"padding must be 'same', 'valid' or a whole number of pixels >= 0, got {padding!r}")


def im2col(x_padded: np.ndarray, kernel: int) -> np.ndarray:
    """Every k x k window of every image, one per row: (B, C, H, W) -> (B*H'*W', C*k*k), H' = H - k + 1.
    A convolution then becomes ONE matrix product, which NumPy hands to an optimised BLAS."""
    batch, channels = x_padded.shape[:2]
    windows = sliding_window_view(x_padded, (kernel, kernel), axis=(2, 3))  # (B, C, H', W', k, k): a view
    out_h, out_w = windows.shape[2:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(batch * out_h * out_w, channels * kernel * kernel)


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray,
                   padding: int | str = 0) -> tuple[np.ndarray, tuple]:
    """y[b, f, h, w] = sum_{c,i,j} x_pad[b, c, h+i, w+j] * w[f, c, i, j] + b[f]:
    (B, C, H, W) with (F, C, k, k) -> (B, F, H', W'), as ``nn.Conv2d`` (stride 1)."""
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1] or w.shape[2] != w.shape[3]:
        raise ValueError(f"conv2d needs x (B, C, H, W) and square kernels w (F, C, k, k) with the same C; "
                         f"got x {x.shape}, w {w.shape}")
    filters, _, k, _ = w.shape
    lo, hi = conv_padding(padding, k)
    x_padded = np.pad(x, ((0, 0), (0, 0), (lo, hi), (lo, hi)))           # (B, C, H+lo+hi, W+lo+hi)
    out_h, out_w = x_padded.shape[2] - k + 1, x_padded.shape[3] - k + 1
    cols = im2col(x_padded, k)                                           # (B*H'*W', C*k*k)
    out = cols @ w.reshape(filters, -1).T + b                            # (B*H'*W', F)
    out = out.reshape(len(x), out_h, out_w, filters).transpose(0, 3, 1, 2)   # (B, F, H', W')
    return out, (cols, w, (lo, hi), x.shape)


def conv2d_backward(d_out: np.ndarray, cache: tuple, input_grad: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(dL/dx, dL/dw, dL/db) from dL/dy (B, F, H', W'). ``input_grad=False`` skips dL/dx (the first
    layer's input is the image: nothing learns from it).

    The forward pass was ``y = cols @ W^T + b`` with ``W`` the kernels as rows (F, C*k*k), so, as
    for a Linear layer:
      dL/db    = sum of dL/dy over batch and positions     (the bias touches every output)
      dL/dW    = dL/dy^T @ cols                            (F, C*k*k): each weight met one pixel per output
      dL/dcols = dL/dy @ W                                 (B*H'*W', C*k*k)
    and each entry of ``cols`` was a copy of one input pixel, so dL/dx adds up the gradients of all
    the copies of a pixel (col2im): a pixel in k*k windows gets k*k contributions. (The same numbers,
    stated as a convolution: dL/dx is a "full" convolution of dL/dy with the kernels flipped.)
    """
    cols, w, (lo, hi), x_shape = cache
    batch, filters, out_h, out_w = d_out.shape
    channels, k = w.shape[1], w.shape[-1]
    d_y = d_out.transpose(0, 2, 3, 1).reshape(-1, filters)                   # (B*H'*W', F), rows as in cols
    d_b = d_y.sum(axis=0)                                                     # (F,)
    d_w = (d_y.T @ cols).reshape(w.shape)                                     # (F, C, k, k)
    if not input_grad:
        return None, d_w, d_b
    d_cols = (d_y @ w.reshape(filters, -1)).reshape(batch, out_h, out_w, channels, k, k)
    d_x_padded = np.zeros((batch, channels, out_h + k - 1, out_w + k - 1), dtype=d_out.dtype)
    for i in range(k):                                                        # col2im: k*k shifted adds
        for j in range(k):
            d_x_padded[:, :, i:i + out_h, j:j + out_w] += d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    height, width = x_shape[2], x_shape[3]
    return d_x_padded[:, :, lo:lo + height, lo:lo + width].copy(), d_w, d_b   # the padding learns nothing


# --- average pooling ---------------------------------------------------------------------------------
def avgpool_forward(x: np.ndarray, size: int = 2) -> tuple[np.ndarray, tuple]:
    """The mean of each size x size window, stride ``size``: (B, C, H, W) -> (B, C, H//size, W//size),
    as ``nn.AvgPool2d(size, size)`` (a last row or column that fills no window is left out)."""
    batch, channels, height, width = x.shape
    out_h, out_w = height // size, width // size
    windows = x[:, :, :out_h * size, :out_w * size].reshape(batch, channels, out_h, size, out_w, size)
    return windows.mean(axis=(3, 5)), (x.shape, size)


def avgpool_backward(d_out: np.ndarray, cache: tuple) -> np.ndarray:
    """y = (x1 + ... + x_{s*s}) / (s*s), so dy/dx_i = 1/(s*s): each input in a window gets an equal
    share of that window's gradient. (B, C, H', W') -> (B, C, H, W)."""
    x_shape, size = cache
    batch, channels, out_h, out_w = d_out.shape
    d_x = np.zeros(x_shape, dtype=d_out.dtype)                                   # left-out pixels: 0
    windows = d_x[:, :, :out_h * size, :out_w * size].reshape(batch, channels, out_h, size, out_w, size)
    windows[...] = d_out[:, :, :, None, :, None] / size ** 2                     # a view: writes into d_x
    return d_x


# --- ReLU, flatten -------------------------------------------------------------------------------------
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max(x, 0), elementwise."""
    positive = x > 0
    return x * positive, positive


def relu_backward(d_out: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """dy/dx is 1 where x > 0 and 0 elsewhere: the gradient passes through the open units only."""
    return d_out * positive


def flatten_forward(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(B, C, H, W) -> (B, C*H*W), the order of ``nn.Flatten``."""
    return x.reshape(len(x), -1), x.shape


def flatten_backward(d_out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Nothing is computed, only rearranged: put the gradient back into the maps' shape."""
    return d_out.reshape(shape)


# --- linear --------------------------------------------------------------------------------------------
def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """y = x W^T + b: (B, n_in) with W (n_out, n_in) -> (B, n_out), as ``nn.Linear``."""
    return x @ w.T + b, (x, w)


def linear_backward(d_out: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y[b, o] = sum_i x[b, i] W[o, i] + b[o], so
    dL/dx = dL/dy W  (B, n_in);  dL/dW = (dL/dy)^T x  (n_out, n_in), summed over the batch;  dL/db = sum_b dL/dy."""
    x, w = cache
    return d_out @ w, d_out.T @ x, d_out.sum(axis=0)


# --- softmax + cross-entropy ---------------------------------------------------------------------------
def cross_entropy_forward(logits: np.ndarray, labels: np.ndarray) -> tuple[float, tuple]:
    """Mean over the batch of -log softmax(logits)[label], as ``F.cross_entropy``. (B, 10), (B,) -> scalar."""
    shifted = logits - logits.max(axis=1, keepdims=True)                 # same softmax, no overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))   # (B, 10)
    rows = np.arange(len(labels))
    return float(-log_probs[rows, labels].mean()), (log_probs, labels)


def cross_entropy_backward(cache: tuple) -> np.ndarray:
    """dL/dlogits = (softmax(logits) - one_hot(label)) / B: the whole softmax + log derivative in one line."""
    log_probs, labels = cache
    d_logits = np.exp(log_probs)                                         # (B, 10) probabilities
    d_logits[np.arange(len(labels)), labels] -= 1.0
    return d_logits / len(labels)


# --- checking a gradient ------------------------------------------------------------------------------
def numeric_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f() / d array by central differences, (f(a + h) - f(a - h)) / 2h, one element at a time:
    slow (two calls of ``f`` per number) but needs no calculus, so it checks the calculus.
    ``array`` is nudged in place and restored; use float64, or rounding swamps the differences."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, grad_flat = array.reshape(-1), grad.reshape(-1)   # views: writing flat[i] nudges array
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        grad_flat[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, reference: np.ndarray) -> float:
    """max |analytic - reference| / max |reference| over the whole array (an elementwise ratio means
    nothing where both are ~0). Below 1e-6 in float64: the backward pass is right."""
    analytic, reference = np.asarray(analytic, np.float64), np.asarray(reference, np.float64)
    if analytic.shape != reference.shape:
        raise ValueError(f"the gradients' shapes differ: {analytic.shape} and {reference.shape}")
    return float(np.abs(analytic - reference).max() / max(np.abs(reference).max(), 1e-12))


# --- the network ---------------------------------------------------------------------------------------
class NumpyLeNet5:
    """The reference LeNet-5 in NumPy: the layers of ``LeNet5`` under the same names, forward and backward.

    ``NumpyLeNet5()`` draws weights as PyTorch does (uniform in ±1/sqrt(fan_in)), from ``seed``.
    ``NumpyLeNet5(params)`` takes a state dict of arrays, e.g.
    ``{k: v.numpy() for k, v in LeNet5().state_dict().items()}``. ``conv1_padding="valid"`` is
    LeCun's original C1, which expects 32x32 images."""

    def __init__(self, params: dict[str, np.ndarray] | None = None, *, seed: int = 0,
                 dtype: type = np.float32, conv1_padding: int | str = "same"):
        self.dtype = np.dtype(dtype)
        self.conv1_padding = conv1_padding
        conv_padding(conv1_padding, 5)                      # a bad setting fails here, not mid-forward
        self.params: dict[str, np.ndarray] = {}
        if params is None:
            params = init_params(np.random.default_rng(seed))
        self.load_state_dict(params)

    # state dicts: the weights as arrays, named as in LeNet5().state_dict()
    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, params: dict[str, np.ndarray]) -> None:
        missing = [name for name in PARAM_SHAPES if name not in params]
        unknown = [name for name in params if name not in PARAM_SHAPES]
        if missing or unknown:
            raise ValueError(f"not a LeNet-5 state dict: missing {missing or 'nothing'}, "
                             f"unknown {unknown or 'nothing'}")
        for name, shape in PARAM_SHAPES.items():
            value = np.asarray(params[name])
            if value.shape != shape:
                raise ValueError(f"{name} has shape {value.shape}, LeNet-5's is {shape}")
            self.params[name] = np.array(value, dtype=self.dtype)   # a copy: training here moves only ours

    def count_parameters(self) -> int:
        return sum(value.size for value in self.params.values())   # 61,706

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        """Logits (B, 10) for normalised images (B, 1, 28, 28), and each layer's cache for backward."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"LeNet-5 takes a batch of greyscale images (B, 1, 28, 28); got shape {x.shape}")
        p, cache = self.params, {}
        x, cache["conv1"] = conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], self.conv1_padding)  # (B, 6, 28, 28)
        x, cache["pool1"] = avgpool_forward(x)                                              # (B, 6, 14, 14)
        x, cache["relu1"] = relu_forward(x)
        x, cache["conv2"] = conv2d_forward(x, p["conv2.weight"], p["conv2.bias"])           # (B, 16, 10, 10)
        x, cache["pool2"] = avgpool_forward(x)                                              # (B, 16, 5, 5)
        x, cache["relu2"] = relu_forward(x)
        if x.shape[1:] != (16, 5, 5):
            raise ValueError(f"these images give {x.shape[1:]} maps before fc1, which needs (16, 5, 5): use 28x28 "
                             "images (32x32 with conv1_padding='valid')")
        x, cache["flatten"] = flatten_forward(x)                                            # (B, 400)
        x, cache["fc1"] = linear_forward(x, p["fc1.weight"], p["fc1.bias"])                 # (B, 120)
        x, cache["fc2"] = linear_forward(x, p["fc2.weight"], p["fc2.bias"])                 # (B, 84)
        x, cache["fc3"] = linear_forward(x, p["fc3.weight"], p["fc3.bias"])                 # (B, 10)
        return x, cache

    def backward(self, d_logits: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
        """dL/d(every parameter) from dL/dlogits: the forward pass read backwards, layer by layer."""
        g: dict[str, np.ndarray] = {}
        d, g["fc3.weight"], g["fc3.bias"] = linear_backward(d_logits, cache["fc3"])       # (B, 84)
        d, g["fc2.weight"], g["fc2.bias"] = linear_backward(d, cache["fc2"])              # (B, 120)
        d, g["fc1.weight"], g["fc1.bias"] = linear_backward(d, cache["fc1"])              # (B, 400)
        d = flatten_backward(d, cache["flatten"])                                         # (B, 16, 5, 5)
        d = relu_backward(d, cache["relu2"])
        d = avgpool_backward(d, cache["pool2"])                                           # (B, 16, 10, 10)
        d, g["conv2.weight"], g["conv2.bias"] = conv2d_backward(d, cache["conv2"])        # (B, 6, 14, 14)
        d = relu_backward(d, cache["relu1"])
        d = avgpool_backward(d, cache["pool1"])                                           # (B, 6, 28, 28)
        _, g["conv1.weight"], g["conv1.bias"] = conv2d_backward(d, cache["conv1"], input_grad=False)
        return {name: g[name] for name in PARAM_SHAPES}                                   # state-dict order

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """One forward and one backward pass: (mean cross-entropy, logits, gradients)."""
        logits, cache = self.forward(x)
        loss, loss_cache = cross_entropy_forward(logits, labels)
        return loss, logits, self.backward(cross_entropy_backward(loss_cache), cache)

    def predict_logits(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Logits for many images, a batch at a time (no caches kept)."""
        return np.concatenate([self.forward(x[i:i + batch_size])[0] for i in range(0, len(x), batch_size)])


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation: weights and biases uniform in ±1/sqrt(fan_in)."""
    params = {}
    for name, shape in PARAM_SHAPES.items():
        weight_shape = PARAM_SHAPES[name.replace(".bias", ".weight")]
        bound = 1 / math.sqrt(math.prod(weight_shape[1:]))                  # fan_in: inputs per output
        params[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return params


# --- learning ------------------------------------------------------------------------------------------
@dataclass
class SGD:
    """SGD with (Nesterov) momentum and L2 weight decay, step for step as ``torch.optim.SGD``:

        g = grad + weight_decay * w;   v = momentum * v + g;   w -= lr * (g + momentum * v if nesterov else v)
    """

    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    velocity: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float | None = None) -> None:
        lr = self.lr if lr is None else lr
        for name, w in params.items():
            g = grads[name] + self.weight_decay * w
            if self.momentum:
                v = self.velocity.get(name)
                v = g.copy() if v is None else self.momentum * v + g     # the first step starts v at g
                self.velocity[name] = v
                g = g + self.momentum * v if self.nesterov else v
            w -= lr * g                                                  # in place: the network sees it


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together so their joint L2 norm is at most ``max_norm`` (as
    ``nn.utils.clip_grad_norm_``); returns the norm before clipping."""
    total = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values()))
    scale = min(1.0, max_norm / (total + 1e-6))
    if scale < 1.0:
        for g in grads.values():
            g *= scale
    return total


def one_cycle(step: int, total_steps: int, warmup: float = 0.2, start: float = 1 / 25, end: float = 1 / 25e4) -> float:
    """The course's learning-rate factor (``training.one_cycle``, which imports PyTorch; a test checks
    they agree): a cosine rise from ``start`` to 1 over the first ``warmup`` of the steps, then a
    cosine fall to ``end``."""
    peak = max(1, round(warmup * total_steps))
    if step < peak:
        return start + (1 - start) * (1 - math.cos(math.pi * step / peak)) / 2
    t = min(1.0, (step - peak) / max(1, total_steps - 1 - peak))
    return end + (1 - end) * (1 + math.cos(math.pi * t)) / 2


@dataclass(frozen=True)
class NumpyTrainConfig:
    """The course's recipe (``training.TrainConfig()``'s values; a test checks), for the NumPy network."""

    epochs: int = 1
    batch_size: int = 128
    lr: float = 0.1                 # peak of the one-cycle schedule
    momentum: float = 0.9           # Nesterov
    weight_decay: float = 5e-4
    schedule: str = "onecycle"      # "onecycle" | "constant"
    warmup: float = 0.2
    grad_clip: float | None = 2.0
    max_steps: int | None = None    # stop after this many batches in all (a short demo run)
    seed: int = 0                   # the shuffling

    def __post_init__(self) -> None:
        checks = [
            ("epochs", isinstance(self.epochs, int) and self.epochs >= 1, "a whole number >= 1"),
            ("batch_size", isinstance(self.batch_size, int) and self.batch_size >= 1, "a whole number >= 1"),
            ("lr", isinstance(self.lr, (int, float)) and self.lr > 0, "a positive number"),
            ("schedule", self.schedule in ("onecycle", "constant"), "'onecycle' or 'constant'"),
            ("warmup", 0 < self.warmup < 1, "a fraction between 0 and 1"),
            ("max_steps", self.max_steps is None or (isinstance(self.max_steps, int) and self.max_steps >= 1),
             "None or a whole number >= 1"),
        ]
        for name, ok, want in checks:
            if not ok:
                raise ValueError(f"NumpyTrainConfig.{name} must be {want}, got {getattr(self, name)!r}")


@dataclass
class NumpyHistory:
    """What :func:`train` returns: per-step losses and one dict per epoch."""

    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)   # epoch, train_loss, train_acc, test_*, seconds
    total_steps: int = 0


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels (B, 28, 28) -> float32 network input (B, 1, 28, 28): (p / 255 - mean) / std."""
    x = pixels.astype(np.float32)[:, None] / 255.0
    return (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)


def evaluate(net: NumpyLeNet5, pixels: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``net`` on uint8 images and their labels."""
    loss_sum, correct = 0.0, 0
    for i in range(0, len(labels), batch_size):
        logits = net.forward(normalize(pixels[i:i + batch_size]))[0]
        y = labels[i:i + batch_size]
        loss_sum += cross_entropy_forward(logits, y)[0] * len(y)
        correct += int((logits.argmax(axis=1) == y).sum())
    return loss_sum / len(labels), correct / len(labels)


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """Limit NumPy's BLAS (its matrix products) to ``threads`` threads inside a ``with`` block, through
    threadpoolctl; ``None``, or no threadpoolctl (a browser's NumPy has one thread anyway), changes nothing."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(threads, user_api="blas")


def train(net: NumpyLeNet5, pixels: np.ndarray, labels: np.ndarray, config: NumpyTrainConfig | None = None, *,
          test: tuple[np.ndarray, np.ndarray] | None = None,
          step_callback: Callable[[NumpyHistory], bool | None] | None = None,
          threads: int | None = 1) -> NumpyHistory:
    """Train ``net`` in place on uint8 ``pixels`` (N, 28, 28) (a memory map is fine: only each batch is
    read and normalised) with ``labels`` (N,). ``test`` = (pixels, labels) is scored after every epoch.
    ``step_callback(history)`` runs after each batch (a live plot); returning ``False`` stops.

    ``threads``: NumPy's BLAS threads while training (:func:`blas_threads`). One by default: LeNet's
    matrices are narrow (6 to 120 columns), and on a busy 2-core machine two threads made each step
    about 10x slower than one (benchmarks/by_hand.py fixes the count for both NumPy and PyTorch)."""
    with blas_threads(threads):
        return _train(net, pixels, labels, config or NumpyTrainConfig(), test, step_callback)


def _train(net, pixels, labels, config, test, step_callback) -> NumpyHistory:
    labels = np.asarray(labels, dtype=np.int64)
    if len(pixels) != len(labels) or np.ndim(pixels) != 3:
        raise ValueError(f"need pixels (N, H, W) and one label each; got {np.shape(pixels)} and {labels.shape}")
    steps_per_epoch = math.ceil(len(labels) / config.batch_size)
    total = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimizer = SGD(config.lr, config.momentum, config.momentum > 0, config.weight_decay)
    rng = np.random.default_rng(config.seed)
    history = NumpyHistory(total_steps=total)
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        order = rng.permutation(len(labels))                            # a fresh shuffle every epoch
        stop = False
        for i in range(0, len(labels), config.batch_size):
            idx = np.sort(order[i:i + config.batch_size])              # sorted: the memory map reads forwards
            x, y = normalize(pixels[idx]), labels[idx]                  # (B, 1, 28, 28), (B,)
            loss, logits, grads = net.loss_and_grads(x, y)              # forward + backward
            if config.grad_clip is not None:
                clip_grad_norm(grads, config.grad_clip)
            factor = 1.0 if config.schedule == "constant" else one_cycle(len(history.step_losses), total,
                                                                         config.warmup)
            optimizer.step(net.params, grads, lr=config.lr * factor)    # move downhill
            history.step_losses.append(loss)
            loss_sum += loss * len(y)
            correct += int((logits.argmax(axis=1) == y).sum())
            seen += len(y)
            if step_callback is not None and step_callback(history) is False:
                stop = True
            if stop or len(history.step_losses) >= total:
                break
        train_seconds = time.perf_counter() - start
        test_loss, test_acc = evaluate(net, *test) if test is not None else (float("nan"), float("nan"))
        history.epochs.append({"epoch": epoch, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                               "test_loss": test_loss, "test_acc": test_acc, "train_seconds": train_seconds,
                               "seconds": time.perf_counter() - start})
        if stop or len(history.step_losses) >= total:
            break
    return history


# --- MNIST without PyTorch -----------------------------------------------------------------------------
def read_idx_array(path: str | Path) -> np.ndarray:
    """An IDX file of unsigned bytes as a read-only-on-disk NumPy memory map (copy-on-write, as
    ``data.read_idx``, which wraps the same map in a tensor)."""
    path = Path(path)
    with open(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[:2] != b"\0\0" or header[2] != 0x08:
            raise ValueError(f"{path} is not an IDX file of unsigned bytes; delete it and run again")
        dims = tuple(int.from_bytes(f.read(4), "big") for _ in range(header[3]))
    offset = 4 + 4 * len(dims)
    if path.stat().st_size != offset + math.prod(dims):
        raise ValueError(f"{path} holds {path.stat().st_size} bytes, its header says {offset + math.prod(dims)}; "
                         "delete it and run again")
    return np.memmap(path, dtype=np.uint8, mode="c", offset=offset, shape=dims)


def load_mnist_arrays(split: str = "train", root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels (N, 28, 28) uint8 memory map, labels (N,) int64)`` for ``"train"`` or ``"test"``,
    prepared and checked as ``load_mnist`` does (from ``$LENET_MNIST_DIR`` or data/), without PyTorch."""
    from .mnist_files import SPLITS, prepare_mnist  # standard library only, as is paths.py

    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of 'train', 'test'")
    root = Path(prepare_mnist(root))
    images, labels = (read_idx_array(root / "MNIST" / "raw" / name) for name in SPLITS[split])
    return images, np.asarray(labels, dtype=np.int64)
