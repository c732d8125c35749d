"""The predict panel's card sizes in every state and window width (issue 14: a steady panel).

    python benchmarks/panel_layout.py                 # about 2 minutes on 2 cores
    python benchmarks/panel_layout.py --out /tmp/panel_layout.json

The same measurement as ``tests/browser/test_predict_panel_browser.py`` (both call
``tests/browser/panel_states.py``): JupyterLab in headless Chromium, its file browser open, a
notebook holding only the panel (``predict_panel()``, as notebook 05 builds it). The panel is put
through each state (empty, an answer, unsure, not a digit, an error, look inside) and at each
window width (900, 1200, 1400, 1600 px) every card's box is read: x and y relative to the cards'
row, width and height in CSS pixels, and whether anything in it is cut off. A steady panel has one
set of boxes per width, whatever the state.

Prints a table and writes ``benchmarks/results/panel_layout.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "panel_layout.json"
DRIVERS = REPO / "tests" / "browser"                  # lab.py and panel_states.py: the tests' own drivers

PANEL_CELL = "from lenet_utils.widgets import predict_panel\n\npanel = predict_panel()\npanel"


def driver(name: str):
    """``tests/browser/<name>.py`` as the module ``name`` (panel_states imports lab by that name)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DRIVERS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def run(out: Path) -> dict:
    import nbformat
    from playwright.sync_api import sync_playwright

    lab_, states = driver("lab"), driver("panel_states")
    chromium_path, open_notebook, run_all_cells = lab_.chromium_path, lab_.open_notebook, lab_.run_all_cells
    CARDS, STATES, WIDTHS = states.CARDS, states.STATES, states.WIDTHS

    base = Path(tempfile.mkdtemp(prefix="panel-layout-"))
    source = base / "src"
    source.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PANEL_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source / "panel.ipynb")
    started = time.monotonic()
    lab = lab_.start_jupyterlab(base / "lab", source=source)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            open_notebook(page, lab, "panel.ipynb")
            states.open_file_browser(page)
            run_all_cells(page)
            panel = page.locator(".lenet-panel")
            panel.scroll_into_view_if_needed()
            sizes = states.measure(page, panel, base)
            browser.close()
    finally:
        lab_.stop_jupyterlab(lab)
    steady = {str(w): all(sizes[w][s] == sizes[w][STATES[0]] for s in STATES) for w in WIDTHS}
    results = {
        "what": "predict panel card boxes (CSS px) per window width and state, JupyterLab with the file browser open",
        "cards": list(CARDS), "states": list(STATES), "widths": list(WIDTHS),
        "sizes": {str(w): sizes[w] for w in WIDTHS},
        "steady_per_width": steady,
        "clipped_anywhere": any(b["clipped"] for w in WIDTHS for s in STATES for b in sizes[w][s].values()),
        "one_row": {str(w): len({sizes[w][STATES[0]][c]["y"] for c in CARDS}) == 1 for w in WIDTHS},
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    return results


def table(results: dict) -> str:
    head = "".join(f"{c + ' (x, y, w, h)':<26}" for c in results["cards"])
    lines = [f"{'width':>6}  {'steady':<7}{'one row':<8}{head}"]
    for w in results["widths"]:
        boxes = results["sizes"][str(w)][results["states"][0]]
        cells = "".join(f"{str((b['x'], b['y'], b['width'], b['height'])):<26}" for b in boxes.values())
        steady, one_row = results["steady_per_width"][str(w)], results["one_row"][str(w)]
        lines.append(f"{w:>6}  {str(steady):<7}{str(one_row):<8}{cells}")
    lines.append(f"anything cut off: {results['clipped_anywhere']}; {results['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args(argv)
    print(table(run(args.out)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
