"""The architecture diagram (lenet_utils.lessons.diagram): the right columns for any config, drawn as valid SVG."""

import xml.etree.ElementTree as ET

import pytest

from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.lessons.diagram import architecture_blocks, architecture_diagram
from lenet_utils.model import LeNet5
from lenet_utils.summary import layer_summary

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    """Every piece of text in the picture, in drawing order (also checks the SVG parses)."""
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_reference_is_lecuns_picture_with_this_courses_shapes():
    blocks = architecture_blocks()
    assert [(b.name, b.shape_text) for b in blocks] == [
        ("input", "1×28×28"), ("conv1", "6×28×28"), ("pool1", "6×14×14"), ("conv2", "16×10×10"),
        ("pool2", "16×5×5"), ("flatten", "400"), ("fc1", "120"), ("fc2", "84"), ("fc3", "10")]
    assert [b.params for b in blocks] == [0, 156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert [b.op for b in blocks] == ["", "5×5 conv, pad same", "2×2 avg pool, then relu", "5×5 conv",
                                      "2×2 avg pool, then relu", "flatten", "full", "full", "full"]


def test_the_picture_shows_every_shape_and_parameter_count():
    diagram = architecture_diagram()
    shown = texts(diagram.svg)
    assert shown[0] == "LeNet-5: 61,706 parameters"
    for block in architecture_blocks():
        assert block.name in shown and block.shape_text in shown
        if block.params:
            assert f"{block.params:,} params" in shown
    assert diagram._repr_svg_() == diagram.svg
    assert "conv1 6×28×28 -> pool1 6×14×14" in repr(diagram)


def test_a_model_draws_like_its_config():
    assert architecture_diagram(LeNet5()).svg == architecture_diagram(LeNetConfig()).svg
    config = LeNetConfig(conv2_channels=32, pool="max")
    assert architecture_diagram(LabNet(config)).svg == architecture_diagram(config).svg


@pytest.mark.parametrize("config", [
    LeNetConfig(conv1_channels=12),
    LeNetConfig(conv1_kernel=3, conv1_padding=0),
    LeNetConfig(pool="max", activation="tanh"),
    LeNetConfig(fc_widths=(200,), fc_activation="relu", dropout=0.25),
    LeNetConfig(fc_widths=()),
    LeNetConfig(conv1_channels=64, conv2_channels=64, fc_widths=(8192, 16)),
    LeNetConfig(activation="none"),
])
def test_any_config_draws_its_own_shapes(config):
    summary = layer_summary(config)
    blocks = architecture_blocks(config)
    drawn_rows = [r for r in summary if r.name in {b.name for b in blocks}]
    assert [b.shape for b in blocks] == [tuple(r.output_shape[1:]) for r in drawn_rows]
    assert sum(b.params for b in blocks) == summary.total_params       # activations and dropout hold none
    assert blocks[-1].shape == (10,) and blocks[0].name == "input"
    shown = texts(architecture_diagram(config).svg)
    assert config.describe_changes() in shown[0] and f"{summary.total_params:,} parameters" in shown[0]
    assert architecture_diagram(config).svg != architecture_diagram().svg


def test_activations_and_dropout_are_written_on_the_arrows():
    blocks = {b.name: b for b in architecture_blocks(LeNetConfig(activation="tanh", fc_widths=(200,),
                                                                 fc_activation="relu", dropout=0.25))}
    assert blocks["pool1"].op == "2×2 avg pool, then tanh"
    assert blocks["fc1"].op == "full, then relu"
    assert blocks["fc2"].op == "dropout 0.25, full"
    assert "relu" not in " ".join(b.op for b in architecture_blocks(LeNetConfig(activation="none")))


def test_many_maps_are_drawn_as_a_bounded_stack():
    """64 maps are 8 sheets (the label gives the number): the picture stays the same size."""
    wide = ET.fromstring(architecture_diagram(LeNetConfig(conv1_channels=64)).svg)
    narrow = ET.fromstring(architecture_diagram(LeNetConfig(conv1_channels=8)).svg)
    assert len(list(wide.iter(f"{SVG}rect"))) == len(list(narrow.iter(f"{SVG}rect")))
    assert "64×28×28" in texts(ET.tostring(wide, encoding="unicode"))


def test_a_given_title_and_summary_are_used():
    summary = layer_summary(LeNetConfig())
    diagram = architecture_diagram(LeNetConfig(), title="the <reference>", summary=summary)
    assert texts(diagram.svg)[0] == "the <reference>"                  # escaped in the SVG, parsed back
    assert architecture_blocks(LeNetConfig(), summary) == architecture_blocks()


def test_the_same_picture_as_png_and_on_matplotlib_axes():
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from lenet_utils.lessons.diagram import HEIGHT, plot_architecture

    diagram = architecture_diagram()
    png = Image.open(io.BytesIO(diagram._repr_png_()))
    assert png.size == (round(diagram.width * 2), HEIGHT * 2)          # 144 dpi: twice the SVG's pixels
    fig, ax = plt.subplots()
    try:
        assert plot_architecture(LeNetConfig(pool="max"), ax=ax) is ax
        shown = [t.get_text() for t in ax.texts if t.get_text()]      # (the arrows are empty annotations)
        assert shown[0] == "LeNet-5, pool=max: 61,706 parameters" and "16×5×5" in shown
        assert shown == texts(architecture_diagram(LeNetConfig(pool="max")).svg)   # the SVG's words, in order
        assert len(ax.patches) == len(ET.fromstring(architecture_diagram(LeNetConfig(pool="max")).svg)
                                      .findall(f"{SVG}rect"))
    finally:
        plt.close(fig)
