"""What every result file records about the code it measured: the commit, and whether it differed.

Torch-free, so the scripts that time processes of their own (classroom.py, term_e2e.py, by_hand.py)
can use it without importing PyTorch.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = "benchmarks/results"      # relative to a checkout's root


def git_commit(checkout: Path = REPO) -> str:
    """``checkout``'s short commit, ``+changes`` when the code that ran was not exactly that commit:
    a tracked file edited, or a new file git would see (an untracked module is code that ran too;
    ignored files, such as build outputs, are not). Result files (RESULTS_DIR) are outputs, not code:
    a benchmark rewritten earlier in the same session does not make the next one "+changes".
    ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30)
        if head.returncode != 0:
            return "unknown"
        changes = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=normal",
                                  "--", ".", f":(exclude){RESULTS_DIR}"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+changes" if changes else "")
