"""LeNet-5 exactly as LeCun, Bottou, Bengio and Haffner built it in 1998 (Proc. IEEE 86(11), section II-B).

Seven layers, each an attribute named as in the paper's Fig. 2, in the order the input meets them:

    input 32x32 -> C1 6@28x28 -> S2 6@14x14 -> C3 16@10x10 -> S4 16@5x5 -> C5 120 -> F6 84 -> output 10 RBF

What differs from the course's modern :class:`~lenet_utils.LeNet5` (notebook 04b tells why each changed):

* every unit up to F6 is squashed by the scaled tanh ``f(a) = 1.7159 tanh(2a/3)`` (not ReLU);
* S2 and S4 *learn* their subsampling: the sum of a 2x2 window times a trainable coefficient, plus a
  trainable bias, then squashed (not a fixed average or max);
* C3 sees only some of S2's maps, those of the paper's Table I (60 of the 96 map pairs);
* the output is ten Euclidean RBF units whose centres are fixed 7x12 bitmaps of the digits (Fig. 3):
  unit i outputs the squared distance between F6's 84 states and digit i's bitmap. The answer is the
  digit with the *smallest* output (a penalty), not the largest score;
* the loss is the MAP criterion of equation (9), and the weights start uniform in +-2.4/Fi.

Interpretations (the paper is silent or ambiguous; each choice is written down in notebook 04b):

* Fan-in Fi counts a unit's input connections without its bias: 25 for C1, 4 for S2, 75/100/150 for
  C3's maps (three, four or six S2 maps of 25 pixels), 4 for S4, 400 for C5, 120 for F6. Biases and the
  subsampling coefficients are drawn from the same range as the weights of their unit.
* The constant j of equation (9) is not given a value in the paper; ``J_DEFAULT = 0.1``.
* Fig. 3's bitmaps (``RBF_BITMAPS``): the figure prints them as pictures, not numbers. The grids
  below follow the transcription two public reproductions share; they were not checked pixel by
  pixel against the figure here. Pixels are +1 (ink) or -1 (paper).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["A", "C3_TABLE", "INIT_DEFAULT", "INIT_RULES", "J_DEFAULT", "RBF_BITMAPS", "S", "C3", "LeNet5Paper",
           "MAPLoss", "RBFOutput", "ScaledTanh", "Subsampling", "connection_counts", "layer_table", "map_loss",
           "rbf_codes", "units_connections"]

A, S = 1.7159, 2.0 / 3.0      # f(a) = A tanh(S a): f(1) = 1, f(-1) = -1, the gain is largest at 0 (Appendix A)
INIT_RULES = ("sqrt", "printed")
# Appendix A prints "uniform between -2.4/Fi and 2.4/Fi". Read literally, every layer shrinks its
# input (C5's weights are +-0.006): the network starts almost linear and almost silent, SDLM's
# curvature estimates below F6 come out ~1e-5, so nearly every parameter's rate sits at its cap
# eta/mu = 0.025, and training diverges within a few dozen images (measured: tests/test_paper1998.py).
# With 2.4/sqrt(Fi), the reading Karpathy's reproduction of the 1989 network also took, each layer
# keeps its input's scale and the same recipe converges. Notebook 04b shows both.
INIT_DEFAULT = "sqrt"
J_DEFAULT = 0.1               # eq. (9)'s j: the penalty of a "rubbish" class; the paper gives no value

# Table I: which of S2's six maps (rows) each of C3's sixteen maps (columns) combines.
# Maps 0-5 take three neighbouring S2 maps, 6-11 four neighbouring ones, 12-14 four non-neighbouring
# ones, and map 15 all six: 6x3 + 6x4 + 3x4 + 6 = 60 connections (a full layer would have 96).
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# Fig. 3: the ten output units' parameter vectors, the digits drawn on a 7x12 grid ("#" = +1, "." = -1),
# read row by row into the 84 targets for F6. Stylised on purpose: confusable characters (a "1" and an
# "l", an "O" and a "0") get similar codes, so the RBF penalties say how alike two classes look.
RBF_BITMAPS: dict[int, tuple[str, ...]] = {
    0: (".#####.",
        ".......",
        "..###..",
        ".##.##.",
        "##...##",
        "##...##",
        "##...##",
        "##...##",
        ".##.##.",
        "..###..",
        ".......",
        "......."),
    1: ("...##..",
        "..###..",
        ".####..",
        "...##..",
        "...##..",
        "...##..",
        "...##..",
        "...##..",
        "...##..",
        ".######",
        ".......",
        "......."),
    2: (".#####.",
        ".......",
        ".#####.",
        "##...##",
        "#....##",
        "....##.",
        "..###..",
        ".##....",
        "##.....",
        "#######",
        ".......",
        "......."),
    3: ("#######",
        ".....##",
        "....##.",
        "...##..",
        "..####.",
        ".....##",
        ".....##",
        ".....##",
        "##...##",
        ".#####.",
        ".......",
        "......."),
    4: (".#####.",
        ".......",
        ".......",
        ".##..##",
        ".##..##",
        "###..##",
        "##...##",
        "##...##",
        "##..###",
        ".######",
        ".....##",
        ".....##"),
    5: (".#####.",
        ".......",
        "#######",
        "##.....",
        "##.....",
        ".####..",
        "..####.",
        ".....##",
        "##...##",
        ".#####.",
        ".......",
        "......."),
    6: ("..####.",
        ".##....",
        "##.....",
        "##.....",
        "######.",
        "###..##",
        "##...##",
        "##...##",
        "###..##",
        ".#####.",
        ".......",
        "......."),
    7: ("#######",
        ".....##",
        ".....##",
        "....##.",
        "...##..",
        "...##..",
        "..##...",
        "..##...",
        "..##...",
        "..##...",
        ".......",
        "......."),
    8: (".#####.",
        "##...##",
        "##...##",
        "##...##",
        ".#####.",
        "##...##",
        "##...##",
        "##...##",
        "##...##",
        ".#####.",
        ".......",
        "......."),
    9: (".#####.",
        "##..###",
        "##...##",
        "##...##",
        "##..###",
        ".######",
        ".....##",
        ".....##",
        "....##.",
        ".####..",
        ".......",
        "......."),
}


def rbf_codes() -> torch.Tensor:
    """The bitmaps of Fig. 3 as a ``(10, 84)`` tensor of +1 (ink) and -1 (paper), row by row."""
    rows = []
    for digit in range(10):
        grid = RBF_BITMAPS[digit]
        assert len(grid) == 12 and all(len(row) == 7 and set(row) <= {"#", "."} for row in grid), digit
        rows.append([1.0 if ch == "#" else -1.0 for row in grid for ch in row])
    return torch.tensor(rows)                                                  # (10, 84)


class ScaledTanh(nn.Module):
    """The paper's squashing function ``f(a) = A tanh(S a)``, A = 1.7159, S = 2/3 (Appendix A)."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return A * torch.tanh(S * a)


