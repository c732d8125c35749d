"""Issue 16, the CLI: one error boundary, strict JSON, streaming, the `--` hint."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from PIL import Image

from lenet_utils import LeNet5, save_checkpoint
from lenet_utils.cli import main
from lenet_utils.predict import example_images


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_an_unexpected_error_is_one_internal_error_line(capsys, monkeypatch):
    import lenet_utils.cli.commands as cli

    monkeypatch.setitem(cli.COMMANDS, "summary", lambda args: {}["boom"])
    code, out, err = run(["summary"], capsys)
    assert code == cli.EXIT_INTERNAL and out == ""
    assert err.startswith("lenet: internal error: KeyError: 'boom'; please report it") and err.count("\n") == 1
    with pytest.raises(KeyError):
        main(["summary", "--debug"])


@pytest.mark.parametrize("error", [RuntimeError("mat1 and mat2 shapes cannot be multiplied"), TypeError("x"),
                                   IsADirectoryError(21, "Is a directory", "/tmp/x")])
def test_errors_of_any_type_in_evaluate_are_one_line(error, capsys, monkeypatch):
    import lenet_utils.cli.commands as cli

    def fail(args):
        raise error

    monkeypatch.setitem(cli.COMMANDS, "evaluate", fail)
    code, out, err = run(["evaluate"], capsys)
    assert code in (1, 2) and err.count("\n") == 1 and err.startswith("lenet: ") and "Traceback" not in err
    if isinstance(error, OSError):
        assert err == "lenet: error: /tmp/x: Is a directory\n"


def test_one_bad_file_does_not_stop_the_others(capsys, monkeypatch, tmp_path):
    import lenet_utils.predict.answer as predict

    good = example_images()[:3]
    real = predict._answer

    calls = 0

    def flaky(model, x):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("something odd\nsecond line")
        return real(model, x)

    monkeypatch.setattr(predict, "_answer", flaky)
    code, out, err = run(["predict", "--json", *map(str, good)], capsys)
    data = _strict(out)
    assert code == 2 and len(data) == 3
    assert "label" in data[0] and "label" in data[2]
    assert data[1]["error"].startswith(f"{good[1]}: internal error (RuntimeError: something odd); please report")


def test_a_model_with_nan_weights_never_prints_nan(capsys, tmp_path, monkeypatch):
    import lenet_utils.cli.commands as cli

    model = LeNet5()
    with torch.no_grad():
        model.fc3.bias.fill_(float("nan"))
    monkeypatch.setattr(cli, "_checkpoint", lambda path: type("C", (), {"model": model})())
    code, out, err = run(["predict", "--json", str(example_images()[0])], capsys)
    assert code == 2 and ": NaN" not in out and "Infinity" not in out
    assert "not finite" in _strict(out)[0]["error"]


def test_json_and_jsonl_are_strict_and_complete(capsys, tmp_path):
    files = [*map(str, example_images()[:2]), str(tmp_path / "missing.png")]
    code, out, _ = run(["predict", "--json", *files], capsys)
    assert [d["file"] for d in _strict(out)] == files
    code, out, _ = run(["predict", "--jsonl", *files], capsys)
    rows = [_strict(line) for line in out.splitlines()]
    assert [d["file"] for d in rows] == files and rows[2]["error"].endswith("no such file")
    code, out, err = run(["predict", "--json", "--jsonl", files[0]], capsys)
    assert code == 2 and "not allowed with" in err


def test_each_answer_is_written_before_the_next_file_is_read(capsys, monkeypatch):
    import lenet_utils.predict.answer as predict

    seen = []
    real = predict.predict_image

    def spy(*args, **kwargs):
        seen.append(capsys.readouterr().out)            # what was printed before this file
        return real(*args, **kwargs)

    monkeypatch.setattr(predict, "predict_image", spy)
    files = list(map(str, example_images()[:3]))
    main(["predict", "--jsonl", *files])
    assert [s.count("\n") for s in seen] == [0, 1, 1]


def test_an_interrupt_still_closes_the_json_list(capsys, monkeypatch):
    import lenet_utils.predict.answer as predict

    real = predict.predict_image
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(predict, "predict_image", interrupted)
    code, out, err = run(["predict", "--json", *map(str, example_images()[:3])], capsys)
    assert code == 130 and len(_strict(out)) == 1 and err == "lenet: interrupted\n"


def test_a_file_name_starting_with_a_dash(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.open(example_images()[7]).save(tmp_path / "-7.png")
    code, _, err = run(["predict", "--json", "-7.png"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "a file name starting with '-' goes after `--`, e.g. `lenet predict --json -- -7.png`" in err
    code, out, err = run(["predict", "--json", "--", "-7.png"], capsys)
    assert code == 0 and _strict(out)[0]["file"] == "-7.png" and err == ""
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "[--] FILE" in capsys.readouterr().out


def test_a_nul_in_a_file_name_is_that_files_error(capsys):
    code, out, err = run(["predict", "--jsonl", "a\0b.png", str(example_images()[0])], capsys)
    rows = [_strict(line) for line in out.splitlines()]
    assert code == 2 and "NUL" in rows[0]["error"] and "label" in rows[1]


def test_a_checkpoint_that_is_a_folder(capsys, tmp_path):
    code, out, err = run(["evaluate", "--checkpoint", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert err == f"lenet: error: {tmp_path}: is a folder; give the checkpoint file inside it (a .pt file)\n"


def test_a_real_process_with_a_tampered_checkpoint_gives_no_traceback(tmp_path):
    payload = torch.load(save_checkpoint(tmp_path / "m.pt", LeNet5()), weights_only=True)
    torch.save({**payload, "history": 5}, tmp_path / "bad.pt")
    proc = subprocess.run([sys.executable, "-m", "lenet_utils", "predict", "--json", "--checkpoint",
                           str(tmp_path / "bad.pt"), str(example_images()[0])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"lenet: error: {tmp_path / 'bad.pt'}: history: expected a list of per-epoch records, "
                           "got 5; the file was edited or damaged (save it again with save_checkpoint)\n")
