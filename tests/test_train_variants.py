"""scripts/train_variants.py: the smoke run writes a loadable table; bad arguments and missing data
are one clear line, not a traceback."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_utils.lessons.experiments import VariantTable

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "train_variants.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_variants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=timeout)


@pytest.mark.mnist
def test_smoke_run_writes_a_table_notebook_06_can_load(tmp_path, mnist_ready):
    out = tmp_path / "variants"
    proc = run_script("--smoke", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "reference" in proc.stdout and "max-pool" in proc.stdout and "wrote" in proc.stdout
    table = VariantTable.load(out / "results.json")
    assert [r.name for r in table] == ["reference", "max-pool"]
    assert table.steps == 3 and table.seeds == [0] and table.meta["smoke"] is True
    assert table.meta["command"].endswith(f"--smoke --out {out}")
    assert all(len(r.accs) == 1 and 0.0 <= r.accs[0] <= 1.0 and len(r.losses) == 3 for r in table)
    md = (out / "results.md").read_text()
    assert "| variant | changes from reference |" in md and "| max-pool | pool=max |" in md
    assert "Produced by `python scripts/train_variants.py --smoke" in md


@pytest.mark.parametrize("args, message", [
    (["--variants", "reference", "wings"], "unknown variant(s) wings"),
    (["--variants", "max-pool"], "must include 'reference'"),
    (["--steps", "0"], "--steps must be at least 1"),
])
def test_bad_arguments_are_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script().parse_args(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_defaults_are_the_course_table():
    args = load_script().parse_args([])
    assert args.steps == 215 and args.seeds == [0, 1, 2] and args.device == "cpu" and not args.smoke
    assert args.out == REPO / "data" / "variants"
    assert args.variants[0] == "reference" and len(args.variants) >= 8


def test_missing_mnist_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, LENET_DATA_DIR=str(tmp_path / "data"), LENET_MNIST_DIR=str(empty))
    proc = run_script("--smoke", "--out", str(tmp_path / "out"), env=env, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("train_variants: error:") and "LENET_MNIST_DIR" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.mnist
def test_an_unwritable_output_is_a_clear_error(tmp_path, mnist_ready, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert load_script().main(["--smoke", "--out", str(blocker / "variants")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("train_variants: error: cannot write to") and str(blocker) in err