class Subsampling(nn.Module):
    """S2 and S4: each unit adds its 2x2 window (no overlap), multiplies by its map's trainable
    coefficient and adds its map's trainable bias: two parameters per map. The squashing follows."""

    def __init__(self, maps: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(maps))   # one coefficient per map
        self.bias = nn.Parameter(torch.empty(maps))     # one bias per map

    def window_sums(self, x: torch.Tensor) -> torch.Tensor:   # (B, C, H, W) -> (B, C, H/2, W/2)
        return F.avg_pool2d(x, 2) * 4.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.window_sums(x) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class C3(nn.Module):
    """C3: sixteen 5x5 convolutions, each over the S2 maps Table I lists for it.

    Only the 60 listed kernels are parameters (``weight``: 60 kernels of 5x5, 1,500 numbers, plus 16
    biases). The forward pass places them into a full (16, 6, 5, 5) kernel whose unlisted slots stay
    zero, then runs one ordinary convolution."""

    def __init__(self, table: tuple[tuple[int, ...], ...] = C3_TABLE) -> None:
        super().__init__()
        out_idx = [o for o, ins in enumerate(table) for _ in ins]
        in_idx = [i for ins in table for i in ins]
        self.register_buffer("out_index", torch.tensor(out_idx), persistent=False)   # (60,)
        self.register_buffer("in_index", torch.tensor(in_idx), persistent=False)     # (60,)
        self.table = table
        self.weight = nn.Parameter(torch.empty(len(in_idx), 5, 5))   # (60, 5, 5): one kernel per connection
        self.bias = nn.Parameter(torch.empty(len(table)))            # (16,)

    def full_kernel(self) -> torch.Tensor:                           # (16, 6, 5, 5), zeros off the table
        kernel = self.weight.new_zeros(len(self.table), 6, 5, 5)
        return kernel.index_put((self.out_index, self.in_index), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:             # (B, 6, 14, 14) -> (B, 16, 10, 10)
        return F.conv2d(x, self.full_kernel(), self.bias)


class RBFOutput(nn.Module):
    """Ten Euclidean RBF units: ``y_i = sum_j (x_j - w_ij)^2`` with the fixed codes of Fig. 3.

    The codes are a buffer, not parameters: the paper chose them by hand and kept them fixed."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("codes", rbf_codes())                  # (10, 84) of +1/-1

    def forward(self, x: torch.Tensor) -> torch.Tensor:             # (B, 84) -> (B, 10) penalties
        return ((x.unsqueeze(1) - self.codes.unsqueeze(0)) ** 2).sum(-1)


class LeNet5Paper(nn.Module):
    """LeNet-5 of 1998: 60,000 trainable parameters, 340,908 connections (Table/section II-B).

    ``forward`` takes ``(B, 1, 32, 32)`` images scaled as the paper does (background -0.1, ink 1.175:
    :func:`lenet_utils.paper1998.data.to_paper_pixels`) and returns ``(B, 10)`` RBF *penalties*: the
    smallest is the answer. :meth:`scores` turns them into scores for ``argmax`` and ``softmax``."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)          # C1: six 5x5 kernels over the 32x32 input
        self.c1_act = ScaledTanh()
        self.s2 = Subsampling(6)              # S2: 2x2 sums, a coefficient and a bias per map
        self.s2_act = ScaledTanh()
        self.c3 = C3()                        # C3: Table I's 60 kernels
        self.c3_act = ScaledTanh()
        self.s4 = Subsampling(16)             # S4
        self.s4_act = ScaledTanh()
        self.c5 = nn.Conv2d(16, 120, 5)       # C5: a 5x5 convolution over all of S4 = full connection
        self.c5_act = ScaledTanh()
        self.flatten = nn.Flatten()
        self.f6 = nn.Linear(120, 84)          # F6: 84 units, one per pixel of a 7x12 bitmap
        self.f6_act = ScaledTanh()
        self.output = RBFOutput()             # ten RBF units, fixed
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None, rule: str = INIT_DEFAULT) -> None:
        """Every weight and bias uniform in +-2.4/Fi (``rule="printed"``, the formula as the paper
        prints it) or +-2.4/sqrt(Fi) (``rule="sqrt"``, the default), Fi the unit's fan-in.
        Why the default departs from the printed formula: :data:`INIT_DEFAULT`."""
        if rule not in INIT_RULES:
            raise ValueError(f"rule must be one of {', '.join(INIT_RULES)}, got {rule!r}")

        def bound(fi: int) -> float:
            return 2.4 / fi if rule == "printed" else 2.4 / math.sqrt(fi)

        fan_in = {self.c1: 25, self.s2: 4, self.s4: 4, self.c5: 400, self.f6: 120}
        with torch.no_grad():
            for layer, fi in fan_in.items():
                for p in (layer.weight, layer.bias):
                    p.uniform_(-bound(fi), bound(fi), generator=generator)
            # C3: a map's fan-in is 25 times the number of S2 maps it reads (75, 100 or 150)
            for k, out in enumerate(self.c3.out_index.tolist()):
                fi = 25 * len(self.c3.table[out])
                self.c3.weight[k].uniform_(-bound(fi), bound(fi), generator=generator)
            for out, ins in enumerate(self.c3.table):
                fi = 25 * len(ins)
                self.c3.bias[out].uniform_(-bound(fi), bound(fi), generator=generator)

    def features(self, x: torch.Tensor) -> torch.Tensor:     # (B, 1, 32, 32) -> (B, 84) F6 states
        x = self.c1_act(self.c1(x))                          # (B, 6, 28, 28)
        x = self.s2_act(self.s2(x))                          # (B, 6, 14, 14)
        x = self.c3_act(self.c3(x))                          # (B, 16, 10, 10)
        x = self.s4_act(self.s4(x))                          # (B, 16, 5, 5)
        x = self.c5_act(self.c5(x))                          # (B, 120, 1, 1)
        x = self.flatten(x)                                  # (B, 120)
        return self.f6_act(self.f6(x))                       # (B, 84)

    def forward(self, x: torch.Tensor) -> torch.Tensor:      # (B, 1, 32, 32) -> (B, 10) penalties
        return self.output(self.features(x))

    @staticmethod
    def scores(penalties: torch.Tensor) -> torch.Tensor:
        """Penalties -> scores: ``-penalty``, so ``argmax`` is the answer and ``softmax`` gives
        ``exp(-y_i) / sum_k exp(-y_k)``, the probabilities the MAP loss of eq. (9) trains."""
        return -penalties

    def predict(self, x: torch.Tensor) -> torch.Tensor:      # (B,) the digit with the smallest penalty
        return self(x).argmin(1)


