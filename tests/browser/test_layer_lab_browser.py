"""The layer lab in a real JupyterLab: run notebook 06, change a control in the rendered widget,
and watch the rendered table and the network's diagram follow. Uses the shared server and browser
fixtures (conftest.py)."""

from __future__ import annotations

from lab import execute_in_kernel, run_notebook
from playwright.sync_api import expect

from lenet_utils.config import LeNetConfig
from lenet_utils.summary import layer_summary

NOTEBOOK = "06_layer_lab.ipynb"


def shown_params(lab) -> int:
    return int(lab.locator(".lenet-lab-params").inner_text().replace(",", ""))


def set_slider(lab, description: str, value: int) -> None:
    """Type into an IntSlider's readout, as a student can: click it, replace the number, press Enter."""
    slider = lab.locator(".widget-slider").filter(has=lab.page.get_by_text(description, exact=True))
    readout = slider.locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.type(str(value))
    readout.press("Enter")


def wait_for_params(lab, expected: int, timeout_s: float = 60) -> None:
    lab.page.wait_for_function(
        """([el, want]) => el && el.textContent.replace(/,/g, '') === String(want)""",
        arg=[lab.locator(".lenet-lab-params").element_handle(), expected], timeout=timeout_s * 1000)


def kernel_value(page, expression: str) -> str:
    return execute_in_kernel(page, f"print({expression})").strip()


def diagram_shapes(lab) -> list[str]:
    """The shapes written in the lab's rendered diagram, e.g. ["1×28×28", "6×28×28", ..., "10"]."""
    texts = lab.locator(".lenet-lab-diagram svg text").all_text_contents()   # (SVG has no innerText)
    return [t for t in texts if t.replace("×", "").isdigit()]


def test_changing_a_control_in_jupyterlab_updates_the_table_and_the_diagram(jupyterlab, browser_page, tmp_path):
    page = browser_page
    run_notebook(page, jupyterlab, NOTEBOOK)

    lab = page.locator(".lenet-layer-lab").first
    lab.scroll_into_view_if_needed()
    lab.locator(".lenet-lab-params").wait_for(state="visible")
    before = shown_params(lab)
    assert before == int(kernel_value(page, "layer_summary(lab.config).total_params"))

    diagram = lab.locator(".lenet-lab-diagram svg")
    diagram.scroll_into_view_if_needed()
    box = diagram.bounding_box()
    assert box["width"] > 400 and box["height"] > 100, box              # drawn at a readable size
    diagram.screenshot(path=str(tmp_path / "layer_lab_diagram.png"))
    assert (tmp_path / "layer_lab_diagram.png").stat().st_size > 2000
    shapes_before = diagram_shapes(lab)
    assert "1×28×28" in shapes_before and shapes_before[-1] == "10"

    set_slider(lab, "conv1 channels", 12)  # browser -> kernel: the control's new value arrives
    page.wait_for_function("() => true")  # let the comm message go out
    expected = LeNetConfig(**{**_settings(page), "conv1_channels": 12})
    wait_for_params(lab, layer_summary(expected).total_params)  # kernel -> browser: the table follows
    assert kernel_value(page, "lab.config.conv1_channels") == "12"
    assert shown_params(lab) > before
    assert "conv1_channels=12" in lab.locator(".lenet-lab-changes").inner_text()
    # the diagram was redrawn: conv1 and pool1 now draw 12 maps
    expect(lab.locator(".lenet-lab-diagram svg text", has_text="12×28×28")).to_have_count(1)
    shapes = diagram_shapes(lab)
    assert shapes != shapes_before and "12×14×14" in shapes
    diagram.screenshot(path=str(tmp_path / "layer_lab_diagram_12_channels.png"))

    set_slider(lab, "conv2 kernel", 15)  # impossible: a message replaces the table
    error = lab.locator(".lenet-lab-error")
    error.wait_for(state="visible", timeout=60_000)
    text = error.inner_text()
    assert "conv2 kernel" in text and "larger than its 14x14 input map" in text
    assert "Traceback" not in lab.inner_text()
    expect(lab.locator(".lenet-lab-diagram-faded")).to_have_count(1)    # the last picture stays, faded
    assert diagram_shapes(lab) == shapes

    set_slider(lab, "conv2 kernel", 5)  # fixed: the table is back
    lab.locator(".lenet-lab-params").wait_for(state="visible", timeout=60_000)
    wait_for_params(lab, layer_summary(expected).total_params)
    expect(lab.locator(".lenet-lab-diagram-faded")).to_have_count(0)
    assert not [e for e in page.console_errors if "widget" in e.lower()], page.console_errors


def _settings(page) -> dict:
    """The lab's current settings, from the kernel."""
    import ast

    values = ast.literal_eval(kernel_value(page, "{k: v for k, v in lab.config.to_dict().items()}"))
    values["fc_widths"] = tuple(values["fc_widths"])
    return values


# The lab's diagram and table as laid out: the diagram's scale (rendered width / its own width) and
# smallest label in CSS px, each box's right edge against the notebook cell's, and whether the box
# that holds each scrolls sideways (its content wider than itself).
_READABLE_JS = """(lab) => {
  const svg = lab.querySelector('.lenet-lab-diagram svg');
  const cell = lab.closest('.jp-Cell').getBoundingClientRect();
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale);
  const held = (el) => { const r = el.getBoundingClientRect(); return {right: Math.round(r.right),
      scrolls: el.scrollWidth > el.clientWidth + 1, overflow_x: getComputedStyle(el).overflowX}; };
  const table = lab.querySelector('.lenet-lab-summary table');
  return {scale, smallest: Math.min(...sizes), cell_right: Math.round(cell.right),
          diagram: held(lab.querySelector('.lenet-lab-diagram').closest('.widget-html')),
          table: {...held(table.closest('.widget-html')), table_width: Math.round(table.scrollWidth)},
          macs_header: !![...table.querySelectorAll('th')].find(th => th.textContent.includes('MACs'))};
}"""


def test_the_lab_is_readable_on_a_projector_at_1366_px_with_the_file_browser_open(jupyterlab, browser_page):
    from panel_states import open_file_browser
    from phone_states import SHOTS

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    run_notebook(page, jupyterlab, NOTEBOOK)
    open_file_browser(page)
    lab = page.locator(".lenet-layer-lab").first
    lab.scroll_into_view_if_needed()
    lab.locator(".lenet-lab-params").wait_for(state="visible")
    page.wait_for_function("(lab) => lab.querySelector('.lenet-lab-summary table')", arg=lab.element_handle())
    seen = lab.evaluate(_READABLE_JS)
    print(f"\nlayer lab at 1366 px, file browser open: {seen}")
    assert abs(seen["scale"] - 1) < 0.01, f"the diagram is scaled to {seen['scale']:.0%}"
    assert seen["smallest"] >= 12, f"its smallest label is {seen['smallest']:.1f} px"
    assert seen["macs_header"]
    for part in ("diagram", "table"):                       # inside the cell, scrolling in its own box if wider
        box = seen[part]
        assert box["right"] <= seen["cell_right"], f"the {part} runs past the notebook cell: {seen}"
        assert not box["scrolls"] or box["overflow_x"] in ("auto", "scroll"), f"the {part} is cut off: {seen}"
    assert not seen["table"]["scrolls"], f"the layer table does not fit at 1366 px (it goes under the controls): {seen}"
    SHOTS.joinpath("1366px").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "1366px" / "layer-lab.png"))
