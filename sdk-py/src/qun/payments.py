"""Capability `payments`: ask members to pay, read payments, refund.

Amounts are in minor units (cents, fen). The outcome arrives as an event of
kind "payment-settled" or "payment-failed". A request exists only if the
invocation returns normally.
"""

from . import _host
from ._wit import capability as _cap, types as _types

__all__ = ["request", "status", "refund", "PaymentStatus"]

PaymentStatus = _types.PaymentStatus
_p = _cap("payments")


def request(payer: str, amount: int, currency: str, memo: str, idempotency_key: str):
    """Ask `payer` to pay `amount` minor units of `currency`; the payment."""
    return _host.call("payments", "request", _p.PaymentRequest(payer, amount, currency, memo, idempotency_key))


def status(id: str):
    """A payment this installation requested."""
    return _host.call("payments", "status", id)


def refund(id: str, amount: int, idempotency_key: str):
    """Refund `amount` minor units of a settled payment."""
    return _host.call("payments", "refund", id, amount, idempotency_key)
