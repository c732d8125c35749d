"""Notebook 07's sentences checked against its outputs, and its place in the course."""

from __future__ import annotations

import re

from test_notebook_claims import REPO, markdown, output_matching, outputs


def test_07_published_figures_name_the_right_training_set():
    """Section 1: 58.8% on ARDIS is a CNN trained on MNIST (Kusetogullari et al., 2019); 76.1% on Dig-MNIST
    is a CNN trained on Kannada-MNIST (Prabhu, 2019), not on MNIST."""
    text = markdown("07_class_gallery.ipynb")
    assert "a CNN trained on MNIST reads 58.8% of ARDIS" in text
    assert "trained on *Kannada*-MNIST reads 76.1% of Dig-MNIST" in text
    assert "trained on MNIST: 58.8% on\nARDIS, 76.1% on Dig-MNIST" not in text


def test_07_simulated_confusions_are_called_artefacts():
    """With the demo database, the top confusions are printed and the text calls them the generator's."""
    simulated = output_matching("07_class_gallery.ipynb", r"using a SIMULATED class")
    assert simulated
    lines = re.findall(r"^a (\d) read as (\d): (\d+) times$", "\n".join(outputs("07_class_gallery.ipynb")), re.M)
    assert len(lines) == 3 and all(t != a for t, a, _ in lines)
    assert [int(c) for _, _, c in lines] == sorted((int(c) for _, _, c in lines), reverse=True)
    assert "artefacts of its stroke generator" in markdown("07_class_gallery.ipynb")


def test_07_predict_before_you_run():
    texts = outputs("07_class_gallery.ipynb")
    measured = next(i for i, t in enumerate(texts) if t.startswith("shipped model: MNIST test"))
    assert "`prediction` is still None" in texts[measured + 1]


def test_07_is_in_the_course_navigation_and_the_lesson_plans():
    readme = (REPO / "README.md").read_text()
    teaching = (REPO / "docs" / "teaching.md").read_text()
    assert "07_class_gallery.ipynb" in readme and "07_class_gallery.solutions.ipynb" in readme
    assert "| `07_class_gallery` |" in teaching and "## The class gallery: a lesson plan" in teaching
    for nb in ("01_mnist_data.ipynb", "02_architecture.ipynb", "05_predict_panel.ipynb", "07_class_gallery.ipynb"):
        assert re.search(r"→ (\*\*)?07 class gallery", markdown(nb)), nb


def test_07_the_lesson_plan_quotes_the_notebooks_run():
    """docs/teaching.md's run-through figures are notebook 07's committed output."""
    teaching = " ".join((REPO / "docs" / "teaching.md").read_text().split())
    first = output_matching("07_class_gallery.ipynb",
                            r"shipped model: MNIST test ([\d.]+%); the class's digits ([\d.]+)%")
    after = output_matching("07_class_gallery.ipynb", r"^after\s+([\d.]+)%\s+([\d.]+%)$")
    cls = output_matching("07_class_gallery.ipynb",
                          r"^class: \+(\d+) of (\d+) digits .* standard error ([\d.]+) points$")
    mnist = output_matching("07_class_gallery.ipynb", r"^MNIST: -\d+ of [\d,]+ digits \(-([\d.]+) points\), "
                                                      r"standard error ([\d.]+) points$")
    sigmas = round(float(mnist[1]) / float(mnist[2]))
    claim = (f"The shipped model read {float(first[2]):.1f}% of the simulated digits against {first[1]} of MNIST's "
             f"test set; fine-tuned on {cls[2]} of them it read {float(after[1]):.1f}% of the {cls[2]} held out "
             f"({cls[1]} digits more than before, within the {cls[3]}-point standard error of an accuracy on "
             f"{cls[2]} digits), with MNIST at {after[2]} ({mnist[1]} points lower, about {sigmas} standard errors "
             "on 10,000 digits)")
    assert claim in teaching, claim


