"""The 1998 LeNet-5 (lenet_utils.paper1998): the paper's counts, Table I, Fig. 3's codes, eq. (9), SDLM."""

from __future__ import annotations

import math

import pytest
import torch

from lenet_utils.paper1998 import (
    C3_TABLE,
    RBF_BITMAPS,
    SDLM,
    Distortion,
    LeNet5Paper,
    PaperOnCourseInput,
    PaperTrainConfig,
    connection_counts,
    diagonal_hessian,
    eta_for_pass,
    layer_table,
    map_loss,
    rbf_codes,
    to_paper_pixels,
)
from lenet_utils.paper1998.model import A, S
from lenet_utils.paper1998.sdlm import preconditioned_sharpness


@pytest.fixture(autouse=True)
def one_thread():
    """One thread: on a shared machine two threads of these small ops can run many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# The paper's numbers (section II-B), typed in from the text, not computed.
PAPER = {  # layer: (output shape, trainable parameters, connections)
    "C1": ((6, 28, 28), 156, 122_304),
    "S2": ((6, 14, 14), 12, 5_880),
    "C3": ((16, 10, 10), 1_516, 151_600),
    "S4": ((16, 5, 5), 32, 2_000),
    "C5": ((120, 1, 1), 48_120, 48_120),
    "F6": ((84,), 10_164, 10_164),
}

# Table I as printed: row = S2 map, column = C3 map, X = connected.
TABLE_I = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""


def test_each_layer_has_the_papers_shape_parameters_and_connections():
    rows = {r["layer"]: r for r in layer_table(LeNet5Paper())}
    for name, (shape, params, connections) in PAPER.items():
        assert rows[name]["shape"] == shape, name
        assert rows[name]["parameters"] == params, name
        assert rows[name]["connections"] == connections, name
    assert rows["output"]["shape"] == (10,) and rows["output"]["parameters"] == 0   # the RBF codes are fixed


def test_the_network_has_60000_parameters_and_340908_connections():
    model = LeNet5Paper()
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 60_000
    assert connection_counts(model)["total"] == 340_908


def test_c3_follows_table_one():
    rows = [line for line in TABLE_I.split() if line]
    printed = {(s2, c3) for s2, line in enumerate(rows) for c3, ch in enumerate(line) if ch == "X"}
    ours = {(s2, c3) for c3, ins in enumerate(C3_TABLE) for s2 in ins}
    assert ours == printed and len(ours) == 60
    # and the layer really ignores the maps it is not connected to
    c3 = LeNet5Paper().c3
    kernel = c3.full_kernel()
    for c in range(16):
        for s in range(6):
            assert bool(kernel[c, s].abs().sum() > 0) == ((s, c) in printed)
    x = torch.randn(1, 6, 14, 14)
    changed = x.clone()
    changed[:, 5] += 1.0                       # S2 map 5 feeds C3 maps 3, 4, 5, 8, 9, 10, 11, 13, 14, 15 only
    diff = (c3(changed) - c3(x)).abs().sum((0, 2, 3))
    assert [c for c in range(16) if diff[c] > 0] == [c for c in range(16) if (5, c) in printed]


def test_the_rbf_codes_are_fixed_7x12_bitmaps_of_plus_and_minus_one():
    codes = rbf_codes()
    assert codes.shape == (10, 84) and set(codes.unique().tolist()) == {-1.0, 1.0}
    assert all(len(RBF_BITMAPS[d]) == 12 and {len(r) for r in RBF_BITMAPS[d]} == {7} for d in range(10))
    assert codes[1].view(12, 7)[3].tolist() == [-1, -1, -1, 1, 1, -1, -1]      # the stem of the 1
    distances = torch.cdist(codes, codes)
    assert (distances + torch.eye(10) * 100).min() > 0                          # ten different codes
    model = LeNet5Paper()
    assert "output.codes" in model.state_dict() and not any(p is model.output.codes for p in model.parameters())
    # an F6 state equal to digit 7's bitmap is at distance 0 from unit 7: the answer is 7
    assert model.output(codes[7:8]).argmin().item() == 7 and model.output(codes[7:8])[0, 7] == 0


def test_the_map_loss_against_a_hand_computation():
    y = torch.tensor([[1.0, 3.0, 5.0] + [50.0] * 7])           # penalties of one image, class 0 correct
    j = 0.1
    hand = 1.0 + math.log(math.exp(-0.1) + math.exp(-1) + math.exp(-3) + math.exp(-5) + 7 * math.exp(-50))
    assert map_loss(y, torch.tensor([0]), j).item() == pytest.approx(hand, rel=1e-6)
    # the wrong class correct: its penalty 3 instead of 1
    assert map_loss(y, torch.tensor([1]), j).item() == pytest.approx(hand + 2.0, rel=1e-6)
    # mean over a batch
    both = map_loss(torch.cat([y, y]), torch.tensor([0, 1]), j).item()
    assert both == pytest.approx(hand + 1.0, rel=1e-6)


def test_the_squashing_function_and_the_initialisation():
    model = LeNet5Paper()
    assert model.c1_act(torch.tensor([1.0, -1.0])).tolist() == pytest.approx([A * math.tanh(S), -A * math.tanh(S)])
    assert A * math.tanh(S) == pytest.approx(1.0, abs=1e-4)     # f(1) = 1: the targets +-1 sit in the bend
    g = torch.Generator().manual_seed(0)
    model.reset_parameters(g, rule="printed")
    assert model.c5.weight.abs().max() <= 2.4 / 400 and model.c5.weight.abs().max() > 0.9 * 2.4 / 400
    assert model.c3.weight[:18].abs().max() <= 2.4 / 75 and model.c3.weight[-6:].abs().max() <= 2.4 / 150
    model.reset_parameters(g, rule="sqrt")
    assert 0.9 * 2.4 / 20 < model.c5.weight.abs().max() <= 2.4 / 20
    with pytest.raises(ValueError, match="rule"):
        model.reset_parameters(g, rule="kaiming")


def test_paper_pixels_are_32x32_from_minus_0_1_to_1_175():
    pixels = torch.zeros(2, 28, 28, dtype=torch.uint8)
    pixels[0, 10, 10] = 255
    x = to_paper_pixels(pixels)
    assert x.shape == (2, 1, 32, 32)
    assert x[0, 0, 12, 12].item() == pytest.approx(1.175) and x.min().item() == pytest.approx(-0.1)
    assert bool((x[:, :, :2] + 0.1).abs().max() < 1e-6)          # the 2-pixel frame is background
    with pytest.raises(ValueError, match="uint8"):
        to_paper_pixels(torch.zeros(2, 28, 28))


def test_distortions_keep_the_background_and_do_nothing_at_zero_range():
    x = to_paper_pixels(torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8))
    none = Distortion(0.0, 0.0, 0.0, 0.0)(x, torch.Generator().manual_seed(0))
    assert torch.allclose(none, x, atol=1e-5)
    g = torch.Generator().manual_seed(0)
    d = Distortion()(x, g)
    assert d.shape == x.shape and not torch.allclose(d, x)
    blank = torch.full((3, 1, 32, 32), -0.1)
    assert torch.allclose(Distortion()(blank, g), blank, atol=1e-6)     # uncovered corners stay paper


def test_the_eta_schedule_of_section_iii_c():
    assert [eta_for_pass(p) for p in range(20)] == (
        [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8)
    with pytest.raises(ValueError):
        eta_for_pass(-1)


def test_sdlm_rates_and_step_on_a_hand_worked_case():
    w = torch.nn.Parameter(torch.tensor([1.0, 1.0, 1.0]))
    opt = SDLM([w], eta=5e-4, mu=0.02)
    with pytest.raises(RuntimeError, match="curvature"):
        opt.learning_rates()
    opt.set_curvature({w: torch.tensor([0.0, 0.03, 0.48])})
    # eps = eta / (mu + h): 0.0005 / 0.02, 0.0005 / 0.05, 0.0005 / 0.5
    assert opt.learning_rates()[w].tolist() == pytest.approx([0.025, 0.01, 0.001])
    w.grad = torch.tensor([2.0, 2.0, 2.0])
    opt.step()
    assert w.detach().tolist() == pytest.approx([1 - 0.05, 1 - 0.02, 1 - 0.002])
    opt.set_eta(1e-5)
    assert opt.learning_rates()[w].tolist() == pytest.approx([5e-4, 2e-4, 2e-5])
    # the step follows a new eta and a new curvature (the rates are cached between them)
    w.data.fill_(1.0)
    opt.step()
    assert w.detach().tolist() == pytest.approx([1 - 1e-3, 1 - 4e-4, 1 - 4e-5])
    opt.set_curvature({w: torch.tensor([0.48, 0.0, 0.03])})
    w.data.fill_(1.0)
    opt.step()
    assert w.detach().tolist() == pytest.approx([1 - 4e-5, 1 - 1e-3, 1 - 4e-4])
    with pytest.raises(ValueError, match="non-negative"):
        opt.set_curvature({w: torch.tensor([-1.0, 0.0, 0.0])})


def test_sdlm_takes_the_newton_step_on_a_quadratic():
    """E = (h/2) w^2 with h = 4: the rate with eta = 1, mu -> 0 is 1/h, one step lands on the minimum."""
    w = torch.nn.Parameter(torch.tensor([3.0]))
    opt = SDLM([w], eta=1.0, mu=1e-9)
    opt.set_curvature({w: torch.tensor([4.0])})
    (2.0 * w ** 2).sum().backward()
    opt.step()
    assert w.item() == pytest.approx(0.0, abs=1e-6)


def test_the_curvature_of_f6_by_hand_and_every_estimate_non_negative():
    """For F6, each weight feeds one unit: d2E/dw_ij^2 = 2 f'(a_i)^2 x_j^2 (Gauss-Newton of y_D),
    averaged over the images. Computed here from the layer's inputs, by hand."""
    torch.manual_seed(0)
    model = LeNet5Paper()
    x = torch.randn(5, 1, 32, 32)
    h = diagonal_hessian(model, x)
    with torch.no_grad():
        f6_in = model.c5_act(model.c5(model.s4_act(model.s4(model.c3_act(model.c3(
            model.s2_act(model.s2(model.c1_act(model.c1(x)))))))))).flatten(1)       # (5, 120)
        a = model.f6(f6_in)                                                          # (5, 84)
        fprime = A * S * (1 - torch.tanh(S * a) ** 2)
        hand = torch.einsum("ni,nj->ij", 2 * fprime ** 2, f6_in ** 2) / 5
    assert torch.allclose(h[model.f6.weight], hand, rtol=1e-5)
    assert torch.allclose(h[model.f6.bias], (2 * fprime ** 2).mean(0), rtol=1e-5)
    assert set(h) == set(model.parameters())
    assert all(v.shape == p.shape and bool((v >= 0).all()) for p, v in h.items())


