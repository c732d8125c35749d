"""Issue 16, checkpoints: a tampered file is refused with one line naming the file and the field,
before anything is built from it; nothing reaches a user as a traceback or a wrong answer."""

from __future__ import annotations

import json
import math

import pytest
import torch

from lenet_utils.checkpoints import PRETRAINED_PATH, CheckpointError, load_checkpoint
from lenet_utils.cli import main
from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.model import LeNet5
from lenet_utils.predict import example_images


@pytest.fixture(scope="module")
def shipped() -> dict:
    return torch.load(PRETRAINED_PATH, weights_only=True)


def _tampered(tmp_path, shipped, **changes) -> str:
    payload = {**shipped, **changes}
    path = tmp_path / "tampered.pt"
    torch.save(payload, path)
    return str(path)


def _state_of(config: LeNetConfig) -> dict:
    torch.manual_seed(0)
    return LabNet(config).state_dict()


def _nan_state(shipped):
    state = dict(shipped["state_dict"])
    state["conv1.weight"] = state["conv1.weight"].clone()
    state["conv1.weight"][0, 0, 0, 0] = float("nan")
    return state


def _inf_state(shipped):
    state = dict(shipped["state_dict"])
    state["fc3.bias"] = torch.full_like(state["fc3.bias"], float("inf"))
    return state


# (changes given the shipped payload, the field named, words the message must hold)
CASES = {
    "history=5": (lambda s: {"history": 5}, "history", "expected a list"),
    "versions=7": (lambda s: {"versions": 7}, "versions", "expected library names"),
    "metrics=list": (lambda s: {"metrics": [1, 2, 3]}, "metrics", "expected names mapped to numbers"),
    "metrics=text values": (lambda s: {"metrics": {"test_acc": "high"}}, "metrics", "mapped to numbers"),
    "history of ints": (lambda s: {"history": [1, 2]}, "history", "per-epoch records"),
    "versions of ints": (lambda s: {"versions": {"torch": 2}}, "versions", "version strings"),
    "seed=text": (lambda s: {"seed": "zero"}, "seed", "whole number"),
    "created=list": (lambda s: {"created": [2024]}, "created", "a date as text"),
    "recipe=list": (lambda s: {"recipe": [1]}, "recipe", "training settings"),
    "normalization=abc": (lambda s: {"normalization": "abc"}, "normalization", "{'mean': number"),
    "normalization std 0": (lambda s: {"normalization": {"mean": 0.1, "std": 0.0}}, "normalization", "std"),
    "normalization other": (lambda s: {"normalization": {"mean": 0.5, "std": 0.5}}, "normalization",
                            "answers would be wrong"),
    "format_version='1'": (lambda s: {"format_version": "1"}, "format_version", "expected a whole number"),
    "format_version=0": (lambda s: {"format_version": 0}, "format_version", "expected a whole number"),
    "format_version=True": (lambda s: {"format_version": True}, "format_version", "expected a whole number"),
    "format_version=99": (lambda s: {"format_version": 99}, "format_version", "newer than this lenet_utils"),
    "config=text": (lambda s: {"config": "lenet"}, "config", "expected the model's settings"),
    "config unknown key": (lambda s: {"config": {**s["config"], "bogus": 1}}, "config.bogus", "not a LeNetConfig"),
    "config bad pool": (lambda s: {"config": {**s["config"], "pool": "median"}}, "config.pool", "must be one of"),
    "image_size=32": (lambda s: {"config": {**s["config"], "image_size": 32},
                                 "state_dict": _state_of(LeNetConfig(image_size=32))},
                      "config", "1x32x32 images and 10 classes, not for MNIST digits"),
    "in_channels=3": (lambda s: {"config": {**s["config"], "in_channels": 3},
                                 "state_dict": _state_of(LeNetConfig(in_channels=3))},
                      "config", "3x28x28 images"),
    "num_classes=100": (lambda s: {"config": {**s["config"], "num_classes": 100},
                                   "state_dict": _state_of(LeNetConfig(num_classes=100))},
                        "config", "100 classes"),
    "huge layers": (lambda s: {"config": {**s["config"], "image_size": 1024, "conv1_kernel": 1, "conv2_kernel": 1,
                                          "conv1_channels": 256, "conv2_channels": 256}},
                    "config", "parameters is more than the 20,000,000 limit"),
    "huge activations": (lambda s: {"config": {**s["config"], "image_size": 1024, "conv1_channels": 64,
                                               "conv2_channels": 1, "fc_widths": []}},
                         "config", "more than the 2,000,000 limit"),
    "NaN weight": (lambda s: {"state_dict": _nan_state(s)}, "state_dict.conv1.weight", "NaN or infinite"),
    "inf bias": (lambda s: {"state_dict": _inf_state(s)}, "state_dict.fc3.bias", "NaN or infinite"),
    "int weights": (lambda s: {"state_dict": {**s["state_dict"], "fc3.bias": torch.zeros(10, dtype=torch.int64)}},
                    "state_dict.fc3.bias", "floating-point tensor"),
    "wrong shape": (lambda s: {"state_dict": {**s["state_dict"], "fc3.bias": torch.zeros(11)}},
                    "state_dict.fc3.bias", "do not fit"),
    "missing weight": (lambda s: {"state_dict": {k: v for k, v in s["state_dict"].items() if k != "fc3.bias"}},
                       "state_dict", "missing ['fc3.bias']"),
    "state_dict=list": (lambda s: {"state_dict": [1]}, "state_dict", "expected the weights"),
    "weights not a tensor": (lambda s: {"state_dict": {**s["state_dict"], "fc3.bias": [0.0] * 10}},
                             "state_dict.fc3.bias", "floating-point tensor"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_checkpoint_is_refused_naming_the_file_and_the_field(case, tmp_path, shipped):
    make, field_name, words = CASES[case]
    path = _tampered(tmp_path, shipped, **make(shipped))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field_name}: "), message
    assert words in message and "\n" not in message, message


def test_a_non_digit_model_loads_when_digits_are_not_asked_for(tmp_path, shipped):
    path = _tampered(tmp_path, shipped, config={**shipped["config"], "num_classes": 100},
                     state_dict=_state_of(LeNetConfig(num_classes=100)))
    assert load_checkpoint(path, digits=False).config.num_classes == 100


def test_huge_config_is_refused_before_allocating(tmp_path, shipped, monkeypatch):
    import lenet_utils.checkpoints as checkpoints

    def no_building(*args, **kwargs):
        raise AssertionError("a model was built from an unchecked config")

    monkeypatch.setattr(checkpoints, "LeNet5", no_building)
    monkeypatch.setattr(checkpoints, "LabNet", no_building)
    path = _tampered(tmp_path, shipped, config={**shipped["config"], "image_size": 1024, "conv1_kernel": 1,
                                                "conv2_kernel": 1, "conv1_channels": 256, "conv2_channels": 256})
    with pytest.raises(CheckpointError, match="parameters is more than"):
        load_checkpoint(path)


def test_a_folder_and_a_nul_name_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="NUL"):
        load_checkpoint(str(tmp_path / "a\0b.pt"))


