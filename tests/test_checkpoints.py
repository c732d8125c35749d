import pickle
import zipfile

import pytest
import torch

from lenet_utils.checkpoints import (
    FORMAT,
    PRETRAINED_PATH,
    CheckpointError,
    load_checkpoint,
    load_pretrained,
    pretrained_checkpoint,
    save_checkpoint,
)
from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.model import LeNet5, count_parameters
from lenet_utils.training import TrainConfig


def test_round_trip_keeps_weights_config_recipe_and_metrics(tmp_path):
    torch.manual_seed(0)
    model = LabNet(LeNetConfig(pool="max", fc_widths=(64,)))
    recipe = TrainConfig(epochs=3, seed=7)
    path = save_checkpoint(tmp_path / "sub" / "m.pt", model, recipe=recipe, metrics={"test_acc": 0.98},
                           history=[{"epoch": 1, "test_acc": 0.98}])
    ckpt = load_checkpoint(path)
    assert ckpt.config == model.config and type(ckpt.model) is LabNet
    for (k, a), (_, b) in zip(model.state_dict().items(), ckpt.model.state_dict().items()):
        assert torch.equal(a, b), k
    assert ckpt.recipe == recipe.to_dict() and ckpt.seed == 7
    assert ckpt.metrics == {"test_acc": 0.98} and ckpt.history[0]["epoch"] == 1
    assert set(ckpt.versions) >= {"torch", "torchvision", "lenet_utils", "python"}
    assert ckpt.normalization == {"mean": 0.1307, "std": 0.3081}
    assert not ckpt.model.training and ckpt.path == path
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(model.eval()(x), ckpt.model(x))


def test_save_leaves_no_temporary_files(tmp_path):
    save_checkpoint(tmp_path / "m.pt", LeNet5())
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


class _RunsCode:
    """Unpickling this would call print(...) : the classic malicious-checkpoint trick."""

    def __reduce__(self):
        return (print, ("pwned: code ran while loading",))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "format_version": 1, "payload": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="would run code when loaded"):
        load_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out


def test_a_plain_pickle_that_would_run_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_RunsCode()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out


def test_truncated_file(tmp_path):
    good = save_checkpoint(tmp_path / "m.pt", LeNet5())
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"truncated.pt: not a readable checkpoint \(truncated or corrupt\)"):
        load_checkpoint(bad)


def test_random_bytes_and_empty_file(tmp_path):
    (tmp_path / "noise.pt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.pt").write_bytes(b"")
    for name in ("noise.pt", "empty.pt"):
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            load_checkpoint(tmp_path / name)


def test_foreign_files(tmp_path):
    torch.save(LeNet5().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="bare state_dict"):
        load_checkpoint(tmp_path / "bare.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not a lenet_utils checkpoint"):
        load_checkpoint(tmp_path / "list.pt")


def test_newer_format_and_mismatched_weights(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", LeNet5())
    payload = torch.load(path, weights_only=True)
    torch.save({**payload, "format_version": 99}, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match="newer than this lenet_utils"):
        load_checkpoint(tmp_path / "new.pt")
    torch.save({**payload, "config": LeNetConfig(conv1_channels=8).to_dict()}, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="weights and config do not fit"):
        load_checkpoint(tmp_path / "mismatch.pt")


@pytest.mark.parametrize("config", [LeNetConfig(), LeNetConfig(fc_widths=(64,), dropout=0.2, activation="tanh")],
                         ids=["reference", "variant"])
def test_checkpoints_saved_before_the_layer_by_layer_network_still_load(tmp_path, config):
    """Checkpoints written when the network was two stages (``features.conv1.weight``,
    ``classifier.out.bias``) load into today's layer names, with the same answers; a damaged one is
    still refused, naming today's key."""
    torch.manual_seed(0)
    model = LabNet(config).eval()
    payload = torch.load(save_checkpoint(tmp_path / "new.pt", model), weights_only=True)
    last = f"fc{len(config.fc_widths) + 1}."
    old_name = {k: ("classifier.out." + k.removeprefix(last) if k.startswith(last) else
                    ("features." if k.startswith("conv") else "classifier.") + k) for k in payload["state_dict"]}
    old_state = {old_name[k]: v for k, v in payload["state_dict"].items()}
    assert "features.conv1.weight" in old_state and "classifier.out.bias" in old_state
    torch.save({**payload, "state_dict": old_state}, tmp_path / "old.pt")
    ckpt = load_checkpoint(tmp_path / "old.pt")
    assert list(ckpt.model.state_dict()) == list(model.state_dict())
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(ckpt.model(x), model(x), rtol=0, atol=0)
    damaged = {**old_state, "classifier.out.bias": torch.zeros(11)}
    torch.save({**payload, "state_dict": damaged}, tmp_path / "damaged.pt")
    with pytest.raises(CheckpointError, match=rf"state_dict\.{last}bias: damaged checkpoint"):
        load_checkpoint(tmp_path / "damaged.pt")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_save_refuses_other_models(tmp_path):
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "m.pt", torch.nn.Linear(2, 2))


def test_the_shipped_checkpoint_is_the_reference_with_its_provenance():
    assert PRETRAINED_PATH.is_file(), "the trained model must ship inside the package"
    assert zipfile.is_zipfile(PRETRAINED_PATH)
    ckpt = pretrained_checkpoint()
    assert ckpt.config == LeNetConfig() and count_parameters(ckpt.model) == 61_706
    assert type(ckpt.model) is LeNet5                   # the reference loads as the class notebook 02 writes
    recipe = TrainConfig(**ckpt.recipe)  # a complete, valid recipe
    assert ckpt.seed == recipe.seed
    assert ckpt.metrics["test_acc"] >= 0.992
    assert len(ckpt.history) == recipe.epochs
    # trained on the 55,000-digit training split, each epoch scored on the 5,000 validation digits
    # (issue 29): notebook 04 fits its temperature on digits this model never saw
    assert ckpt.metrics["train_size"] == 55_000 and recipe.epochs == 15 and recipe.augment
    assert all("val_acc" in row for row in ckpt.history)
    assert ckpt.metrics["val_acc"] == ckpt.history[-1]["val_acc"]
    assert {"torch", "torchvision", "lenet_utils"} <= set(ckpt.versions)
    assert not load_pretrained().training


@pytest.mark.mnist
def test_the_shipped_model_scores_at_least_99_2_percent_on_mnist(mnist_test):
    from lenet_utils.training import evaluate

    result = evaluate(load_pretrained(), mnist_test)
    assert result.count == 10_000
    assert result.accuracy >= 0.992, f"shipped model: {result.accuracy:.4f}"
    assert result.accuracy == pytest.approx(pretrained_checkpoint().metrics["test_acc"], abs=1e-4)
