"""Capability `messaging`: post to the group, keep those messages up to date,
answer one member privately, message members directly.

Everything takes effect when the invocation returns normally; ids are given
out at once, so an invocation can post a card and keep its id. (A handler's
`Reply.post` needs no `messaging`: use this module to post more than the reply,
to update a card later, or from events and timers.)
"""

from . import _host
from ._wit import capability as _cap
from .message import _message

__all__ = ["post", "update", "delete", "post_private", "send_direct"]

_cap("messaging")  # the bindings, imported while the component is built


def post(message) -> str:
    """Post a message (a `Message` or a str) to the group; its id."""
    return _host.call("messaging", "post", _message(message))


def update(id: str, message) -> None:
    """Replace a message this installation posted in this group."""
    _host.call("messaging", "update", id, _message(message))


def delete(id: str) -> None:
    """Delete a message this installation posted in this group."""
    _host.call("messaging", "delete", id)


def post_private(to: str, message) -> str:
    """A message in the group that only member `to` sees; its id."""
    return _host.call("messaging", "post_private", to, _message(message))


def send_direct(to: str, message) -> None:
    """A direct message to member `to` of the group."""
    _host.call("messaging", "send_direct", to, _message(message))
