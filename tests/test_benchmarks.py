"""The benchmark suite at tiny sizes (``--smoke``), so ``make bench`` never rots.

It checks that every figure is produced, has a sane value and is consistent with its details;
never how fast anything is (timings belong in the benchmark's output, not in tests)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_utils import TrainConfig

REPO = Path(__file__).resolve().parents[1]
KEYS = ("epoch_speedup_vs_dataloader", "time_to_99_s_median", "forward_latency_us_median",
        "predict_latency_ms_median", "eval_images_per_s", "train_fraction_of_peak", "notebooks_total_s",
        "time_to_99_fast_s_median", "train_fraction_of_peak_fast")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, mnist_ready) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, f"benchmarks/run.py --smoke failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return json.loads(out.read_text()), proc.stdout


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.mnist
def test_every_figure_is_there_and_positive(smoke):
    results, _ = smoke
    assert results["mode"] == "smoke" and results["errors"] == {}
    for key in KEYS:
        assert key in results, key
    for key in ("epoch_speedup_vs_dataloader", "forward_latency_us_median", "predict_latency_ms_median",
                "eval_images_per_s", "train_fraction_of_peak", "train_fraction_of_peak_fast"):
        assert positive(results[key]), (key, results[key])
    # The smoke run never executes notebooks, and says so.
    assert results["notebooks_total_s"] is None and results["skipped"] == {"notebooks": "--smoke"}
    # Targets are not judged on tiny sizes.
    assert all(check["met"] is None for check in results["targets"].values())


@pytest.mark.mnist
def test_figures_agree_with_their_details(smoke):
    results, _ = smoke
    d = results["details"]
    e = d["epoch"]
    spe = e["seconds_per_epoch"]
    assert set(spe) == {"dataloader", "float_copy", "batchloader", "layer_by_layer", "fit"}
    assert positive(e["shared_map_over_float_copy"])
    assert all(spe[k]["min"] <= spe[k]["median"] <= spe[k]["max"] for k in spe)
    assert e["repeats"] == len(e["speedup_per_round"]) == len(e["fraction_of_peak_per_round"])
    assert min(e["speedup_per_round"]) <= results["epoch_speedup_vs_dataloader"] <= max(e["speedup_per_round"])
    # fraction of peak = training GFLOP/s (2.264 MFLOP per image) over the measured matmul peak
    assert math.isclose(e["train_gflops"], 2.264e6 * e["train_images_per_s"] / 1e9, rel_tol=1e-9)
    fractions = e["fraction_of_peak_per_round"]
    assert min(fractions) <= results["train_fraction_of_peak"] <= max(fractions)
    # folding executes fewer FLOPs than LeNet-5's own count; the executed share of the peak says so
    assert 0.3e6 < e["executed_flop_per_image"] < 2.264e6
    assert e["executed_fraction_of_peak"] == pytest.approx(
        results["train_fraction_of_peak"] * e["executed_flop_per_image"] / 2.264e6, rel=0.05)
    assert positive(e["fold_speedup"])

    t = d["time_to_99"]
    assert t["target"] == 0.99 and len(t["runs"]) == len(t["seeds"])
    for run in t["runs"]:
        assert 0 <= run["final_test_acc"] <= 1 and len(run["test_acc_per_epoch"]) == t["epochs"]
        reached = max(run["test_acc_per_epoch"]) >= 0.99
        assert (run["seconds_to_target"] is not None) == reached
    if t["seeds_reaching_target"] * 2 <= len(t["seeds"]):
        assert results["time_to_99_s_median"] is None
    else:
        assert positive(results["time_to_99_s_median"])

    # Both recipes ran on every seed; each one's figures agree with its runs.
    assert set(t["recipes"]) == {"default", "fast"}
    assert len(t["peak_gflops_per_seed"]) == len(t["seeds"])
    assert t["recipes"]["fast"]["recipe"]["batch_size"] == TrainConfig.fast().batch_size
    for name, r in t["recipes"].items():
        assert [run["seed"] for run in r["runs"]] == t["seeds"], name
        reached = [run["seconds_to_target"] for run in r["runs"] if run["seconds_to_target"] is not None]
        assert r["seeds_reaching_target"] == len(reached)
        key = "time_to_99_s_median" if name == "default" else "time_to_99_fast_s_median"
        assert results[key] == r["seconds_to_target"]["median"]
        rates = [run["train_images_per_s"] for run in r["runs"]]
        assert all(positive(v) for v in rates)
        assert r["epoch_s"] == pytest.approx(t["train_images"] / r["train_images_per_s"])
        assert min(r["fraction_of_peak_per_seed"]) <= r["train_fraction_of_peak"] <= max(r["fraction_of_peak_per_seed"])
    assert results["train_fraction_of_peak_fast"] == t["recipes"]["fast"]["train_fraction_of_peak"]
    assert positive(t["fast_over_default"]["train_images_per_s_ratio"])

    tech = d["techniques"]
    assert tech["speedup_vs_nchw"]["nchw"] == pytest.approx(1.0)
    assert set(tech["speedup_vs_nchw"]) == {"nchw", "channels_last", "folded", "one_thread", "bf16_autocast",
                                            "folded_batch_256", "folded_batch_512", "folded_one_thread"}
    assert positive(tech["dataloader_workers_2_speedup"])

    ev = d["eval"]
    assert f"batch_{ev['default_batch_size']}" in ev["images_per_s"]
    assert ev["relative_to_default"][f"batch_{ev['default_batch_size']}"] == pytest.approx(1.0)
    assert f"batch_{ev['default_batch_size']}_layer_by_layer" in ev["images_per_s"]  # what folding gains
    assert set(d["latency"]["latency_us"]) == {"forward_single", "freeze_sealed", "freeze_checked", "model_call",
                                               "onednn_off", "one_thread"}
    p = d["predict"]
    assert p["predict_image_ms"] == results["predict_latency_ms_median"]
    assert all(positive(p[f"{stage}_ms"]) for stage in ("decode", "preprocess", "forward", "predict_image",
                                                         "grey_decode", "grey_predict_image",
                                                         "scan_decode", "scan_predict_image"))
    assert p["scan_png_bytes"] < p["grey_png_bytes"] < p["png_bytes"]  # the figure is the heaviest file
    for prefix in ("", "grey_", "scan_"):
        assert p[f"{prefix}beyond_decode_ms"] == pytest.approx(
            p[f"{prefix}predict_image_ms"] - p[f"{prefix}decode_ms"], abs=2e-3)


@pytest.mark.mnist
def test_table_is_printed(smoke):
    _, stdout = smoke
    for label in ("epoch speed-up vs DataLoader", "time to 99%", "TrainConfig.fast()", "fast over default, per seed",
                  "single 28x28 forward", "PNG bytes to prediction",
                  "test-set evaluation", "training FLOP/s / matmul peak", "notebook series", "skipped: notebooks"):
        assert label in stdout, label


def test_the_benchmarks_run_from_anywhere_without_editing_sys_path(tmp_path):
    """A script's own folder is on sys.path and lenet_utils is installed: no benchmark edits it."""
    edits = [p.name for p in sorted((REPO / "benchmarks").glob("*.py"))
             if re.search(r"sys\.path\.(insert|append)|sys\.path\s*=", p.read_text())]
    assert edits == []
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--help"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0 and "--smoke" in proc.stdout, proc.stderr[-2000:]


