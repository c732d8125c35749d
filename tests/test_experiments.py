"""lenet_utils.lessons.experiments: run records, the leaderboard and its files, the variants table."""

import json
import math

import matplotlib.pyplot as plt
import pytest
from toydata import separable

from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.lessons.experiments import (
    DEFAULT_BUDGET,
    REFERENCE_VARIANTS,
    STEPS_PER_EPOCH,
    Leaderboard,
    RunFileError,
    RunRecord,
    VariantResult,
    VariantTable,
    budget_steps,
    default_runs_path,
    load_runs,
    load_variant_table,
    run_variants,
    train_variant,
)
from lenet_utils.lessons.plots import plot_runs
from lenet_utils.model import count_parameters
from lenet_utils.summary import layer_summary

VARIANT = {v.name: v for v in REFERENCE_VARIANTS}


def record(config=None, acc=0.9, steps=DEFAULT_BUDGET, seed=0, name="", train_size=55_000, **kw) -> RunRecord:
    config = config or LeNetConfig()
    table = layer_summary(config)
    return RunRecord(config=config, steps=steps, budget=kw.pop("budget", steps), seed=seed, val_acc=acc,
                     val_loss=0.3, seconds=1.5, params=table.total_params, macs=table.total_macs,
                     losses=kw.pop("losses", [2.3, 1.0, 0.5]), name=name, train_size=train_size, **kw)


def table_of(rows: dict[str, tuple[LeNetConfig, list[float]]], steps=DEFAULT_BUDGET) -> VariantTable:
    results = [VariantResult(name, "why", cfg, layer_summary(cfg).total_params, layer_summary(cfg).total_macs,
                             accs, [1.0] * len(accs), [2.3, 1.0]) for name, (cfg, accs) in rows.items()]
    return VariantTable(results, steps, 128, list(range(len(next(iter(rows.values()))[1]))),
                        {"train_size": 55_000, "val_size": 5_000, "threads": 2, "device": "cpu"})


# --- budgets and training -------------------------------------------------------------------
def test_budget_steps_turns_epochs_into_batches():
    assert STEPS_PER_EPOCH == 430
    assert budget_steps(1.0) == 430
    assert budget_steps(0.5) == DEFAULT_BUDGET == 215  # half an epoch
    assert budget_steps(0.01) == 4
    assert budget_steps(0.0001) == 1  # never zero
    assert budget_steps(0.5, train_size=512) == 2
    for bad in (0, -1, "half", True, None):
        with pytest.raises(ValueError, match="positive number of epochs"):
            budget_steps(bad)


def test_train_variant_trains_for_the_budget_and_scores_the_validation_split():
    train, val = separable(512), separable(128, seed=1)
    run = train_variant(LeNetConfig(pool="max"), steps=6, seed=0, train=train, val=val, device="cpu")
    assert run.steps == run.budget == 6 and not run.stopped
    assert len(run.losses) == 6 and all(math.isfinite(v) for v in run.losses)
    assert run.params == count_parameters(LabNet(pool="max")) == 61_706
    assert run.macs == layer_summary(LeNetConfig(pool="max")).total_macs
    assert 0.0 <= run.val_acc <= 1.0 and run.val_loss > 0 and run.seconds > 0
    assert run.changes == "pool=max" and run.train_size == 512
    assert run.steps * run.batch_size == 6 * 128  # 1.5 passes over the 512 images


def test_train_variant_is_reproducible_and_seeds_differ():
    train, val = separable(256), separable(64, seed=1)
    a = train_variant(None, steps=3, seed=0, train=train, val=val, device="cpu")
    b = train_variant(None, steps=3, seed=0, train=train, val=val, device="cpu")
    c = train_variant(None, steps=3, seed=1, train=train, val=val, device="cpu")
    assert a.losses == b.losses and a.val_acc == b.val_acc
    assert c.losses != a.losses


def test_train_variant_spans_epochs_when_the_budget_needs_them():
    run = train_variant(None, steps=5, train=separable(256), val=separable(64, seed=1), device="cpu")
    assert run.steps == 5  # 2 batches per epoch: 3 epochs, cut at 5 batches


def test_train_variant_learns_the_toy_task():
    run = train_variant(None, steps=24, train=separable(512), val=separable(256, seed=1), device="cpu")
    assert run.val_acc > 0.9
    assert sum(run.losses[-3:]) / 3 < run.losses[0]


