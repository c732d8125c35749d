from pathlib import Path

from lenet_utils import paths

REPO = Path(__file__).resolve().parents[1]


def test_in_a_clone_data_lives_in_the_repository(monkeypatch):
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    assert paths.repo_root() == REPO
    assert paths.data_root() == REPO / "data"
    assert paths.checkpoints_dir() == REPO / "data" / "checkpoints"
    assert paths.examples_dir() == REPO / "data" / "examples"


def test_environment_variable_moves_the_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    assert paths.data_root() == tmp_path
    assert paths.checkpoints_dir() == tmp_path / "checkpoints"


def test_a_plain_install_uses_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path / "site-packages" / "lenet_utils")
    assert paths.repo_root() is None
    assert paths.data_root() == Path.home() / ".cache" / "lenet-utils"
