"""The ``gans`` command's argument types and its parser class, in one place.

Every value is checked when it is parsed, before any work starts, and a bad one is one line:
``gans COMMAND: error: argument --x: ...``. :data:`KINDS` names the types a family's own options
(:class:`gans.families.Option`) may ask for.
"""

from __future__ import annotations

import argparse
import math


class Parser(argparse.ArgumentParser):
    """Argument errors as one line, ``gans COMMAND: error: ...``, like every other error of the command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help').\n")


def lazy(target: str):
    """The handler ``"module:function"``, imported when its command runs, so ``--help`` stays fast."""
    module, name = target.split(":")

    def run(args):
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run


def count(minimum: int = 1):
    """An integer option that must be at least ``minimum`` (checked before any work starts)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = "count"
    return parse


def number(what: str = "the value", low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False):
    """A finite float option, optionally within bounds (``inf`` and ``nan`` are never accepted)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or below or above:
            bounds = []
            if low is not None:
                bounds.append(f"{'>' if low_open else '>='} {low:g}")
            if high is not None:
                bounds.append(f"{'<' if high_open else '<='} {high:g}")
            rule = " and ".join(bounds + ["finite"])
            raise argparse.ArgumentTypeError(f"{what} must be {rule}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


# The value types a family's option may name (gans.families.Option.kind).
KINDS = {
    "count": count(),
    "count0": count(0),
    "count4": count(4),
    "fraction": number("the fraction", 0, 1, low_open=True, high_open=True),
    "weight": number("a loss weight", 0),
    "float": float,
}


def add_option(group, option) -> None:
    """Declare one :class:`gans.families.Option` in an argparse ``group``."""
    from gans.errors import ConfigError

    if option.negates:
        group.add_argument(*option.flags, dest=option.name, action="store_const", const=False, help=option.help)
        return
    if option.kind is not None and option.kind not in KINDS:
        raise ConfigError(f"option {option.flags[0]}: unknown kind {option.kind!r}; one of {', '.join(KINDS)}.")
    extra = {k: v for k, v in (("metavar", option.metavar), ("nargs", option.nargs), ("choices", option.choices))
             if v is not None}
    group.add_argument(*option.flags, dest=option.name, type=KINDS.get(option.kind), help=option.help, **extra)
