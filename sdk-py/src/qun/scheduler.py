"""Capability `scheduler`: run me later, once or on a schedule.

A timer fires `on_event` with an event of kind "timer-fired" (`event.timer`:
key, payload, due, recurring) and no acting member. Scheduling a key that is
pending replaces it. Times are milliseconds since the Unix epoch (UTC).
"""

import json as _json
from typing import Any, Iterable

from . import _host
from ._wit import capability as _cap
from .errors import Invalid

__all__ = ["schedule", "schedule_json", "schedule_recurring", "cancel", "daily", "weekly", "every_minutes",
           "MINUTE", "HOUR", "DAY"]

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_s = _cap("scheduler")
_DAYS = {d.name.lower(): d for d in _s.Weekday}


def daily(hour: int, minute: int = 0):
    """Every day at hour:minute on the group's clock."""
    return _s.Recurrence_Daily(_s.TimeOfDay(hour, minute))


def weekly(days: Iterable[str], hour: int, minute: int = 0):
    """On these days ("monday" .. "sunday") at hour:minute on the group's clock."""
    try:
        ds = [_DAYS[d.lower()] for d in days]
    except KeyError as err:
        raise Invalid(f"unknown weekday {err}; use monday .. sunday") from None
    return _s.Recurrence_Weekly((ds, _s.TimeOfDay(hour, minute)))


def every_minutes(n: int):
    """Every `n` minutes (at least 5), counted from scheduling."""
    return _s.Recurrence_EveryMinutes(n)


def schedule(key: str, at: int, payload: str = "") -> None:
    """Fire "timer-fired" with `key` and `payload` at `at` (ms UTC)."""
    _host.call("scheduler", "schedule", key, int(at), payload)


def schedule_json(key: str, at: int, payload: Any) -> None:
    """`schedule` with a JSON payload (read it with `event.timer_json()`)."""
    schedule(key, at, _json.dumps(payload, separators=(",", ":")))


def schedule_recurring(key: str, rule, payload: str = "") -> int:
    """Fire on every occurrence of `rule` (`daily`, `weekly`,
    `every_minutes`) until cancelled; the first occurrence (ms UTC)."""
    return _host.call("scheduler", "schedule_recurring", key, rule, payload)


def cancel(key: str) -> bool:
    """Cancel the pending timer `key`; True if there was one."""
    return _host.call("scheduler", "cancel", key)