def test_a_step_callback_returning_false_stops_and_the_record_says_so():
    seen = []

    def stop_after_two(history):
        seen.append(history.steps_done)
        return history.steps_done < 2

    run = train_variant(None, steps=10, train=separable(512), val=separable(64, seed=1),
                        step_callback=stop_after_two, device="cpu")
    assert seen == [1, 2]
    assert run.steps == 2 and run.budget == 10 and run.stopped


def test_train_variant_refuses_bad_arguments_clearly():
    with pytest.raises(ValueError, match="whole number of batches"):
        train_variant(None, steps=0, train=separable(), val=separable())
    with pytest.raises(TypeError, match="LeNetConfig"):
        train_variant({"pool": "max"}, steps=1, train=separable(), val=separable())


@pytest.mark.mnist
def test_train_variant_defaults_to_mnist(mnist_ready):
    run = train_variant(None, steps=2, device="cpu")
    assert run.train_size == 55_000 and run.steps == 2
    assert 0.0 < run.val_acc < 1.0


# --- records, the leaderboard and its files -------------------------------------------------
def test_run_record_round_trips_through_a_dict():
    run = record(LeNetConfig(fc_widths=(64,), activation="tanh"), acc=0.95, name="run 2", losses=[2.3, 0.123456789])
    back = RunRecord.from_dict(json.loads(json.dumps(run.to_dict())))
    assert back.config == run.config and back.config.fc_widths == (64,)
    assert back.val_acc == 0.95 and back.name == "run 2" and back.losses == [2.3, 0.12346]
    assert back.changes == "activation=tanh, fc_widths=(64)"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("val_acc"), "lacks val_acc"),
    (lambda d: d.update(test_acc=d.pop("val_acc")), "saved before the validation split"),
    (lambda d: d.update(config={"conv2_kernel": 15}), "conv2_kernel"),
    (lambda d: d.update(config={"wings": 2}), "wings"),
    (lambda d: d.update(config=[1, 2]), "JSON object"),
    (lambda d: d.update(steps="many"), "'steps' must be a whole number"),
    (lambda d: d.update(val_acc="high"), "'val_acc' must be a number"),
    (lambda d: d.update(losses="down"), "'losses' must be a list"),
])
def test_run_record_from_dict_names_the_bad_field(change, message):
    values = record().to_dict()
    change(values)
    with pytest.raises(ValueError, match=message):
        RunRecord.from_dict(values)


def test_leaderboard_ranks_best_first_and_names_runs():
    board = Leaderboard()
    assert str(board) == "no runs yet" and "No runs yet" in board._repr_html_()
    board.add(record(acc=0.95))
    board.add(record(LeNetConfig(pool="max"), acc=0.97))
    board.add(record(LeNetConfig(conv1_channels=3, conv2_channels=8), acc=0.97))  # tie: smaller first
    assert [r.name for r in board] == ["run 1", "run 2", "run 3"]
    assert [r.name for r in board.ranked()] == ["run 3", "run 2", "run 1"]
    rows = board.rows()
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[1]["changes from reference"] == "pool=max"
    text = str(board)
    assert "pool=max" in text and "97.00%" in text and "vs table reference" not in text
    assert "conv1_channels=3, conv2_channels=8" in board._repr_html_()
    with pytest.raises(TypeError, match="RunRecords"):
        board.add({"val_acc": 1.0})


def test_leaderboard_with_a_table_shows_the_difference_from_the_table_reference():
    table = table_of({"reference": (LeNetConfig(), [0.95, 0.96]), "max-pool": (LeNetConfig(pool="max"), [0.97, 0.98])})
    board = Leaderboard([record(LeNetConfig(pool="max"), acc=0.975), record(acc=0.99, steps=50)], table=table)
    rows = {r["run"]: r for r in board.rows()}
    assert rows["run 1"]["vs table reference"] == pytest.approx(0.975 - 0.955)
    assert rows["run 2"]["vs table reference"] is None  # another budget: not comparable
    text = str(board)
    assert "+2.00" in text and "95.50%" in text  # the delta in points, the table reference in the footnote