def test_notebook_timer_executes_into_a_copy(tmp_path):
    """The notebook section runs notebooks from a temporary copy and leaves the originals alone."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import nbformat
        import notebook_times
    finally:
        sys.path.pop(0)
    folder = tmp_path / "nbs"
    folder.mkdir()
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 6 * 7\nprint(x)")])
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('broken on purpose')")])
    nbformat.write(good, folder / "01_good.ipynb")
    nbformat.write(bad, folder / "02_bad.ipynb")
    nbformat.write(good, folder / "solutions.ipynb")  # not numbered: not part of the series
    nbformat.write(good, folder / "01_good.solutions.ipynb")  # a lesson's solutions: not part of it
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    found = notebook_times.measure(timeout_s=120, folder=folder)
    assert found["details"]["measured"] == ["01_good.ipynb", "02_bad.ipynb"]
    assert "ValueError" in found["details"]["failed"]["02_bad.ipynb"]
    assert "01_good.ipynb" not in found["details"]["failed"]
    assert found["notebooks_total_s"] is None  # a failed notebook leaves no total
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_every_benchmark_is_in_one_group_and_listed():
    """benchmarks/ has one entry point (run.py; make bench) and lists every investigation by group."""
    scripts = {p.name for p in (REPO / "benchmarks").glob("*.py")}
    listed = [s for group in ("speed", "memory", "classroom", "quality") for s in _groups()[group]]
    assert len(listed) == len(set(listed))                           # each in one group
    assert set(listed) | set(_helpers()) == scripts, scripts ^ (set(listed) | set(_helpers()))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--list"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for script in listed:
        assert f"  {script}" in done.stdout


def _groups() -> dict:
    import ast

    tree = ast.parse((REPO / "benchmarks" / "run.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "GROUPS")
    return ast.literal_eval(node.value)


def _helpers() -> list:
    import ast

    tree = ast.parse((REPO / "benchmarks" / "run.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "HELPERS")
    return ast.literal_eval(node.value)


def test_no_generator_of_shipped_training_data_lives_in_benchmarks():
    """The not-a-digit detector's negatives are generated by the package (lenet_utils.synthetic), not here."""
    assert not (REPO / "benchmarks" / "non_digits.py").exists()
    fit = (REPO / "scripts" / "fit_not_a_digit.py").read_text()
    assert "sys.path" not in fit and "from lenet_utils.synthetic.non_digits import" in fit


