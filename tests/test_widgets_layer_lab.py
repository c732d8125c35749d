"""The layer lab driven headlessly: set controls, press buttons, read what the widgets show."""

import importlib
import json

import pytest
from toydata import separable

from lenet_utils.config import ACTIVATIONS, POOLS, LeNetConfig
from lenet_utils.data import MNISTUnavailable
from lenet_utils.lessons.experiments import DEFAULT_BUDGET, Leaderboard, RunRecord, VariantResult, VariantTable
from lenet_utils.summary import layer_summary
from lenet_utils.widgets import layer_lab
from lenet_utils.widgets.layer_lab import ERROR_BORDER, LayerLab

WAIT = 300  # s: generous, the test machine is shared


@pytest.fixture
def lab():
    """A lab over small synthetic splits: half an epoch is 2 batches. No comparison table."""
    lab = LayerLab(train=separable(512), val=separable(128, seed=1), table=None, device="cpu")
    yield lab
    lab.stop()
    lab.wait(WAIT)
    lab.close()


def params_shown(lab) -> int:
    html = lab.summary_html.value
    start = html.index("class='lenet-lab-params'>") + len("class='lenet-lab-params'>")
    return int(html[start:html.index("<", start)].replace(",", ""))


def test_one_call_builds_the_lab_with_a_control_for_every_part():
    lab = layer_lab(table=None)
    try:
        for name in ("conv1_channels", "conv1_kernel", "conv1_padding", "conv2_channels", "conv2_kernel",
                     "conv2_padding", "pool", "activation", "fc_widths", "fc_activation", "dropout"):
            assert name in lab.controls
        assert lab.config == LeNetConfig()
        assert params_shown(lab) == 61_706
        assert "Conv2d(1, 6, 5, padding=&quot;same&quot;)" in lab.summary_html.value
        assert "MACs" in lab.summary_html.value
        assert lab.steps == DEFAULT_BUDGET  # half an epoch of MNIST by default
        assert "215 batches" in lab.budget_label.value
        assert lab.curves.value[:4] == b"\x89PNG"
        # the choices are the config's own, stated once in config.py
        assert lab.controls["activation"].options == lab.controls["fc_activation"].options == tuple(ACTIVATIONS)
        assert lab.controls["pool"].options == tuple(POOLS)
    finally:
        lab.close()


@pytest.mark.parametrize("name, value", [
    ("conv1_channels", 12), ("conv1_kernel", 3), ("conv1_padding", 2), ("conv2_channels", 32),
    ("conv2_kernel", 3), ("conv2_padding", "same"), ("pool", "max"), ("activation", "tanh"),
    ("fc_widths", "200"), ("fc_activation", "relu"), ("dropout", 0.25),
])
def test_every_control_updates_the_table(lab, name, value):
    before = lab.summary_html.value
    lab.controls[name].value = value
    expected = LeNetConfig(**{name: (200,) if name == "fc_widths" else value})
    assert lab.config == expected
    assert lab.summary_html.value != before
    assert params_shown(lab) == layer_summary(expected).total_params
    assert expected.describe_changes() in lab.summary_html.value


def test_more_channels_show_more_parameters_and_the_change_from_the_reference(lab):
    lab.controls["conv1_channels"].value = 12
    assert params_shown(lab) == layer_summary(LeNetConfig(conv1_channels=12)).total_params > 61_706
    assert "conv1_channels=12" in lab.summary_html.value
    assert "vs the reference" in lab.summary_html.value
    lab.reset()
    assert lab.config == LeNetConfig() and params_shown(lab) == 61_706


def test_an_impossible_config_shows_which_setting_breaks_and_why(lab):
    lab.controls["conv2_kernel"].value = 15
    html = lab.summary_html.value
    assert lab.config is None and "lenet-lab-error" in html
    assert "conv2 kernel" in html and "(conv2_kernel)" in html
    assert "larger than its 14x14 input map" in html and "Traceback" not in html
    assert lab.controls["conv2_kernel"].layout.border == ERROR_BORDER
    assert all(c.layout.border in ("", None) for n, c in lab.controls.items() if n != "conv2_kernel")
    assert lab.train_button.disabled
    assert lab.train() is None and "Fix the network first" in lab.status.value
    lab.controls["conv2_kernel"].value = 5  # fixed: the table and the train button come back
    assert lab.config == LeNetConfig() and not lab.train_button.disabled
    assert lab.controls["conv2_kernel"].layout.border == ""


