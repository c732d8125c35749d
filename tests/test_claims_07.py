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