@pytest.mark.parametrize("case", ["history=5", "metrics=list", "num_classes=100", "NaN weight", "image_size=32",
                                  "format_version='1'", "huge layers"])
def test_the_cli_gives_one_line_and_no_json_answer_for_a_tampered_checkpoint(case, tmp_path, shipped, capsys):
    make, field_name, _ = CASES[case]
    path = _tampered(tmp_path, shipped, **make(shipped))
    image = str(example_images()[0])
    for argv in (["predict", "--json", "--checkpoint", path, image], ["evaluate", "--checkpoint", path]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2 and out == "", (argv, out)
        assert err.startswith(f"lenet: error: {path}: {field_name}: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


def test_a_model_with_nan_weights_passed_in_gives_an_error_not_nan(capsys):
    from lenet_utils.predict import predict_image

    model = LeNet5()
    with torch.no_grad():
        model.fc3.bias.fill_(float("nan"))
    pred = predict_image(example_images()[0], model)
    assert pred.label is None and pred.confidence is None
    assert "not finite" in pred.error and "\n" not in pred.error
    assert json.loads(json.dumps(pred.to_dict(), allow_nan=False))["error"] == pred.error
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in pred.to_dict().values())


def test_a_model_of_the_wrong_shape_passed_in_gives_an_error_per_file():
    from lenet_utils.predict import predict_image

    pred = predict_image(example_images()[0], LabNet(LeNetConfig(image_size=32)))
    assert pred.label is None and pred.error.startswith(f"{example_images()[0]}: ")
    assert "28x28" in pred.error or "internal error" in pred.error
    pred = predict_image(example_images()[0], LabNet(LeNetConfig(num_classes=100)))
    assert pred.label is None and "100 classes" in pred.error