@pytest.mark.parametrize("settings, field", [
    ({"conv1_kernel": 1, "conv1_padding": 1}, "conv1_padding"),   # padding as wide as the kernel
    ({"conv1_kernel": 15, "conv1_padding": 0, "conv2_kernel": 7}, "conv2_kernel"),  # maps too small
    ({"fc_widths": "120, eighty"}, "fc_widths"),
])
def test_other_impossible_configs_name_their_setting(lab, settings, field):
    lab.set(**settings)
    assert lab.config is None and lab.config_error.field == field
    assert f"({field})" in lab.summary_html.value
    assert lab.controls[field].layout.border == ERROR_BORDER


def test_linear_widths_are_typed_as_a_list(lab):
    lab.controls["fc_widths"].value = " 64 ;32, "
    assert lab.config.fc_widths == (64, 32)
    lab.controls["fc_widths"].value = ""
    assert lab.config.fc_widths == ()
    lab.set(fc_widths=(120, 84))
    assert lab.controls["fc_widths"].value == "120, 84"
    with pytest.raises(KeyError, match="no control 'wings'"):
        lab.set(wings=2)


def test_a_tiny_training_budget_adds_a_leaderboard_row(lab):
    lab.set(pool="max")
    assert lab.steps == 2  # half an epoch of 512 images
    run = lab.train(wait=True, timeout=WAIT)
    assert isinstance(run, RunRecord) and lab.last_error is None
    assert run.steps == 2 and run.config == LeNetConfig(pool="max") and run.name == "run 1"
    assert lab.progress.value == lab.progress.max == 2
    assert len(lab.leaderboard) == 1 and lab.leaderboard.runs[0] is run
    board = lab.board_html.value
    assert "pool=max" in board and f"{run.val_acc:.2%}" in board and "61,706" in board
    assert "run 1" in lab.status.value and "lenet-lab-ok" in lab.status.value
    assert not lab.train_button.disabled and lab.stop_button.disabled
    assert lab.curves.value[:4] == b"\x89PNG"


def test_controls_stay_live_and_a_second_run_is_refused_while_one_trains():
    lab = LayerLab(train=separable(25600), val=separable(128, seed=1), table=None, budget=1.0, device="cpu")
    try:
        assert lab.steps == 200  # far more than it gets: stop comes first
        assert lab.train() is None  # started in the background: returns at once
        assert lab.running and lab.train_button.disabled and not lab.stop_button.disabled
        assert lab.train() is None and "already going" in lab.status.value
        lab.controls["conv1_channels"].value = 10  # the table follows the controls during training
        assert params_shown(lab) == layer_summary(LeNetConfig(conv1_channels=10)).total_params
        lab.stop()
        assert lab.wait(WAIT)
        run = lab.leaderboard.runs[0]
        assert run.stopped and 1 <= run.steps < 200
        assert run.config == LeNetConfig()  # the run kept the config it started with
        assert "stopped early" in lab.status.value and "(stopped)" in lab.board_html.value
    finally:
        lab.stop()
        lab.wait(WAIT)
        lab.close()


