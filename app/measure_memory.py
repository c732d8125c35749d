"""Memory per concurrent visitor of the standalone page, Solara against Voila.

For each tool: start the server, open one visitor in headless Chromium and wait until the panel
shows, note the resident memory of the server and everything it started; open nine more (ten in
all), answer a digit in each, note it again. Per visitor = (memory with 10 - memory with 1) / 9.

    .venv/bin/python app/measure_memory.py            # prints a table; takes 1-3 minutes
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from servers import start, stop, tree_rss  # noqa: E402

VISITORS = 10
MB = 1024 * 1024


def visit(browser, url: str):
    page = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
    page.goto(url, timeout=180_000)
    page.locator(".lenet-panel").wait_for(timeout=180_000)
    page.locator(".lenet-example").click()                     # one answer: the model has run
    page.locator(".lenet-answer[data-label]:not([data-label=''])").wait_for(timeout=180_000)
    return page


def measure(tool: str, browser, log_dir: Path) -> dict:
    server = start(tool, log_dir, env={"LENET_CLASS_DB": str(log_dir / f"{tool}.sqlite")})
    try:
        pages = [visit(browser, server.url)]
        time.sleep(2)
        one = tree_rss(server.process.pid)
        pages += [visit(browser, server.url) for _ in range(VISITORS - 1)]
        time.sleep(3)
        ten = tree_rss(server.process.pid)
        for p in pages:
            p.context.close()
        return {"tool": tool, "one_mb": one / MB, "ten_mb": ten / MB, "per_visitor_mb": (ten - one) / (VISITORS - 1) / MB}
    finally:
        stop(server)


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("LENET_CHROMIUM", "/usr/bin/chromium")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        for tool in sys.argv[1:] or ["solara", "voila"]:
            rows.append(measure(tool, browser, Path(tmp)))
            r = rows[-1]
            print(f"{r['tool']:7s} 1 visitor {r['one_mb']:7.0f} MB   {VISITORS} visitors {r['ten_mb']:7.0f} MB   "
                  f"per extra visitor {r['per_visitor_mb']:6.1f} MB   visitors per GB ~{1024 / max(r['per_visitor_mb'], 0.1):.0f}",
                  flush=True)
        browser.close()


if __name__ == "__main__":
    main()
