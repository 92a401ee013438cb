"""Exceptions, one per variant of the WIT `error` (types.wit).

Raise one from a handler and the host receives that variant with its message.
A capability call that fails raises the matching one, so an uncaught
`Denied` from `storage.get` reaches the host as `denied`. Any other exception
becomes `internal` with its message (and its traceback goes to stderr, which
the host keeps in the app log).
"""

from . import _wit


class QunError(Exception):
    """Base of the SDK's errors; `variant` names the WIT error case."""

    variant = "internal"

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def to_wit(self):
        return _VARIANTS[self.variant][1](self.message)

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r})"


class Denied(QunError):
    """The group owner did not grant the capability, or the member may not do this."""

    variant = "denied"


class NotFound(QunError):
    """The thing asked for does not exist in this group."""

    variant = "not-found"


class Invalid(QunError):
    """An argument was malformed or too large (say how to fix it)."""

    variant = "invalid"


class QuotaExceeded(QunError):
    """A limit of this installation was reached."""

    variant = "quota-exceeded"


class Conflict(QunError):
    """The state changed under the call (a lost compare-and-swap, a reused key)."""

    variant = "conflict"


class Internal(QunError):
    """Something failed; the invocation may be retried later."""

    variant = "internal"


_VARIANTS = {
    "denied": (Denied, _wit.types.Error_Denied),
    "not-found": (NotFound, _wit.types.Error_NotFound),
    "invalid": (Invalid, _wit.types.Error_Invalid),
    "quota-exceeded": (QuotaExceeded, _wit.types.Error_QuotaExceeded),
    "conflict": (Conflict, _wit.types.Error_Conflict),
    "internal": (Internal, _wit.types.Error_Internal),
}


def from_wit(error) -> QunError:
    """The SDK exception for a WIT `error` value."""
    for cls, wit_cls in _VARIANTS.values():
        if isinstance(error, wit_cls):
            return cls(error.value)
    return Internal(f"unknown error value {error!r}")


def from_exception(exc: BaseException):
    """The WIT `error` value an exception becomes: its own variant for a
    `QunError` (or a capability's `Err`), `internal` with the exception's type
    and message for anything else."""
    if isinstance(exc, QunError):
        return exc.to_wit()
    if isinstance(exc, _wit.Err):
        return from_wit(exc.value).to_wit()
    text = str(exc)
    return _wit.types.Error_Internal(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