def test_leaderboard_saves_and_loads(tmp_path):
    board = Leaderboard([record(acc=0.9), record(LeNetConfig(pool="max"), acc=0.97)])
    path = board.save(tmp_path / "sub" / "runs.json")
    assert path.is_file() and not list(path.parent.glob("*.part"))  # written atomically, folders made
    loaded = Leaderboard.load(path)
    assert [r.to_dict() for r in loaded] == [r.to_dict() for r in board]
    assert load_runs(path)[1].config.pool == "max"


def test_default_runs_path_is_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    assert default_runs_path() == tmp_path / "runs" / "layer_lab.json"
    Leaderboard([record()]).save()
    assert (tmp_path / "runs" / "layer_lab.json").is_file()


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("{not json", "not valid JSON \\(line 1"),
    ('{"runs": []}', "is not a runs file"),
    ('{"format": "lenet-utils-variants", "version": 1}', "its format is 'lenet-utils-variants'"),
    ('[1, 2]', "is not a runs file"),
    ('{"format": "lenet-utils-runs", "version": 99, "runs": []}', "version 99"),
    ('{"format": "lenet-utils-runs", "version": 1, "runs": {}}', "'runs' must be a list"),
    ('{"format": "lenet-utils-runs", "version": 1, "runs": [{"steps": 1}]}', "run 1 is unusable: the run lacks"),
])
def test_loading_a_bad_runs_file_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "runs.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RunFileError, match=message) as err:
        load_runs(path)
    assert str(path) in str(err.value)


def test_a_run_with_an_impossible_config_is_refused_naming_the_setting(tmp_path):
    bad = record().to_dict()
    bad["config"]["conv1_kernel"] = 40
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"format": "lenet-utils-runs", "version": 1, "runs": [record().to_dict(), bad]}))
    with pytest.raises(RunFileError, match="run 2 is unusable: its config is impossible: conv1_kernel"):
        load_runs(path)


def test_binary_files_and_folders_are_refused(tmp_path):
    (tmp_path / "runs.json").write_bytes(b"\x80\x81\xff")
    with pytest.raises(RunFileError, match="not a text file"):
        load_runs(tmp_path / "runs.json")
    with pytest.raises(RunFileError, match="is a folder"):
        load_runs(tmp_path)
    with pytest.raises(RunFileError, match="is a folder"):
        Leaderboard([record()]).save(tmp_path)


# --- the variants table ---------------------------------------------------------------------
def test_reference_variants_are_valid_and_distinct():
    names = [v.name for v in REFERENCE_VARIANTS]
    assert names[0] == "reference" and len(set(names)) == len(names)
    assert REFERENCE_VARIANTS[0].config == LeNetConfig()
    assert len({v.config for v in REFERENCE_VARIANTS}) == len(REFERENCE_VARIANTS)
    for wanted in ("relu-between-linear", "max-pool", "tanh-1998", "twice-the-channels"):
        assert VARIANT[wanted].config != LeNetConfig()
    assert VARIANT["relu-between-linear"].config.describe_changes() == "fc_activation=relu"


def test_comparison_with_the_table():
    table = table_of({"reference": (LeNetConfig(), [0.950, 0.960]),
                      "max-pool": (LeNetConfig(pool="max"), [0.97, 0.98])})
    near = table.compare(record(acc=0.958))
    assert near.same_budget and near.delta == pytest.approx(0.003) and not near.beyond_noise
    assert near.same_variant.name == "reference"
    assert "could be luck" in str(near)
    far = table.compare(record(LeNetConfig(pool="max"), acc=0.98))
    assert far.beyond_noise and far.same_variant.name == "max-pool"
    assert "likely a real effect" in str(far) and "table 'max-pool'" in str(far)
    other = table.compare(record(acc=0.99, steps=47))
    assert not other.same_budget and other.delta is None and "not comparable" in str(other)
    subset = table.compare(record(acc=0.99, train_size=512))
    assert not subset.same_budget  # same batch count on another training set is another budget
    assert table.find(LeNetConfig(activation="gelu")) is None


def test_separated_from_reference_uses_non_overlapping_seed_ranges():
    table = table_of({
        "reference": (LeNetConfig(), [0.95, 0.96]),
        "better": (LeNetConfig(pool="max"), [0.965, 0.97]),
        "worse": (LeNetConfig(activation="none"), [0.90, 0.91]),
        "overlaps": (LeNetConfig(activation="tanh"), [0.955, 0.99]),
        "touches": (LeNetConfig(activation="gelu"), [0.96, 0.97]),  # shares 0.96: not separated
    })
    assert table.separated_from_reference() == ["better", "worse"]
    assert table.overlapping("reference") == ["overlaps", "touches"]
    assert table.overlapping("worse") == []


