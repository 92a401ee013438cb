"""Capability `log`: lines the app's developer and the platform admins read.

Always granted; lines are kept even when the invocation fails. `print()` and
anything written to stdout/stderr also reach the app log on the host.
"""

from . import _host
from ._wit import capability as _cap

_log = _cap("log")  # the bindings, imported while the component is built

__all__ = ["trace", "debug", "info", "warn", "error", "write", "LEVELS"]

LEVELS = ("trace", "debug", "info", "warn", "error")


def write(level: str, message: str, **fields) -> None:
    """Write one line at `level` ("trace" .. "error") with key=value fields."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; one of {LEVELS}")
    _host.call("log", "write", _log.Level[level.upper()], str(message), [(str(k), str(v)) for k, v in fields.items()])


def trace(message: str, **fields) -> None:
    write("trace", message, **fields)


def debug(message: str, **fields) -> None:
    write("debug", message, **fields)


def info(message: str, **fields) -> None:
    write("info", message, **fields)


def warn(message: str, **fields) -> None:
    write("warn", message, **fields)


def error(message: str, **fields) -> None:
    write("error", message, **fields)