def test_a_result_file_says_when_the_code_that_ran_was_not_its_commit(tmp_path):
    """provenance.git_commit: '+changes' for an edited tracked file AND for a new untracked one (a new
    module is code that ran; the 1998 run once recorded a clean commit that lacked its module)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import provenance
    finally:
        sys.path.pop(0)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("build/\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    clean = provenance.git_commit(tmp_path)
    assert clean and "+" not in clean
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.json").write_text("{}")            # ignored output: still clean
    assert provenance.git_commit(tmp_path) == clean
    results = tmp_path / "benchmarks" / "results"                  # an earlier benchmark's output: still clean
    results.mkdir(parents=True)
    (results / "earlier.json").write_text("{}")
    assert provenance.git_commit(tmp_path) == clean
    (tmp_path / "benchmarks" / "run.py").write_text("z = 3\n")   # but a new script beside it is code
    assert provenance.git_commit(tmp_path) == clean + "+changes"
    (tmp_path / "benchmarks" / "run.py").unlink()
    (tmp_path / "new_module.py").write_text("y = 2\n")
    assert provenance.git_commit(tmp_path) == clean + "+changes"
    (tmp_path / "new_module.py").unlink()
    (tmp_path / "a.py").write_text("x = 2\n")
    assert provenance.git_commit(tmp_path) == clean + "+changes"
    assert provenance.git_commit(tmp_path / "build" / "nowhere") == "unknown"


def test_a_candidate_fast_recipe_goes_to_its_own_file_and_an_unknown_one_is_named(tmp_path):
    """run.py --fast-recipe NAME times recipe_search.py's NAME in the place of TrainConfig.fast(): never into
    latest.json (whose fast figures are TrainConfig.fast()'s), and a name it does not know is refused, listed."""
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), *args], capture_output=True,
                              text=True, timeout=120, cwd=REPO)

    proc = run("--only", "time_to_99", "--fast-recipe", "fast_aug")
    assert proc.returncode == 2 and "give it its own --out" in proc.stderr
    proc = run("--only", "time_to_99", "--fast-recipe", "fastest", "--out", str(tmp_path / "x.json"))
    assert proc.returncode == 2 and "unknown --fast-recipe 'fastest'" in proc.stderr and "fast_aug" in proc.stderr
    assert not (tmp_path / "x.json").exists()


@pytest.mark.mnist
def test_the_candidate_recipe_is_the_one_timed(mnist_ready, tmp_path):
    """At smoke sizes, the candidate's changes are the "fast" recipe measured, and the file says which it was."""
    out = tmp_path / "candidate.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--only", "time_to_99",
                           "--fast-recipe", "fast_aug", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = json.loads(out.read_text())
    assert d["fast_recipe"]["name"] == "fast_aug" and d["fast_recipe"]["changes"]["augment"] is True
    fast = d["details"]["time_to_99"]["recipes"]["fast"]["recipe"]
    assert fast["augment"] is True and fast["batch_size"] == 256