def test_07_solutions_read_the_writer_split_with_its_standard_error():
    """The solutions' discussion: the writer split's gain "came out larger than the lesson's", and "both
    changes are within about two standard errors of zero and of each other"."""
    lesson = output_matching("07_class_gallery.ipynb", r"^class: ([+-]\d+) of (\d+) digits \(([+-][\d.]+) points\), "
                                                       r"standard error ([\d.]+) points$")
    writers = output_matching("07_class_gallery.solutions.ipynb",
                              r"^new writers: before [\d.]+%, after [\d.]+%: ([+-]\d+) of (\d+) digits, "
                              r"standard error ([\d.]+) points$")
    d_lesson, n_lesson, se_lesson = int(lesson[1]), int(lesson[2]), float(lesson[4])
    d_writers, n_writers, se_writers = int(writers[1]), int(writers[2]), float(writers[3])
    assert d_writers > d_lesson, (lesson[0], writers[0])
    assert abs(d_lesson) * 100 / n_lesson <= 2 * se_lesson and abs(d_writers) * 100 / n_writers <= 2 * se_writers
    gap = abs(d_writers / n_writers - d_lesson / n_lesson) * 100
    assert gap <= 2 * (se_lesson ** 2 + se_writers ** 2) ** 0.5
    text = " ".join(markdown("07_class_gallery.solutions.ipynb").split())
    assert "Here it came out larger than the lesson's" in text
    assert "both changes are within about two standard errors of zero and of each other" in text


def _text(notebook: str = "07_class_gallery.ipynb") -> str:
    return " ".join(markdown(notebook).split())


def _code(notebook: str = "07_class_gallery.ipynb") -> str:
    import nbformat
    from test_notebook_claims import NOTEBOOKS

    return "\n".join(c.source for c in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells if c.cell_type == "code")


def test_07_the_numbers_the_text_quotes():
    """Section 1: "reads MNIST's test digits at over 99%" (and the summary's "A model with 99% on MNIST"), "a
    *simulated* class: 32 students", as printed and as the code calls simulate_class; the dashboard "re-reads the
    database every 3 seconds", as the code asks it to; section 2: "An accuracy measured on 160 digits has a standard
    error of about 2 points", as printed."""
    found = output_matching("07_class_gallery.ipynb",
                            r"shipped model: MNIST test ([\d.]+)%; the class's digits [\d.]+% \((\d+) digits\)")
    text = _text()
    assert 99 <= float(found[1]) < 100, found[0]
    assert "reads MNIST's test digits at over 99%." in text and "* A model with 99% on MNIST reads a new set" in text
    writers = int(re.search(r"simulate_class\(writers=(\d+)", _code())[1])
    assert int(found[2]) == writers * 10 and f"a *simulated* class: {writers} students drawing every digit" in text
    every = int(re.search(r"class_dashboard\(.*every=(\d+)\)", _code())[1])
    assert f"re-reads the database every {every} seconds" in text
    cls = output_matching("07_class_gallery.ipynb", r"^class: [+-]\d+ of (\d+) digits .* standard error ([\d.]+) "
                                                    r"points$")
    n, se = int(cls[1]), float(cls[2])
    assert f"An accuracy measured on {n} digits has a standard error of about {round(se)} points" in text
    assert f"one split of {n} digits cannot tell" in text and f"on {n} digits, what size of change" in text


def test_07_solutions_quote_the_writer_splits_standard_error():
    """The solutions: "On 160 held-out digits an accuracy is uncertain by about 2 points", as printed."""
    found = output_matching("07_class_gallery.solutions.ipynb",
                            r"^new writers: .*: [+-]\d+ of (\d+) digits, standard error ([\d.]+) points$")
    assert (f"On {found[1]} held-out digits an accuracy is uncertain by about {round(float(found[2]))} points"
            in _text("07_class_gallery.solutions.ipynb"))