def test_the_curvature_of_c1_against_a_brute_force_sum():
    """C1's estimate: sum over the 28x28 positions of d2E/da^2 times the input pixel squared, with
    d2E/da^2 passed down through S2 (coefficient^2), C3 (weight^2) ... Checked for one weight against
    autograd on the 'squared network' (inputs and weights squared, which carries exactly these sums)."""
    torch.manual_seed(1)
    model = LeNet5Paper()
    x = torch.randn(2, 1, 32, 32)
    h = diagonal_hessian(model, x)
    # brute force for C1's bias: sum over positions of d2E/da1^2, d2E/da1^2 built with explicit loops
    with torch.no_grad():
        a1 = model.c1(x)
        x1 = model.c1_act(a1)
        a2 = model.s2(x1)
        x2 = model.s2_act(a2)
        a3 = model.c3(x2)
        x3 = model.c3_act(a3)
        a4 = model.s4(x3)
        x4 = model.s4_act(a4)
        a5 = model.c5(x4).flatten(1)
        x5 = model.c5_act(a5)
        a6 = model.f6(x5)

        def fp2(a):
            return (A * S * (1 - torch.tanh(S * a) ** 2)) ** 2

        d2a6 = 2 * fp2(a6)
        d2a5 = fp2(a5) * (d2a6 @ model.f6.weight ** 2)                          # (2, 120)
        w5 = model.c5.weight ** 2                                                # (120, 16, 5, 5)
        d2x4 = torch.einsum("nk,kcij->ncij", d2a5, w5)
        d2a4 = fp2(a4) * d2x4
        d2x3 = d2a4.repeat_interleave(2, 2).repeat_interleave(2, 3) * model.s4.weight.view(1, -1, 1, 1) ** 2
        d2a3 = fp2(a3) * d2x3                                                    # (2, 16, 10, 10)
        k2 = model.c3.full_kernel() ** 2                                         # (16, 6, 5, 5)
        d2x2 = torch.zeros_like(x2)
        for i in range(10):
            for j in range(10):
                d2x2[:, :, i:i + 5, j:j + 5] += torch.einsum("nc,cdij->ndij", d2a3[:, :, i, j], k2)
        d2a2 = fp2(a2) * d2x2
        d2x1 = d2a2.repeat_interleave(2, 2).repeat_interleave(2, 3) * model.s2.weight.view(1, -1, 1, 1) ** 2
        d2a1 = fp2(a1) * d2x1
    assert torch.allclose(h[model.c1.bias], d2a1.sum((2, 3)).mean(0), rtol=1e-4)
    weight_00 = (d2a1 * x[:, :, 0:28, 0:28] ** 2).sum((2, 3)).mean(0)          # kernel position (0, 0)
    assert torch.allclose(h[model.c1.weight][:, 0, 0, 0], weight_00, rtol=1e-4)