def test_a_failure_in_training_is_a_message_not_a_traceback(lab, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(importlib.import_module("lenet_utils.widgets.layer_lab"), "train_variant", broken)
    assert lab.train(wait=True, timeout=WAIT) is None
    assert "Training failed: RuntimeError: out of memory" in lab.status.value
    assert "lenet-lab-error" in lab.status.value
    assert not lab.train_button.disabled and len(lab.leaderboard) == 0


def test_missing_mnist_is_explained_in_the_lab(monkeypatch):
    def unavailable(split="train", **kwargs):
        raise MNISTUnavailable("MNIST is not in /x. Set LENET_MNIST_DIR to a folder holding the four IDX files.")

    monkeypatch.setattr("lenet_utils.data.load_mnist", unavailable)
    lab = LayerLab(table=None, device="cpu")
    try:
        assert lab.train(wait=True, timeout=WAIT) is None
        assert "MNIST is not available" in lab.status.value and "LENET_MNIST_DIR" in lab.status.value
    finally:
        lab.close()


def test_runs_are_saved_to_and_loaded_from_a_file(lab, tmp_path):
    lab.train(wait=True, timeout=WAIT)
    path = tmp_path / "runs.json"
    lab.path.value = str(path)
    lab.save_button.click()
    assert "Saved 1 run(s)" in lab.file_message.value and path.is_file()
    assert json.loads(path.read_text())["runs"][0]["name"] == "run 1"

    lab.load(path)  # its own runs back: nothing doubles
    assert len(lab.leaderboard) == 1 and "(1 already here)" in lab.file_message.value

    other = LayerLab(train=separable(512), val=separable(128, seed=1), table=None, runs_path=path)
    try:
        other.load_button.click()
        assert "Loaded 1 run(s)" in other.file_message.value
        assert [r.name for r in other.leaderboard.runs] == ["runs/run 1"]  # named after its file
        assert "runs/run 1" in other.board_html.value
        other.load()  # the same file again: nothing doubles
        assert len(other.leaderboard) == 1 and "already here" in other.file_message.value
        run = other.train(wait=True, timeout=WAIT)  # this lab's own first run is its "run 1"
        assert run.name == "run 1" and len(other.leaderboard) == 2
    finally:
        other.close()


def test_a_bad_runs_file_is_a_message(lab, tmp_path):
    bad = tmp_path / "runs.json"
    bad.write_text("{oops")
    lab.load(bad)
    assert "Could not load" in lab.file_message.value and "not valid JSON" in lab.file_message.value
    lab.load(tmp_path / "missing.json")
    assert "does not exist" in lab.file_message.value
    lab.save(tmp_path)  # a folder
    assert "Could not save" in lab.file_message.value and "is a folder" in lab.file_message.value
    assert len(lab.leaderboard) == 0


def test_with_the_variants_table_a_run_is_compared_against_it():
    ref = LeNetConfig()
    table = VariantTable([VariantResult("reference", "", ref, 61_706, 416_520, [0.5, 0.6], [1.0, 1.0], [2.3, 2.0]),
                          VariantResult("max-pool", "", LeNetConfig(pool="max"), 61_706, 416_520, [0.7, 0.8],
                                        [1.0, 1.0], [2.3, 1.9])],
                         steps=2, batch_size=128, seeds=[0, 1], meta={"train_size": 512})
    lab = LayerLab(train=separable(512), val=separable(128, seed=1), table=table, device="cpu")
    try:
        lab.set(pool="max")
        assert "In the variants table as <b>max-pool</b>" in lab.summary_html.value
        run = lab.train(wait=True, timeout=WAIT)
        assert "table reference: 55.00%" in lab.status.value
        assert "table &#x27;max-pool&#x27; (the same config): 75.00%" in lab.status.value
        delta = f"{100 * (run.val_acc - 0.55):+.2f}"
        assert delta in lab.board_html.value and "vs table reference" in lab.board_html.value
    finally:
        lab.close()


def test_the_lab_loads_the_committed_table_by_default():
    lab = layer_lab()
    try:
        assert isinstance(lab.table, VariantTable) and lab.table.steps == lab.steps
        assert lab.budget_label.value == "= 215 batches of 128 (the variants table's budget)"
        lab.budget.value = 0.25
        assert "the variants table used 215: compare with care" in lab.budget_label.value
        assert isinstance(lab.leaderboard, Leaderboard) and lab.leaderboard.table is lab.table
    finally:
        lab.close()


def diagram_texts(lab) -> list[str]:
    """The words of the lab's network picture (its SVG, inside the diagram's HTML)."""
    import xml.etree.ElementTree as ET

    html = lab.diagram.value
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    return [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_the_diagram_shows_the_network_and_follows_every_change(lab):
    shown = diagram_texts(lab)
    assert shown[0] == "LeNet-5: 61,706 parameters" and "6×28×28" in shown and "16×5×5" in shown
    lab.controls["conv1_channels"].value = 12
    shown = diagram_texts(lab)
    assert "12×28×28" in shown and "6×28×28" not in shown
    assert f"{layer_summary(LeNetConfig(conv1_channels=12)).total_params:,} parameters" in shown[0]
    lab.controls["fc_widths"].value = ""                            # no hidden Linear: flatten -> fc1 -> 10
    shown = diagram_texts(lab)
    assert "fc1" in shown and "fc2" not in shown and "fc_widths=()" in shown[0]
    lab.reset()
    assert diagram_texts(lab)[0] == "LeNet-5: 61,706 parameters"


def test_an_impossible_config_fades_the_last_diagram_instead_of_removing_it(lab):
    lab.controls["conv1_channels"].value = 10
    drawn = diagram_texts(lab)
    lab.controls["conv2_kernel"].value = 15
    assert "lenet-lab-diagram-faded" in lab.diagram.value and "cannot be built" in lab.diagram.value
    assert diagram_texts(lab) == drawn                              # the last network that could be built
    lab.controls["conv2_kernel"].value = 3
    assert "faded" not in lab.diagram.value and "16×12×12" in diagram_texts(lab)
