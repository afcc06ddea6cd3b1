"""The ``gans`` command.

Each area of the library contributes its own subcommands through a ``register(subparsers)`` function
in a small ``commands`` module. Those modules import nothing heavy at module level, so ``gans --help``
answers at once; TensorFlow loads only when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings

from gans.errors import GansError

# Modules that add subcommands, in the order their commands appear in --help.
COMMAND_MODULES = (
    "gans.training.commands",
    "gans.datasets.commands",
    "gans.evaluation.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gans",
        description=(
            "Rebuild, rerun and compare the GAN experiments of the thesis (MLP GAN, DCGAN, LSGAN, "
            "WGAN on MNIST and CelebA crops) and its companion papers."
        ),
        epilog="Run 'gans COMMAND --help' for the options of one command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    except KeyboardInterrupt:
        print(f"gans {args.command}: interrupted", file=sys.stderr)
        return 130


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings meant for the user (e.g. the offline MNIST fallback) as one line, without source."""
    print(f"gans: warning: {message}", file=sys.stderr if file is None else file)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