def _toy_digits(g: torch.Generator, n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` synthetic 'digits': each class a bar at its own height, in paper pixels."""
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.full((n, 1, 32, 32), -0.1)
    for k in range(n):
        x[k, 0, 4 + 2 * y[k]:6 + 2 * y[k], 6:26] = 1.175
    return x, y


def _short_run(rule: str, batch: int, images: int = 1024) -> tuple[float, float]:
    """The MAP loss on 256 toy digits before and after SDLM at eta = 0.0005 has seen ``images`` of
    them, ``batch`` at a time (the summed loss of the batch, as train_paper steps)."""
    g = torch.Generator().manual_seed(0)
    model = LeNet5Paper()
    model.reset_parameters(g, rule=rule)
    x, y = _toy_digits(g)
    opt = SDLM(model.parameters(), eta=5e-4)
    opt.set_curvature(diagonal_hessian(model, x))
    with torch.no_grad():
        before = map_loss(model(x), y).item()
    for s in range(images // batch):
        idx = torch.arange(s * batch, (s + 1) * batch) % 256
        opt.zero_grad()
        map_loss(model(x[idx]), y[idx], reduction="sum").backward()
        opt.step()
    with torch.no_grad():
        return before, map_loss(model(x), y).item()


def test_the_printed_initialisation_diverges_under_sdlm_even_one_image_at_a_time():
    before, after = _short_run("printed", batch=1, images=256)
    assert after > 2 * before                  # the paper's recipe read literally: the loss grows


def test_one_image_at_a_time_learns_and_a_summed_batch_of_64_does_not():
    assert PaperTrainConfig().batch_size == 1   # the paper's way, the default
    before, after = _short_run("sqrt", batch=1)
    assert after < 0.3 * before
    before, after = _short_run("sqrt", batch=64)
    assert after > 0.8 * before                # why (sdlm.py): the next test


def test_summed_batches_overshoot_where_single_images_do_not():
    """The preconditioned sharpness lambda at the paper's start: a step on the summed loss of B
    images overshoots along the stiffest direction once B * lambda > 2 (sdlm.py)."""
    g = torch.Generator().manual_seed(0)
    model = LeNet5Paper()
    model.reset_parameters(g)
    x, _ = _toy_digits(g, 64)
    opt = SDLM(model.parameters(), eta=5e-4)
    opt.set_curvature(diagonal_hessian(model, x))
    mean = preconditioned_sharpness(model, opt, x, iterations=15)
    single = max(preconditioned_sharpness(model, opt, x[i:i + 1], iterations=15) for i in range(3))
    assert single < 2 <= 64 * mean             # one image at a time: no overshoot; 64 summed: overshoot
    # every diagonal entry eta * h / (mu + h) is below eta: the stiffness is the coupling h misses
    assert mean > 100 * 5e-4


def test_preconditioned_sharpness_is_the_largest_eigenvalue():
    """Against the explicit matrix for two images: E^1/2 G E^1/2 has the nonzero eigenvalues of
    K = (2/N) J E J^T, J the (2 x 84, 60000) Jacobian of F6's states."""
    torch.manual_seed(2)
    model = LeNet5Paper()
    x = torch.randn(2, 1, 32, 32) * 0.5
    opt = SDLM(model.parameters(), eta=5e-4)
    opt.set_curvature(diagonal_hessian(model, x))
    params = dict(model.named_parameters())
    rates = opt.learning_rates()

    def states(ps):                                                                      # (2, 84) F6 states
        return torch.func.functional_call(_Features(model), {f"net.{k}": v for k, v in ps.items()}, (x,))

    jac = torch.func.jacrev(states)({k: p.detach() for k, p in params.items()})      # {name: (2, 84, *shape)}
    rows = torch.cat([jac[k].reshape(168, -1) * rates[p].reshape(1, -1).sqrt() for k, p in params.items()], 1)
    k_matrix = 2.0 / 2 * rows @ rows.T                                                   # (168, 168)
    exact = torch.linalg.eigvalsh(k_matrix.double()).max().item()
    assert preconditioned_sharpness(model, opt, x, iterations=200) == pytest.approx(exact, rel=1e-3)


class _Features(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.net = model

    def forward(self, x):
        return self.net.features(x)


@pytest.mark.mnist
def test_a_short_training_run_beats_chance(mnist_ready):
    from lenet_utils.paper1998 import train_paper

    run = train_paper(PaperTrainConfig(passes=1, train_limit=2000, test_limit=1000, train_eval_size=500))
    row = run.history[0]
    assert row["test_error"] < 0.5             # chance is 0.9
    assert 0 < row["rate_min"] <= row["rate_max"] <= 5e-4 / 0.02 + 1e-9



@pytest.mark.mnist
def test_the_paper_trains_on_all_60000_training_digits(mnist_ready):
    """The paper used MNIST's whole training file; the course's "train" split holds 5,000 out for validation."""
    from lenet_utils.paper1998 import paper_split

    images, labels = paper_split("train")
    assert tuple(images.shape) == (60_000, 1, 32, 32) and len(labels) == 60_000
    assert len(paper_split("train", 100)[1]) == 100 and len(paper_split("test")[1]) == 10_000

def test_the_course_adapter_gives_scores_whose_argmax_is_the_smallest_penalty():
    torch.manual_seed(0)
    paper = LeNet5Paper().eval()
    wrapped = PaperOnCourseInput(paper)
    pixels = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    from lenet_utils.data import normalize

    scores = wrapped(normalize(pixels))
    penalties = paper(to_paper_pixels(pixels))
    assert scores.shape == (3, 10)
    assert torch.allclose(scores, -penalties, atol=1e-4)


def test_bad_configs_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="optimizer"):
        PaperTrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="passes"):
        PaperTrainConfig(passes=0)
    with pytest.raises(ValueError, match="curvature must be one of 'each_pass', 'once'"):
        PaperTrainConfig(curvature="never")


@pytest.mark.parametrize("policy", ["once", "each_pass"])
def test_the_curvature_is_estimated_once_or_before_every_pass(policy):
    """``curvature="once"`` keeps the first estimate (pass 2's rates are pass 1's: eta is the same in both);
    ``"each_pass"`` estimates again on fresh images, from the weights pass 1 left."""
    from lenet_utils.paper1998 import train_paper

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 32, 32, generator=g) * 1.275 - 0.1, torch.randint(0, 10, (40,), generator=g)
    config = PaperTrainConfig(passes=2, curvature=policy, hessian_samples=20, train_eval_size=10)
    first, second = train_paper(config, data=(x, y, x[:10], y[:10])).history
    assert first["eta"] == second["eta"]
    same = (first["rate_min"], first["rate_max"]) == (second["rate_min"], second["rate_max"])
    assert same == (policy == "once")


def test_the_shipped_1998_checkpoint_carries_its_provenance():
    from lenet_utils.paper1998 import PAPER_CHECKPOINT, load_paper_checkpoint

    model, payload = load_paper_checkpoint(PAPER_CHECKPOINT)
    assert not model.training and sum(p.numel() for p in model.parameters()) == 60_000
    assert payload["recipe"]["optimizer"] == "sdlm" and len(payload["history"]) == payload["recipe"]["passes"]
    assert payload["metrics"]["test_error"] == payload["history"][-1]["test_error"]
    assert PAPER_CHECKPOINT.stat().st_size < 400_000


def test_a_foreign_file_is_refused_as_a_1998_checkpoint(tmp_path):
    from lenet_utils.checkpoints import CheckpointError
    from lenet_utils.paper1998 import load_paper_checkpoint

    other = tmp_path / "course.pt"
    torch.save({"format": "lenet-utils-checkpoint"}, other)
    with pytest.raises(CheckpointError, match="not a LeNet5Paper checkpoint"):
        load_paper_checkpoint(other)
    with pytest.raises(CheckpointError, match="no such file"):
        load_paper_checkpoint(tmp_path / "missing.pt")


def test_evaluate_model_paper_refuses_a_checkpoint_path(capsys):
    from lenet_utils.cli import main

    assert main(["evaluate", "--model", "paper", "--checkpoint", "mine.pt"]) != 0
    assert "leave out --checkpoint" in capsys.readouterr().err


@pytest.mark.mnist
def test_evaluate_model_paper_reports_the_shipped_1998_network(mnist_ready, capsys):
    from lenet_utils.cli import main
    from lenet_utils.paper1998 import PAPER_CHECKPOINT, load_paper_checkpoint

    assert main(["evaluate", "--model", "paper"]) == 0
    out = capsys.readouterr().out
    error = load_paper_checkpoint(PAPER_CHECKPOINT)[1]["metrics"]["test_error"]
    assert f"test accuracy: {1 - error:.2%}" in out and "lenet5_paper1998.pt" in out


def test_the_diagnosis_sdlm_quotes_is_the_result_files():
    """sdlm.py's docstring quotes `benchmarks/paper1998.py --diagnose`: every figure is the file's."""
    import json
    import re
    from pathlib import Path

    import lenet_utils.paper1998.sdlm as sdlm

    d = json.loads((Path(__file__).resolve().parents[1] / "benchmarks/results/paper1998.json").read_text())["diagnosis"]
    text = " ".join(sdlm.__doc__.split())
    found = re.search(r"lambda = ([\d.]+) for the mean loss of 500 training images, ([\d.]+) to ([\d.]+) for single",
                      text)
    singles = d["sharpness_single_images"]
    assert found.groups() == (f"{d['sharpness_mean_500']:.2f}", f"{min(singles):.2f}", f"{max(singles):.2f}")
    assert f"from B = {int(2 / d['sharpness_mean_500']) + 1} on" in text
    quoted = dict(re.findall(r"batch (\d+) ([\d.]+)%", text))
    assert quoted == {b: f"{100 * r['test_error'][-1]:.1f}" for b, r in d["batches"].items()}
    assert (d["train_images"], d["test_images"], d["passes"], d["seed"]) == (2000, 1000, 2, 0)


def test_the_error_plot_draws_a_line_per_run_of_the_batch_asked_and_the_papers_figures():
    """lessons.paper1998_views: a run's label names what differs between recipes; the plot of Fig. 5 keeps only
    SDLM runs of one batch size, a colour per recipe, the training error for runs without distortions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lenet_utils.lessons.paper1998_views import plot_error_per_pass, run_label

    def run(seed: int, batch: int = 1, distort: bool = False, curvature: str = "once", optimizer: str = "sdlm",
            eta_scale: float = 1.0):
        recipe = {"optimizer": optimizer, "batch_size": batch, "distort": distort, "curvature": curvature,
                  "seed": seed, "eta_scale": eta_scale}
        return {"recipe": recipe, "finished": True, "history": [
            {"pass": p, "test_error": 0.02 / p, "train_error": 0.015 / p} for p in (1, 2, 3)]}

    runs = [run(0), run(1), run(0, distort=True), run(0, curvature="each_pass"), run(0, batch=64),
            run(0, optimizer="adam")]
    assert run_label(runs[2]) == "sdlm, batch 1, distorted, curvature once, seed 0"
    assert run_label(runs[3]) == "sdlm, batch 1, curvature each pass, seed 0"
    assert run_label(run(2, eta_scale=2.0)) == "sdlm, batch 1, curvature once, eta x2, seed 2"
    # a row from before the options: the curvature re-estimated before every pass, eta as printed
    old = {"recipe": {"optimizer": "sdlm", "batch_size": 64, "distort": False, "seed": 1}}
    assert run_label(old) == "sdlm, batch 64, curvature each pass, seed 1"
    results = {"runs": runs, "paper": {"no_distortions": 0.0095, "distortions": 0.008, "train_error_pass_19": 0.0035}}
    ax = plot_error_per_pass(results)
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    assert len(curves) == 4 + 3            # four batch-1 SDLM runs; the training error of the three undistorted
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:3] == ["sdlm, batch 1, curvature once", "sdlm, batch 1, distorted, curvature once",
                          "sdlm, batch 1, curvature each pass"]
    assert "paper: test 0.95%" in labels and "paper, distortions: 0.80%" in labels
    plt.close(ax.figure)


def test_the_curvature_drift_sdlm_quotes_is_the_result_files():
    """sdlm.py's docstring quotes `benchmarks/paper1998.py --curvature-drift`: every figure is the file's."""
    import json
    import re
    from pathlib import Path

    import lenet_utils.paper1998.sdlm as sdlm

    d = json.loads((Path(__file__).resolve().parents[1] / "benchmarks/results/paper1998.json").read_text())
    d = d["curvature_drift"]
    text = " ".join(sdlm.__doc__.split())
    each, once = d["pass2"]["each_pass"], d["pass2"]["once"]
    assert f"after one pass over the 60,000 digits at {100 * d['pass1']['test_error']:.2f}% test error" in text
    assert (f"{100 * each['rates']['c5.weight']['at_cap']:.1f}% of C5's weights sit at the cap "
            f"({100 * d['start_rates']['c5.weight']['at_cap']:.1f}% at the start)") in text
    assert (f"C1's smallest weight rate rises from {d['start_rates']['c1.weight']['min']:.1e} to "
            f"{each['rates']['c1.weight']['min']:.1e}") in text
    found = re.search(r"over the next ([\d,]+) images the mean training loss per ([\d,]+) is ([\d., ]+) and the test "
                      r"error ends at ([\d.]+)%, against ([\d., ]+) and ([\d.]+)%", text)
    assert (int(found[1].replace(",", "")), int(found[2].replace(",", ""))) == (d["images"], d["chunk"])
    assert found[3].strip(" ,") == ", ".join(f"{v:.1f}" for v in each["train_loss_per_chunk"])
    assert found[5].strip(" ,") == ", ".join(f"{v:.1f}" for v in once["train_loss_per_chunk"])
    assert (found[4], found[6]) == (f"{100 * each['test_error']:.2f}", f"{100 * once['test_error']:.2f}")


def _benchmark():
    """benchmarks/paper1998.py as a module (a script beside its helpers, so its folder goes on sys.path to import)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import paper1998
    finally:
        sys.path.pop(0)
    return paper1998


def test_eta_scale_multiplies_every_pass_and_names_its_runs_apart():
    """``eta_scale`` multiplies the paper's schedule in every pass; the benchmark keeps its runs apart from the
    paper's (its own key), and rows from before an option read as the code then ran."""
    from lenet_utils.paper1998 import train_paper

    bench = _benchmark()
    parse_args, run_key = bench.parse_args, bench.run_key
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 32, 32, generator=g) * 1.275 - 0.1, torch.randint(0, 10, (40,), generator=g)
    config = PaperTrainConfig(passes=3, eta_scale=2.0, hessian_samples=20, train_eval_size=10)
    history = train_paper(config, data=(x, y, x[:10], y[:10])).history
    assert [h["eta"] for h in history] == [2 * eta_for_pass(p) for p in range(3)]
    assert parse_args(["--eta-scale", "2"]).eta_scale == 2.0
    recipe = {"optimizer": "sdlm", "distort": False, "batch_size": 1, "init": "sqrt", "curvature": "once", "seed": 0}
    assert run_key({"recipe": {**recipe, "eta_scale": 2.0}}) == "sdlm-plain-b1-sqrt-once-eta2-seed0"
    assert run_key({"recipe": {**recipe, "eta_scale": 1.0}}) == "sdlm-plain-b1-sqrt-once-seed0"
    old = {k: v for k, v in recipe.items() if k != "curvature"}
    assert run_key({"recipe": old}) == "sdlm-plain-b1-sqrt-seed0"


def test_the_result_files_summary_is_its_runs():
    """benchmarks/results/paper1998.json's summary (read by notebook 04b and the benchmarks table) is what the
    benchmark's summarise() makes of the file's runs: per recipe, the finished seeds, their errors and passes."""
    import json

    bench = _benchmark()
    RESULT, run_key, summarise = bench.RESULT, bench.run_key, bench.summarise
    data = json.loads(RESULT.read_text())
    assert data["summary"] == summarise(data["runs"])
    for name, s in data["summary"].items():
        runs = [r for r in data["runs"] if r["finished"] and run_key(r).rsplit("-seed", 1)[0] == name]
        assert s["passes"] == sorted({len(r["history"]) for r in runs}) and s["seeds"] == [r["recipe"]["seed"]
                                                                                          for r in runs]
