"""The command line's arguments: every subcommand, option, help text and example.

This module imports nothing heavy (no PyTorch, no numpy), so ``--help`` answers at once; the
commands themselves, in :mod:`lenet_utils.cli.commands`, import what they need when they run.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

SHORT_OPTIONS = {"h"}           # the only one-letter option; "-7.png" is not one of them


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    root_prog = "lenet"         # the program's name as the user typed it: "lenet" or "python -m lenet_utils"
    argv: Sequence[str] = ()    # the arguments being parsed, for the hint below

    def error(self, message: str) -> None:  # argparse prints usage + error; we raise one line
        dashed = [a for a in self.argv if a.startswith("-") and len(a) > 1 and not a.startswith("--")
                  and a[1:2] not in SHORT_OPTIONS]
        if dashed:   # "-7.png" reads as an option: say how to pass it as a file
            message += (f"; a file name starting with '-' goes after `--`, e.g. "
                        f"`{self.root_prog} predict --json -- {dashed[0]}`")
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# (name, one-line help in the command list, description on its own --help page, example)
_COMMANDS = [
    ("train", "train a LeNet-5 and write a checkpoint",
     "Train a LeNet-5 (or a variant of it) on MNIST's 60,000 training digits, print a line per epoch "
     "with\nthe test accuracy, and write a checkpoint that `evaluate` and `predict` can use.",
     "train --epochs 5 --augment --out data/checkpoints/mine.pt"),
    ("evaluate", "test accuracy and a per-class table for a checkpoint",
     "Score a checkpoint on MNIST's 10,000 test digits: accuracy, precision and recall per digit,\n"
     "and the pairs of digits it confuses most.",
     "evaluate --checkpoint data/checkpoints/mine.pt"),
    ("predict", "the digit in each image file",
     "Read the digit in each image file (a photo, a scan, a drawing: PNG, JPEG, GIF, BMP, WebP, TIFF),\n"
     "made to look like MNIST first. Each answer is printed as soon as it is known.\n"
     "A file name starting with '-' goes after `--`, e.g. `{prog} predict --json -- -7.png`.",
     "predict my_digit.png --json"),
    ("summary", "the layer table (shapes, parameters, MACs) of a config",
     "Print LeNet-5's layer table: each layer's output shape, parameters and multiply-accumulates,\n"
     "for the reference network or a variant given with --model.",
     "summary --model pool=max --model fc_widths=120"),
    ("data", "fetch MNIST (or copy it from $LENET_MNIST_DIR) and check it",
     "Fetch MNIST into MNIST/raw/ of the data folder (data/ in a clone of the course, or $LENET_DATA_DIR)\n"
     "and check its files against the published MD5s. With no internet, set LENET_MNIST_DIR to a folder\n"
     "holding the four MNIST IDX files (gzipped or not) to copy them from there instead.",
     "data"),
    ("doctor", "check this machine for the course, with a fix for each problem",
     "Check this machine for the course: Python, PyTorch and the other packages, the device, threads,\n"
     "the widgets' front end, MNIST and the shipped model. Each problem found comes with its fix.\n"
     "Exit status 0 when everything is ready, 1 otherwise.",
     "doctor"),
    ("assignments", "build the graded assignments from the lessons (nbgrader source format)",
     "Turn each lesson with exercises into an nbgrader source assignment: the lesson locked, each answer a\n"
     "solution cell, each exercise an autograded test worth assignments/points.toml's points (default 1),\n"
     "with a hidden variant where the checker has one. Written to assignments/source/lessonNN/.",
     "assignments build"),
    ("grade", "autograde an assignment's submissions in a sandbox; write the gradebook and feedback",
     "Grade the latest submission of each student in INBOUND (nbgrader exchange layout:\n"
     "<student>+<assignment>+<timestamp>+<random>/) against the source assignment: answers run as an\n"
     "unprivileged account (when root) in a fork each, with time and memory limits; the tests are the\n"
     "source's, never the submission's. Writes the gradebook CSV and one feedback page per student.",
     "grade lesson03 --inbound /srv/nbgrader/exchange/lenet/inbound --out course/ --due 2026-12-14T23:59Z"),
]


def build_parser(prog: str = "lenet") -> argparse.ArgumentParser:
    """The whole command line; ``prog`` is the program's name in usage lines and examples."""
    parser = _Parser(prog=prog, description="LeNet-5 by hand: train, evaluate and use LeNet-5 on MNIST.",
                     epilog=f"example:\n  {prog} doctor        is this machine ready for the course?\n\n"
                            f"`{prog} COMMAND --help` shows each command's options and an example.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    p = {}
    for name, help_, description, example in _COMMANDS:
        p[name] = sub.add_parser(name, help=help_, description=description.format(prog=prog),
                                 epilog=f"example:\n  {prog} {example}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)

    t = p["train"]
    t.add_argument("--epochs", type=int, default=None, help="passes over the training set (default 5)")
    t.add_argument("--batch-size", type=int, default=None, help="images per step (default 128)")
    t.add_argument("--lr", type=float, default=None, help="peak learning rate (default 0.1)")
    t.add_argument("--optimizer", choices=["sgd", "adam"], default=None,
                   help="sgd (with Nesterov momentum, the default) or adam")
    t.add_argument("--schedule", choices=["onecycle", "constant"], default=None,
                   help="onecycle (warm up to --lr, then anneal to about 0; the default) or constant")
    t.add_argument("--augment", action="store_true", help="random shifts, rotations and zooms per batch")
    t.add_argument("--seed", type=int, default=0, help="seeds the initial weights, shuffling and augmentation")
    t.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                   help="change the architecture, e.g. --model pool=max --model fc_widths=120,84 (repeatable)")
    t.add_argument("--out", type=Path, default=None, metavar="PATH",
                   help="checkpoint path (default <data root>/checkpoints/lenet5.pt)")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (default auto: the fastest present)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar, only a line per epoch")

    p["evaluate"].add_argument("--checkpoint", type=Path, default=None, metavar="PATH",
                               help="default: the shipped model")

    pr = p["predict"]
    pr.usage = f"{prog} predict [-h] [--json | --jsonl] [--checkpoint PATH] [--debug] [--] FILE [FILE ...]"
    pr.add_argument("files", nargs="+", type=Path, metavar="FILE",
                    help="image files to read (PNG, JPEG, GIF, BMP, WebP or TIFF); one answer per file")
    pr.add_argument("--checkpoint", type=Path, default=None, metavar="PATH", help="default: the shipped model")
    fmt = pr.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print one JSON list, an object per file, written as each file is answered")
    fmt.add_argument("--jsonl", action="store_true", help="print one JSON object per line, per file")

    p["summary"].add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                              help="change the architecture, as for train, e.g. --model pool=max (repeatable)")
    p["doctor"].add_argument("--full", action="store_true",
                             help="re-hash the MNIST files, and load torchvision's compiled ops in a child process")
    a = p["assignments"]
    a.add_argument("action", choices=["build"], help="build: write the source assignments")
    a.add_argument("--out", type=Path, default=None, metavar="DIR", help="default: assignments/source of the clone")
    a.add_argument("--notebooks", type=Path, default=None, metavar="DIR", help="default: notebooks/ of the clone")
    a.add_argument("--points", type=Path, default=None, metavar="FILE",
                   help="default: assignments/points.toml of the clone")
    g = p["grade"]
    g.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. lesson03 (a folder of the source assignments)")
    g.add_argument("--inbound", type=Path, required=True, metavar="DIR", help="the submissions (kept as they are)")
    g.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="writes DIR/gradebook-ASSIGNMENT.csv and DIR/feedback/<student>/ASSIGNMENT/<notebook>.html")
    g.add_argument("--source", type=Path, default=None, metavar="DIR", help="default: assignments/source of the clone")
    g.add_argument("--due", default=None, metavar="WHEN", help="deadline (ISO 8601, UTC unless given); later is late")
    g.add_argument("--cell-seconds", type=float, default=60.0, help="time limit of an answer or test cell")
    g.add_argument("--notebook-seconds", type=float, default=900.0, help="time limit of the lesson's own cells")
    g.add_argument("--memory-mb", type=int, default=6144, help="address-space limit of each process")
    g.add_argument("--user", default="nobody", help="the account answers run as, when run as root")
    for q in [parser, *p.values()]:
        q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the Python traceback of an unexpected error")
    return parser


def parse_args(argv: Sequence[str], prog: str = "lenet") -> argparse.Namespace:
    """``argv`` read as the command line of ``prog``; a mistake raises UsageError (one line)."""
    _Parser.root_prog, _Parser.argv = prog, list(argv)
    return build_parser(prog).parse_args(argv)
