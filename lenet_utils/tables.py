"""Tables as text, HTML and Markdown: the one formatter behind every table the package shows.

Introduced in notebook 02 (``layer_summary``); the doctor (notebook 01) and the layer lab's
leaderboard and variants table (notebook 06) print through it too.

A table is its column names and rows of cells, already formatted as strings; ``right`` holds the
indices of the columns whose numbers line up on the right. ``footer`` rows (a total) come after a
second rule in text and at the end of the body in HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Sequence

Cells = Sequence[str]


def text_table(columns: Cells, rows: Sequence[Cells], right: Collection[int] = (),
               footer: Sequence[Cells] = ()) -> str:
    """Each column as wide as its widest cell, two spaces apart, a rule under the header."""
    widths = [max(len(r[i]) for r in [columns, *rows, *footer]) for i in range(len(columns))]

    def line(cells: Cells) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(columns))
    return "\n".join([line(columns), rule, *map(line, rows), *([rule, *map(line, footer)] if footer else [])])


def html_table(columns: Cells, rows: Sequence[Cells], right: Collection[int] = (), footer: Sequence[Cells] = (),
               css: str = "", nowrap: bool = True, style: Callable[[Cells, int], str] | None = None) -> str:
    """A ``<table class=css>``; ``nowrap`` keeps each cell on one line (a wrapped column of short
    settings is unreadable; sentences, such as the doctor's, may wrap). ``style(row, i)`` adds CSS
    to column ``i`` of a body row (the doctor colours its status)."""
    wrap = "white-space:nowrap;" if nowrap else ""

    def cell(tag: str, i: int, text: str, extra: str = "") -> str:
        align = "right" if i in right else "left"
        return f'<{tag} style="padding:2px 8px;{wrap}text-align:{align}{extra}">{html.escape(text)}</{tag}>'

    def extra(row: Cells, i: int) -> str:
        return f";{style(row, i)}" if style is not None and style(row, i) else ""

    head = "".join(cell("th", i, c) for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(cell("td", i, c, extra(r, i)) for i, c in enumerate(r)) + "</tr>" for r in rows)
    foot = "".join("<tr>" + "".join(cell("th", i, c) for i, c in enumerate(r)) + "</tr>" for r in footer)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table>"


def markdown_table(columns: Cells, rows: Sequence[Cells], right: Collection[int] = ()) -> str:
    """A GitHub-flavoured Markdown table; ``|`` inside a cell is escaped."""
    def line(cells: Cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = "| " + " | ".join("---:" if i in right else "---" for i in range(len(columns))) + " |"
    return "\n".join([line(columns), align, *map(line, rows)])


def points(x: float | None) -> str:
    """A difference of accuracies in percentage points, signed: ``+0.25``; ``-`` when there is none."""
    return "-" if x is None else f"{100 * x:+.2f}"