def test_variant_table_renders_and_round_trips(tmp_path):
    table = table_of({"reference": (LeNetConfig(), [0.95, 0.96]), "max-pool": (LeNetConfig(pool="max"), [0.97, 0.98])})
    assert [r.name for r in table.ranked()] == ["max-pool", "reference"]
    assert table["max-pool"].mean_acc == pytest.approx(0.975) and table["max-pool"].spread == pytest.approx(0.01)
    text = str(table)
    assert "max-pool" in text and "97.50%" in text and "+2.00" in text and "215 batches of 128" in text
    md = table.to_markdown()
    assert "| max-pool | pool=max | 61,706 |" in md
    json_path, md_path = table.save(tmp_path / "variants")
    back = VariantTable.load(json_path)
    assert [r.to_dict() for r in back] == [r.to_dict() for r in table]
    assert md_path.read_text() == md
    with pytest.raises(KeyError, match="no variant 'x'"):
        table["x"]
    with pytest.raises(ValueError, match="'reference' row"):
        VariantTable([table["max-pool"]], 215, 128, [0])


def test_a_damaged_table_file_says_how_to_rebuild_it(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format": "lenet-utils-variants", "version": 1, "steps": 215, "batch_size": 128,
                                "seeds": [0], "results": [{"name": "reference"}]}))
    with pytest.raises(RunFileError, match="damaged .*lacks 'config'.*train_variants.py"):
        VariantTable.load(path)


def test_run_variants_trains_every_variant_on_every_seed():
    variants = [REFERENCE_VARIANTS[0], VARIANT["max-pool"]]
    done = []
    table = run_variants(variants, steps=2, seeds=[0, 1], train=separable(256), val=separable(64, seed=1),
                         on_run=lambda v, r: done.append((v.name, r.seed)))
    assert done == [("reference", 0), ("reference", 1), ("max-pool", 0), ("max-pool", 1)]
    assert table.steps == 2 and table.seeds == [0, 1] and len(table) == 2
    assert len(table["reference"].accs) == 2 and len(table["max-pool"].losses) == 2
    assert table.meta["train_size"] == 256 and table.meta["device"] == "cpu"
    with pytest.raises(ValueError, match="'reference' variant"):
        run_variants([VARIANT["max-pool"]], 1, [0], train=separable(), val=separable())


def test_the_committed_table_matches_the_variants_in_the_code():
    """data/variants/results.json is what notebook 06 discusses: it must come from a full run of the
    script over today's variant definitions, not a smoke run or a stale list."""
    table = load_variant_table()
    assert not table.meta.get("smoke"), "the committed table is a smoke run: run scripts/train_variants.py"
    assert table.steps == DEFAULT_BUDGET and table.batch_size == 128 and len(table.seeds) >= 2
    assert table.meta["train_size"] == 55_000 and table.meta["val_size"] == 5_000
    assert [r.name for r in table] == [v.name for v in REFERENCE_VARIANTS]
    for v in REFERENCE_VARIANTS:
        row = table[v.name]
        assert row.config == v.config, f"{v.name}: the table was trained with another config"
        assert row.params == layer_summary(v.config).total_params
        assert len(row.accs) == len(table.seeds) and len(row.losses) == DEFAULT_BUDGET
    assert table.reference.mean_acc > 0.9


def test_plot_runs_draws_one_curve_per_run():
    runs = [record(name="a", losses=[2.3, 1.0, 0.5, 0.2]), record(name="b", losses=[2.3, 2.0]), record(losses=[])]
    ax = plot_runs(runs, smooth=2, highlight="a: reference")
    assert [line.get_label() for line in ax.get_lines()] == ["a: reference", "b: reference"]
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([2.3, 1.65, 0.75, 0.35])
    assert ax.get_lines()[0].get_linewidth() > ax.get_lines()[1].get_linewidth()
    assert ax.get_yscale() == "log"
    plt.close(ax.figure)
    _, given = plt.subplots()
    assert plot_runs([], ax=given) is given
    plt.close(given.figure)
