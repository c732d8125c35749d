"""The doctor's report (notebook 01's first cell): one check per line with what was found and,
for a problem, its fix; printed as a table, shown as HTML in a notebook."""

from __future__ import annotations

import html
from dataclasses import dataclass

from .tables import html_table, text_table

OK, WARN, FAIL = "ok", "warning", "problem"
COLORS = {OK: "#2e7d32", WARN: "#ef6c00", FAIL: "#c62828"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str     # ok | warning | problem
    detail: str     # what was found
    fix: str = ""   # what to do about it (empty when ok)


class DoctorReport:
    """The checks in order; ``.ok`` is False when any is a problem. Prints as text, shows as HTML."""

    def __init__(self, checks: list[Check]):
        self.checks = checks

    @property
    def ok(self) -> bool:
        """No problems (warnings allowed)."""
        return all(c.status != FAIL for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; there are {', '.join(c.name for c in self.checks)}")

    def summary(self) -> str:
        problems, warnings = len(self.problems), sum(c.status == WARN for c in self.checks)
        if problems:
            return f"{problems} problem(s) to fix" + (f", {warnings} warning(s)" if warnings else "")
        return "all good: ready for the course" + (f" ({warnings} warning(s) to read)" if warnings else "")

    def __str__(self) -> str:
        rows = []
        for c in self.checks:
            rows.append((c.status, c.name, c.detail))
            if c.fix:
                rows.append(("", "", f"fix: {c.fix}"))   # under what was found, where the eye already is
        return text_table(("status", "check", "found"), rows) + "\n" + self.summary()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [(c.status, c.name, c.detail, c.fix) for c in self.checks]
        table = html_table(("status", "check", "found", "fix"), rows, css="lenet-doctor", nowrap=False,
                           style=lambda row, i: f"color:{COLORS[row[0]]};font-weight:bold" if i == 0 else "")
        return table + f"<p><b>{html.escape(self.summary())}</b></p>"
