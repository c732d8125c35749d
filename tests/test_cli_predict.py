"""``python -m lenet_utils predict FILE... [--json] [--checkpoint PATH]``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zlib

import pytest
import torch
from PIL import Image

from lenet_utils import LeNet5, save_checkpoint
from lenet_utils.cli import main
from lenet_utils.predict import example_images, example_label


@pytest.fixture
def files(tmp_path):
    examples = example_images()
    good = [examples[3], examples[7]]
    blank = tmp_path / "blank.png"
    Image.new("L", (120, 90), 245).save(blank)
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    return good, blank, text


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_predicts_each_file(files, capsys):
    good, _, _ = files
    code, out, err = run(["predict", *map(str, good)], capsys)
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for path, line in zip(good, lines):
        assert line.startswith(f"{path}: {example_label(path)} (") and line.endswith("%)")


def test_json_is_one_list_with_an_object_per_file(files, capsys):
    good, blank, text = files
    code, out, err = run(["predict", str(good[0]), str(blank), str(text), "--json"], capsys)
    assert code == 2, "any refused file makes the exit status 2"
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 3
    assert set(data[0]) == {"file", "label", "confidence", "not_a_digit", "probabilities"}
    assert data[0]["file"] == str(good[0]) and data[0]["label"] == example_label(good[0])
    assert len(data[0]["probabilities"]) == 10 and abs(sum(data[0]["probabilities"]) - 1) < 1e-4
    assert data[0]["confidence"] == max(data[0]["probabilities"])
    assert data[1] == {"file": str(blank), "error": data[1]["error"]}
    assert "no digit found" in data[1]["error"]
    assert data[2]["error"] == f"{text}: not an image (expected PNG, JPEG, GIF, BMP, WebP or TIFF)"


def test_refused_files_are_one_line_each_on_stderr(files, capsys, tmp_path):
    good, blank, text = files
    missing = tmp_path / "missing.jpg"
    code, out, err = run(["predict", str(good[0]), str(text), str(missing), str(blank)], capsys)
    assert code == 2
    assert out.strip().startswith(f"{good[0]}: ")
    lines = err.strip().splitlines()
    assert lines == [f"lenet: error: {text}: not an image (expected PNG, JPEG, GIF, BMP, WebP or TIFF)",
                     f"lenet: error: {missing}: no such file",
                     lines[2]]
    assert lines[2].startswith(f"lenet: error: {blank}: no digit found")


def test_checkpoint_option(files, capsys, tmp_path):
    good, _, _ = files
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "mine.pt", LeNet5())
    code, out, _ = run(["predict", str(good[0]), "--json", "--checkpoint", str(path)], capsys)
    shipped = json.loads(run(["predict", str(good[0]), "--json"], capsys)[1])
    assert code == 0 and json.loads(out)[0]["probabilities"] != shipped[0]["probabilities"]
    code, out, err = run(["predict", str(good[0]), "--checkpoint", str(tmp_path / "nope.pt")], capsys)
    assert code == 2 and out == "" and err.startswith("lenet: error: ") and "no such checkpoint" in err


def test_a_folder_or_a_huge_file_is_refused(capsys, tmp_path):
    code, _, err = run(["predict", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in err
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    bomb = bytearray(buf.getvalue())                                  # an 8x8 PNG whose header says
    bomb[16:24] = (60_000).to_bytes(4, "big") * 2                     # 60,000 x 60,000 (and a valid CRC)
    bomb[29:33] = zlib.crc32(bytes(bomb[12:29])).to_bytes(4, "big")
    (tmp_path / "bomb.png").write_bytes(bytes(bomb))
    code, _, err = run(["predict", str(tmp_path / "bomb.png")], capsys)
    assert code == 2 and "decompression bomb" in err and "\n" == err[-1] and err.count("\n") == 1


def test_no_traceback_from_a_real_process(files, tmp_path):
    """End to end, as a user runs it: bad files give exit status 2 and no traceback."""
    _, blank, text = files
    proc = subprocess.run([sys.executable, "-m", "lenet_utils", "predict", str(text), str(blank), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert [set(d) for d in json.loads(proc.stdout)] == [{"file", "error"}, {"file", "error"}]


def test_usage_errors(capsys):
    code, _, err = run(["predict"], capsys)
    assert code == 2 and err.startswith("lenet: error: ") and "FILE" in err


def test_the_human_output_says_when_it_is_not_a_digit(files, capsys, monkeypatch):
    """The label is still given; a flagged answer says so in words (the JSON has ``not_a_digit``)."""
    from lenet_utils.predict import Prediction
    from lenet_utils.predict import answer as predict

    good, _, _ = files
    answers = {str(good[0]): Prediction(str(good[0]), 3, 0.61, [0.39 / 9] * 9 + [0.61]),
               str(good[1]): Prediction(str(good[1]), 2, 0.70, [0.7] + [0.3 / 9] * 9, not_a_digit=True)}
    monkeypatch.setattr(predict, "predict_file", lambda path, model: answers[str(path)])
    code, out, err = run(["predict", *map(str, good)], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{good[0]}: 3 (61.0%)", f"{good[1]}: 2 (70.0%) (doesn't look like a digit)"]
