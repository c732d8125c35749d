"""The command line, run as a user would: a subprocess, checking output and exit status."""

import os
import subprocess
import sys

import pytest

from lenet_utils.checkpoints import load_checkpoint
from lenet_utils.cli import main


def lenet_in_process(capsys, *args):
    """Run the CLI in this process (fast); returns a CompletedProcess-like result."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def lenet(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "lenet_utils", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lenet: error: "), result.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_help_lists_the_commands():
    result = lenet("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "summary", "data", "doctor"):
        assert command in result.stdout


@pytest.mark.parametrize("args, words", [
    ([], ["required: COMMAND"]),
    (["bogus"], ["invalid choice: 'bogus'"]),
    (["train", "--epochs", "many"], ["--epochs", "invalid int value"]),
    (["train", "--epochs", "0"], ["TrainConfig.epochs must be"]),
    (["train", "--model", "pool=min"], ["pool: must be one of"]),
    (["train", "--model", "colour=red"], ["expected KEY=VALUE"]),
    (["summary", "--model", "conv2_kernel=20"], ["conv2_kernel", "larger than"]),
    (["summary", "--model", "fc_widths=a,b"], ["comma-separated whole numbers"]),
    (["evaluate", "--checkpoint", "/nonexistent/model.pt"], ["no such checkpoint file"]),
    (["predict"], ["FILE"]),
])
def test_wrong_arguments_give_one_line_and_status_2(capsys, args, words):
    assert_one_line_error(lenet_in_process(capsys, *args), *words)


def test_a_real_process_fails_the_same_way(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert_one_line_error(lenet("evaluate", "--checkpoint", bad), "bad.pt", "not a readable checkpoint")


def test_summary_prints_the_reference_table(capsys):
    result = lenet_in_process(capsys, "summary")
    assert result.returncode == 0
    assert 'Conv2d(1, 6, 5, padding="same")' in result.stdout
    assert result.stdout.strip().splitlines()[-1].split() == ["total", "61,706", "416,520"]


def test_summary_of_a_variant(capsys):
    result = lenet_in_process(capsys, "summary", "--model", "pool=max", "--model", "fc_widths=100")
    assert result.returncode == 0 and "MaxPool2d(2, 2)" in result.stdout and "Linear(400, 100)" in result.stdout


@pytest.mark.mnist
def test_evaluate_reports_the_shipped_model(mnist_ready):
    result = lenet("evaluate")
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("test accuracy:"))
    accuracy = float(line.split()[2].rstrip("%")) / 100
    assert accuracy >= 0.992
    table = result.stdout.split("digit  precision  recall  support")[1].strip().splitlines()
    assert [int(row.split()[0]) for row in table[:10]] == list(range(10))


@pytest.mark.mnist
@pytest.mark.slow
def test_train_writes_a_checkpoint_and_a_line_per_epoch(mnist_ready, tmp_path):
    out = tmp_path / "ckpt" / "tiny.pt"
    result = lenet("train", "--epochs", "1", "--batch-size", "256", "--model", "conv1_channels=4",
                   "--seed", "3", "--out", out)
    assert result.returncode == 0, result.stderr
    epoch_lines = [ln for ln in result.stdout.splitlines() if ln.startswith("epoch ")]
    assert len(epoch_lines) == 1 and "val loss" in epoch_lines[0] and "test" not in epoch_lines[0]
    ckpt = load_checkpoint(out)
    assert ckpt.config.conv1_channels == 4 and ckpt.seed == 3 and ckpt.recipe["batch_size"] == 256
    # each epoch scored on the 5,000 validation digits, the test split once at the end
    assert ckpt.metrics["test_acc"] > 0.9 and ckpt.metrics["val_acc"] > 0.9 and ckpt.metrics["train_size"] == 55_000
    assert "test accuracy" in result.stdout and "(scored once)" in result.stdout
    assert f"checkpoint written to {out}" in result.stdout


def test_train_refuses_a_folder_as_output(capsys, tmp_path):
    assert_one_line_error(lenet_in_process(capsys, "train", "--out", tmp_path), "is a folder")


def test_missing_mnist_is_one_line_with_the_fix(tmp_path):
    env = {"LENET_DATA_DIR": str(tmp_path), "LENET_MNIST_DIR": str(tmp_path / "none")}
    result = lenet("train", "--epochs", "1", env=env)
    assert_one_line_error(result, "LENET_MNIST_DIR", "is not a folder")


def test_doctor_reports_each_check(capsys):
    result = lenet_in_process(capsys, "doctor")
    for name in ("python", "torch", "torchvision", "ipywidgets", "jupyterlab", "device", "MNIST"):
        assert name in result.stdout
    assert result.returncode in (0, 1)


def test_console_script_is_installed():
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, "lenet"), "summary"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "61,706" in result.stdout


# --- help that answers at once, and says what each option does ----------------------------
COMMANDS = ["train", "evaluate", "predict", "summary", "data", "doctor", "assignments", "grade"]
HEAVY = ["torch", "torchvision", "numpy", "PIL", "matplotlib"]
# `python -m lenet_utils ARGS`, run for real (runpy imports the package, then its __main__), then the heavy
# libraries that ended up imported: --help must not need any of them.
_HELP_PROBE = """
import json, runpy, sys
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["lenet_utils", *args]
try:
    runpy.run_module("lenet_utils", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["lenet", *COMMANDS])
def test_help_imports_no_heavy_library(command):
    import json

    result = subprocess.run([sys.executable, "-c", _HELP_PROBE, json.dumps([*command, "--help"]), json.dumps(HEAVY)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    *help_text, verdict = result.stdout.strip().splitlines()
    assert json.loads(verdict) == {"code": 0, "heavy": []}
    assert help_text[0].startswith(" ".join(["usage: python -m lenet_utils", *command]))


def test_the_probe_does_see_an_import_of_torch():
    """The check above can fail: the same probe on a command that needs PyTorch reports it."""
    import json

    result = subprocess.run([sys.executable, "-c", _HELP_PROBE, json.dumps(["summary"]), json.dumps(HEAVY)],
                            capture_output=True, text=True, timeout=300)
    verdict = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdict["code"] == 0 and {"numpy", "torch"} <= set(verdict["heavy"])


def test_every_option_has_help_and_every_command_a_description_and_an_example():
    from lenet_utils.cli.parser import build_parser

    parser = build_parser("lenet")
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert sorted(commands) == sorted(COMMANDS)
    for name, sub in [("lenet", parser), *commands.items()]:
        assert sub.description, name
        assert f"example:\n  lenet {'' if name == 'lenet' else name}" in sub.epilog, name
        for action in sub._actions:
            if action.dest != "command":
                assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
        help_text = sub.format_help()
        assert help_text.startswith(f"usage: lenet{'' if name == 'lenet' else ' ' + name}"), help_text


def test_the_console_script_is_called_lenet_in_its_usage():
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, "lenet"), "predict", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("usage: lenet predict ")
    assert "example:\n  lenet predict " in result.stdout
