"""The settings of LeNet-5 a student can change, checked before any layer is built.

``LeNetConfig()`` is the course's reference network (notebook 02); the layer lab (notebook 06)
builds variants from it. Every check runs on the config alone, so an impossible or too costly
setting is a one-line :class:`ConfigError` naming the field, never a half-built network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "none": None,
}
POOLS: dict[str, type[nn.Module]] = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
POOL_SIZE = 2  # 2x2 windows, stride 2: each pooling halves the map, as in the paper
MAX_CHANNELS = 512  # beyond this a laptop CPU course stops being interactive
MAX_WIDTH = 8192
# Ceilings on what a config may cost, computed from the config alone, before any layer is built:
# a checkpoint from elsewhere must not make the process allocate gigabytes (image_size=1024 with
# 1x1 kernels and 256 channels declares a 1 TiB first Linear layer). The reference needs 61,706
# parameters and 4,704 activations per image; the widest lab settings stay far below both.
MAX_PARAMETERS = 20_000_000    # 80 MB of float32 weights
MAX_ACTIVATIONS = 2_000_000    # values of the largest layer output for ONE image: 8 MB of float32

class ConfigError(ValueError):
    """An impossible :class:`LeNetConfig`. ``field`` names the setting that breaks."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class LeNetConfig:
    """Everything about LeNet-5 a student would change. The defaults are the reference network."""

    conv1_channels: int = 6           # C1: feature maps of the first convolution
    conv1_kernel: int = 5             # C1: kernel side, k x k
    conv1_padding: int | str = "same"  # "same" keeps 28x28 (LeCun padded the image to 32x32 instead)
    conv2_channels: int = 16          # C3: feature maps of the second convolution
    conv2_kernel: int = 5             # C3: kernel side
    conv2_padding: int | str = 0      # 0 ("valid"): 14x14 -> 10x10
    pool: str = "avg"                 # S2, S4: "avg" (subsampling, as in 1998) or "max"
    activation: str = "relu"          # after each pooling: relu | tanh | sigmoid | gelu | none
    fc_widths: tuple[int, ...] = (120, 84)  # hidden Linear layers (C5, F6); () goes straight to 10
    fc_activation: str = "none"       # between the Linear layers; "none" makes them one linear map
    dropout: float = 0.0              # before each Linear that follows a hidden one; 0 adds no layer
    batchnorm: bool = False           # BatchNorm2d after each convolution (2015, not 1998): bn1, bn2
    in_channels: int = 1              # MNIST is greyscale
    image_size: int = 28              # input is image_size x image_size
    num_classes: int = 10             # digits 0-9

    def __post_init__(self) -> None:
        widths = self.fc_widths
        if isinstance(widths, int) and not isinstance(widths, bool):
            widths = (widths,)
        if isinstance(widths, (list, tuple)):
            object.__setattr__(self, "fc_widths", tuple(widths))
        self.feature_sizes()  # validates every field; raises ConfigError before anything is built

    # --- shapes -------------------------------------------------------------------------------
    def feature_sizes(self) -> dict[str, int]:
        """Side of the square feature map after each stage, checking the config on the way.

        For the reference: ``{"conv1": 28, "pool1": 14, "conv2": 10, "pool2": 5, "flatten": 400}``.
        """
        _check_int(self, "in_channels", 1, 64)
        _check_int(self, "image_size", 4, 1024)
        _check_int(self, "num_classes", 2, 10_000)
        _check_choice(self, "pool", POOLS)
        _check_choice(self, "activation", ACTIVATIONS)
        _check_choice(self, "fc_activation", ACTIVATIONS)
        if not isinstance(self.fc_widths, tuple):
            raise ConfigError("fc_widths", f"must be a list of layer widths, got {self.fc_widths!r}")
        for i, width in enumerate(self.fc_widths):
            if not is_int(width) or not 1 <= width <= MAX_WIDTH:
                raise ConfigError("fc_widths",
                                  f"layer {i + 1} width must be an integer from 1 to {MAX_WIDTH}, got {width!r}")
        dropout = self.dropout
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
            raise ConfigError("dropout", f"must be a probability in [0, 1), got {dropout!r}")

        if not isinstance(self.batchnorm, bool):
            raise ConfigError("batchnorm", f"must be True or False, got {self.batchnorm!r}")

        sizes: dict[str, int] = {}
        side = self.image_size
        for stage in ("conv1", "conv2"):
            _check_int(self, f"{stage}_channels", 1, MAX_CHANNELS)
            _check_int(self, f"{stage}_kernel", 1, 64)
            kernel = getattr(self, f"{stage}_kernel")
            padded = side + _total_padding(self, stage)
            if kernel > side:
                what = "input image" if stage == "conv1" else "input map (after conv1 and pooling)"
                largest = min(side, padded - POOL_SIZE + 1)  # and still leave a map the pooling can halve
                raise ConfigError(
                    f"{stage}_kernel",
                    f"a {kernel}x{kernel} kernel is larger than its {side}x{side} {what}; "
                    f"use a kernel of at most {largest}" + (", or more padding" if largest < side else ""),
                )
            side = padded - kernel + 1  # conv output: n + 2p - k + 1 (stride 1)
            sizes[stage] = side
            pool_stage = "pool" + stage[-1]
            if side < POOL_SIZE:
                raise ConfigError(
                    f"{stage}_kernel",
                    f"leaves a {side}x{side} map, too small for the 2x2 pooling after it; "
                    "use a smaller kernel or more padding",
                )
            side = side // POOL_SIZE
            sizes[pool_stage] = side
        sizes["flatten"] = self.conv2_channels * side * side
        _check_cost(self, sizes)
        return sizes

    def cost(self) -> dict[str, int]:
        """``{"parameters", "activations"}``: the weights this config builds and the largest layer
        output for one image, counted from the config (nothing is allocated)."""
        return _cost(self, self.feature_sizes())

    # --- conversions --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain types only (lists, not tuples), safe for JSON and ``torch.load(weights_only=True)``."""
        out = dataclasses.asdict(self)
        out["fc_widths"] = list(self.fc_widths)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LeNetConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(unknown[0], f"is not a LeNetConfig setting (known: {', '.join(sorted(known))})")
        return cls(**values)

    def differences(self, other: LeNetConfig | None = None) -> dict[str, tuple[Any, Any]]:
        """``{field: (other's value, this value)}`` for every setting that differs from ``other``
        (the reference by default)."""
        other = other or LeNetConfig()
        return {
            f.name: (getattr(other, f.name), getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        }

    def describe_changes(self, other: LeNetConfig | None = None) -> str:
        """One line, e.g. ``"pool=max, activation=tanh"``; ``"reference"`` when nothing differs."""
        diffs = self.differences(other)
        if not diffs:
            return "reference"
        return ", ".join(f"{name}={_fmt(new)}" for name, (_, new) in diffs.items())


# --- helpers --------------------------------------------------------------------------------
def is_int(value: Any) -> bool:
    """An int and not a bool (``True`` is an int to Python, never a width or a version here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(cfg: LeNetConfig, name: str, low: int, high: int) -> None:
    value = getattr(cfg, name)
    if not is_int(value) or not low <= value <= high:
        raise ConfigError(name, f"must be an integer from {low} to {high}, got {value!r}")


def _check_choice(cfg: LeNetConfig, name: str, choices: dict) -> None:
    value = getattr(cfg, name)
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _total_padding(cfg: LeNetConfig, stage: str) -> int:
    """Pixels added across the map (both sides). ``"same"`` adds k - 1 so the side is kept
    (PyTorch puts the odd pixel of an even kernel on the far side); ``"valid"`` adds none."""
    name = f"{stage}_padding"
    pad = getattr(cfg, name)
    kernel = getattr(cfg, f"{stage}_kernel")
    if pad == "same":
        return kernel - 1
    if pad == "valid":
        return 0
    if not is_int(pad) or pad < 0:
        raise ConfigError(name, f"must be 'same', 'valid' or a whole number of pixels >= 0, got {pad!r}")
    if pad >= kernel:
        raise ConfigError(name, f"{pad} pixels of padding on a {kernel}x{kernel} kernel adds borders that only see "
                                f"zeros; use at most {kernel - 1}")
    return 2 * pad


def _cost(cfg: LeNetConfig, sizes: dict[str, int]) -> dict[str, int]:
    c1, c2 = cfg.conv1_channels, cfg.conv2_channels
    params = cfg.in_channels * c1 * cfg.conv1_kernel ** 2 + c1 + c1 * c2 * cfg.conv2_kernel ** 2 + c2
    if cfg.batchnorm:
        params += 2 * (c1 + c2)                         # a scale and a shift per channel
    width = sizes["flatten"]
    for hidden in (*cfg.fc_widths, cfg.num_classes):   # Linear(width, hidden): weights + biases
        params += width * hidden + hidden
        width = hidden
    acts = max(cfg.in_channels * cfg.image_size ** 2, c1 * sizes["conv1"] ** 2, c2 * sizes["conv2"] ** 2,
               sizes["flatten"], *cfg.fc_widths, cfg.num_classes)
    return {"parameters": params, "activations": acts}


def _check_cost(cfg: LeNetConfig, sizes: dict[str, int]) -> None:
    cost = _cost(cfg, sizes)
    if cost["parameters"] > MAX_PARAMETERS:
        raise ConfigError("config", f"{cost['parameters']:,} parameters is more than the {MAX_PARAMETERS:,} "
                                    "limit (80 MB); use fewer channels, narrower layers or a smaller image_size")
    if cost["activations"] > MAX_ACTIVATIONS:
        raise ConfigError("config", f"a layer output of {cost['activations']:,} values per image is more than "
                                    f"the {MAX_ACTIVATIONS:,} limit; use fewer channels or a smaller image_size")


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)
