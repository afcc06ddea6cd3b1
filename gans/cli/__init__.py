"""The ``gans`` command: :func:`main` and its parser.

Each command group declares its arguments in its own module and registers its sub-parser
(:mod:`gans.cli.train`: list, train, sample; :mod:`gans.cli.data`: crop-faces;
:mod:`gans.cli.evaluation`: fid, report, diagnose; :mod:`gans.cli.app`: export, demo;
:mod:`gans.cli.sweep`; :mod:`gans.cli.study`), and a family's own commands come from its registry
entry (:mod:`gans.cli.attributes`: train-classifier, generate-from-faces; :mod:`gans.cli.caae`:
age-progress, train-age-classifier, age-agreement); the argument types are in :mod:`gans.cli.types`. A handler imports its library code when it runs, so parsing
(``--help``, argument errors) needs no TensorFlow model, data or extractor. ``gans train`` has one
handler for every family: a family's own options come from its registry entry (:mod:`gans.families`).
Nothing in the library imports this package.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from gans import families
from gans.cli import app, data, evaluation, reproduce, study, sweep, train
from gans.cli.types import Parser
from gans.errors import GansError

# The commands of every family; a family's own commands (the CAAE's age-progress, ...) come from its
# registry entry (gans.families.Family.commands).
COMMAND_GROUPS = (train, data, evaluation, app, sweep, study, reproduce)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gans",
        description=(
            "Rebuild, rerun and compare the GAN experiments of the thesis (MLP GAN, DCGAN, LSGAN, "
            "WGAN on MNIST and CelebA crops) and its companion papers (class-conditional GAN, ...)."
        ),
        epilog="Run 'gans COMMAND --help' for the options of one command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    for family in families.FAMILIES.values():
        for module in family.commands:
            families.resolve(f"{module}:register")(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``gans`` command; return its exit status.

    The one boundary between the library and the user: a :class:`~gans.errors.GansError` (a problem
    with the input or the environment, raised where the data enters) and an :class:`OSError` (a path
    that cannot be read or written) become one line, ``gans COMMAND: error: ...``, and exit status 2.
    Anything else is a bug and keeps its traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argument error (2, already printed as one line)
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    warnings.showwarning = _show_warning
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GansError as exc:
        print(f"gans {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # whoever read the output stopped reading (``gans list | head``): stop quietly
        _silence_stdout()
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:
        print(f"gans {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # a TrainingInterrupted says where --resume continues
        print(f"gans {args.command}: interrupted{f' by {exc}' if str(exc) else ''}", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush of the closed pipe
    does not raise again at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a captured or replaced stream: nothing to silence
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def os_error_message(exc: OSError) -> str:
    """An operating-system error as the user needs it: what went wrong, and with which path."""
    if exc.filename is None:
        return str(exc)
    paths = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
    return f"{paths}: {exc.strerror or exc}"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings meant for the user (e.g. the offline MNIST fallback) as one line, without source."""
    print(f"gans: warning: {message}", file=sys.stderr if file is None else file)