def map_loss(penalties: torch.Tensor, targets: torch.Tensor, j: float = J_DEFAULT,
             reduction: str = "mean") -> torch.Tensor:
    """Equation (9): ``E = y_D + log(exp(-j) + sum_i exp(-y_i))``, averaged over the batch.

    The first term pulls the correct class's penalty ``y_D`` down; the second pushes every penalty up
    (and none of them above the "rubbish" level j), so the network cannot win by collapsing all the
    RBF centres' distances together."""
    rubbish = torch.full_like(penalties[:, :1], -j)                          # (B, 1): log exp(-j)
    competition = torch.logsumexp(torch.cat([rubbish, -penalties], 1), 1)    # (B,)
    per_sample = penalties.gather(1, targets.view(-1, 1)).squeeze(1) + competition
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


class MAPLoss(nn.Module):
    """:func:`map_loss` as a module, with its constant j."""

    def __init__(self, j: float = J_DEFAULT, reduction: str = "mean") -> None:
        super().__init__()
        self.j, self.reduction = j, reduction

    def forward(self, penalties: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return map_loss(penalties, targets, self.j, self.reduction)


def layer_table(model: LeNet5Paper | None = None) -> list[dict[str, object]]:
    """Per layer: its name, output shape, trainable parameters and connections, computed from the
    module (a forward pass of one image gives the shapes). Connections count every multiply-add
    and every bias: a unit with n inputs and a bias has n + 1 connections, times the units of the
    map; an RBF unit has 84 (one per F6 state, no bias)."""
    model = model if model is not None else LeNet5Paper()
    x = torch.zeros(1, 1, 32, 32)
    rows = []
    with torch.no_grad():
        for name, layer, act in (("C1", model.c1, model.c1_act), ("S2", model.s2, model.s2_act),
                                 ("C3", model.c3, model.c3_act), ("S4", model.s4, model.s4_act),
                                 ("C5", model.c5, model.c5_act), ("F6", model.f6, model.f6_act),
                                 ("output", model.output, None)):
            if name == "F6":
                x = x.flatten(1)
            x = layer(x)
            if act is not None:
                x = act(x)
            params = sum(p.numel() for p in layer.parameters() if p.requires_grad)
            rows.append({"layer": name, "shape": tuple(x.shape[1:]), "parameters": params,
                         "connections": units_connections(name, layer, x.shape)})
    return rows


def units_connections(name: str, layer: nn.Module, shape: torch.Size) -> int:
    """Connections of one layer whose output has ``shape`` ``(1, C, H, W)`` or ``(1, N)``."""
    if isinstance(layer, nn.Conv2d):                       # every unit: in_channels x 5 x 5 inputs + bias
        per_unit = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1] + 1
        return per_unit * math.prod(shape[1:])
    if isinstance(layer, C3):                              # each map: (its S2 maps) x 25 inputs + bias
        h, w = shape[2], shape[3]
        return sum((25 * len(ins) + 1) * h * w for ins in layer.table)
    if isinstance(layer, Subsampling):                     # 4 inputs + bias per unit
        return 5 * math.prod(shape[1:])
    if isinstance(layer, nn.Linear):
        return (layer.in_features + 1) * layer.out_features
    if isinstance(layer, RBFOutput):
        return layer.codes.numel()                         # 10 units x 84 inputs
    raise TypeError(f"{name}: no connection rule for {type(layer).__name__}")


def connection_counts(model: LeNet5Paper | None = None) -> dict[str, int]:
    """``{"C1": 122304, ..., "total": 340908}``: connections per layer and in all."""
    rows = layer_table(model)
    counts = {r["layer"]: int(r["connections"]) for r in rows}
    counts["total"] = sum(counts.values())
    return counts
