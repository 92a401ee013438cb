"""Capability `storage`: this installation's own key-value data.

Importing this module is what makes the app ask for `storage` (see
`qun.build`). Writes take effect when the invocation returns normally; reads
see the invocation's own earlier writes.
"""

import json as _json
from typing import Any, Callable, List, Optional, Tuple

from . import _host
from ._wit import capability as _cap
from .errors import Internal, Invalid

__all__ = [
    "get", "set", "delete", "list", "compare_and_swap", "list_all",
    "get_json", "set_json", "list_json", "update_json", "next_id",
    "get_text", "set_text", "MAX_PAGE",
]

MAX_PAGE = 1000
_cap("storage")  # the bindings, imported while the component is built
_list = list


def _bytes(value) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def get(key: str) -> Optional[bytes]:
    """The value of `key`, or None."""
    return _host.call("storage", "get", key)


def set(key: str, value) -> None:
    """Set `key` to `value` (bytes, bytearray, or a str stored as UTF-8)."""
    _host.call("storage", "set", key, _bytes(value))


def delete(key: str) -> bool:
    """Delete `key`; True if it existed."""
    return _host.call("storage", "delete", key)


def list(prefix: str = "", cursor: Optional[str] = None, limit: int = MAX_PAGE):
    """One page of entries whose key starts with `prefix` (`.entries`, each
    with `.key` and `.value`, and `.next_cursor`)."""
    return _host.call("storage", "list", prefix, cursor, limit)


def compare_and_swap(key: str, expected, new) -> bool:
    """Set `key` to `new` (None deletes it) only if it now holds `expected`
    (None: it must not exist). True if it was swapped."""
    return _host.call(
        "storage", "compare_and_swap", key,
        None if expected is None else _bytes(expected),
        None if new is None else _bytes(new),
    )


def list_all(prefix: str = "") -> List[Tuple[str, bytes]]:
    """Every (key, value) whose key starts with `prefix`, following cursors."""
    out = []
    cursor = None
    while True:
        page = list(prefix, cursor, MAX_PAGE)
        out.extend((e.key, e.value) for e in page.entries)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def get_text(key: str) -> Optional[str]:
    """The value of `key` as UTF-8 text, or None."""
    value = get(key)
    return None if value is None else value.decode("utf-8")


def set_text(key: str, value: str) -> None:
    """Set `key` to `value` as UTF-8."""
    set(key, value.encode("utf-8"))


def _decode(key: str, value: bytes) -> Any:
    try:
        return _json.loads(value)
    except ValueError as err:
        raise Internal(f"stored value `{key}` is not JSON: {err}") from None


def get_json(key: str, default: Any = None) -> Any:
    """The value of `key` read as JSON, or `default` when absent."""
    value = get(key)
    return default if value is None else _decode(key, value)


def set_json(key: str, value: Any) -> None:
    """Set `key` to `value` written as JSON (compact)."""
    try:
        text = _json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise Invalid(f"`{key}`: value is not JSON: {err}") from None
    set(key, text.encode("utf-8"))


def list_json(prefix: str = "") -> List[Tuple[str, Any]]:
    """Every (key, JSON value) whose key starts with `prefix`."""
    return [(k, _decode(k, v)) for k, v in list_all(prefix)]


def update_json(key: str, f: Callable[[Any], Any], default: Any = None) -> Any:
    """Read `key` as JSON (or `default`), store `f(value)`, return it."""
    value = f(get_json(key, default))
    set_json(key, value)
    return value


def next_id(counter_key: str) -> str:
    """A counter for ids: "1", "2", ... kept under `counter_key`."""
    n = update_json(counter_key, lambda n: int(n) + 1, 0)
    return str(n)
