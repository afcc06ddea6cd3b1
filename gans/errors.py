"""Errors a user can act on. Each message names the problem and the fix.

They subclass the builtin a caller would expect (ValueError, FileNotFoundError, RuntimeError), so
``except ValueError`` still works, and the CLI prints any :class:`GansError` as one line with no
traceback.
"""


class GansError(Exception):
    """Base class: a problem with the user's input or environment, not a bug in the library."""


class ConfigError(GansError, ValueError):
    """A hyperparameter, shape or option that cannot work."""


def check_choice(value, choices, where: str):
    """``value`` if it is one of ``choices``, else a :class:`ConfigError` naming ``where`` and the choices."""
    if value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(map(str, choices))}, got {value!r}.")
    return value


class DataError(GansError, ValueError):
    """A data set that is missing, malformed, or too small for the request."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data file or folder that does not exist, with where to put it."""


class TrainingDiverged(GansError, RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint was kept.

    Attributes:
        step: the step whose loss was not finite, when the raiser knows it.
    """

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


class RunFolderInUse(GansError, RuntimeError):
    """Another process is training into the same run folder; two writers would corrupt it."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT (Ctrl-C) or SIGTERM after finishing its iteration, with its state
    saved; the message says the step and where ``--resume`` continues. A KeyboardInterrupt, so code that
    stops on Ctrl-C stops on it too.

    Attributes:
        step: the last completed step, the one the saved state holds.
    """

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step
