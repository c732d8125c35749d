"""Notebook 06's new sentences (the predict-before-you-run question of section 3) checked against its
outputs, and the layer-lab appendix the lesson points to (issue 29 point 6). Reads the executed notebook,
or nbval's fresh run when LENET_NOTEBOOKS points at it, as in `make test-notebooks`."""

from __future__ import annotations

from pathlib import Path

from test_notebook_claims import markdown, output_matching, percent

from lenet_utils.lessons.exercises import ch06_layer_lab as ch06

NB = "06_layer_lab.ipynb"
APPENDIX = Path(__file__).resolve().parents[1] / "docs" / "appendix" / "layer_lab.md"


def text() -> str:
    return markdown(NB).replace("\n", " ")


def test_the_no_activation_question_quotes_the_reference_and_the_table_answers_it():
    """Section 3: "On this budget the reference reaches about 97%"; the no-activation row's mean falls in
    option "c" (85% to 95%), the one check_predict_no_activation calls right; the check cell is there."""
    ref = output_matching(NB, r"^reference: ([\d.]+%) on average")
    assert round(100 * percent(ref[1])) == 97 and "the reference reaches about 97%" in text()
    row = output_matching(NB, r"^no-activation\s+activation=none\s+[\d,]+\s+[\d,]+\s+([\d.]+%)")
    assert ch06.option_for(percent(row[1]), ch06.NO_ACTIVATION_RANGES) == "c", row[0]
    assert "(c) 85% to 95%" in text() and ch06.NO_ACTIVATION_RANGES["c"] == (0.85, 0.95)
    output_matching(NB, r"^Predict first: `prediction` is still None")


def test_the_button_manual_moved_to_its_appendix():
    """Point 6: section 2 keeps a one-line pointer; the controls, one by one, are in the appendix."""
    assert "[docs/appendix/layer_lab.md](../docs/appendix/layer_lab.md)" in text() and APPENDIX.is_file()
    page = APPENDIX.read_text()
    for moved in ("**save runs** / **load runs**", "**stop**", "data/runs/layer_lab.json", "thin front end"):
        assert moved in page and moved not in text(), moved


def test_the_linear_network_and_the_tables_budget():
    """Section 3: the network without activations "stops near a linear classifier's accuracy (low 90s)": the
    table's no-activation mean; "trained each variant below for the same budget, 215 batches of 128" and "215
    steps amplify that a little": data/variants/results.json's steps."""
    import json

    from test_notebook_claims import REPO, variants_table

    mean = variants_table()["no-activation"]["mean"]
    assert 0.90 <= mean < 0.94 and "linear classifier's accuracy (low 90s)" in text(), mean
    steps = json.loads((REPO / "data" / "variants" / "results.json").read_text())["steps"]
    assert f"for the same budget, {steps} batches of 128" in text() and f"and {steps} steps amplify that" in text()
