"""Defining an app: subclass `App`, then `Handler = export(MyApp)`.

componentize-py calls the methods of the class named `Handler` in the app's
module; `export` makes one that builds the SDK's friendly values, calls your
methods, and turns what they return into WIT values. An exception raised by a
handler never traps: a `QunError` (`Invalid`, `Denied`, ...) becomes that WIT
error variant with its message; any other exception becomes `internal` with
"Type: message" and its traceback is printed to stderr (the app log).
"""

import datetime as _dt
import json as _json
import sys
import traceback
from decimal import Decimal
from typing import Any, Dict, List, Optional

from . import _wit
from ._wit import blocks as _b, handler as _h
from .errors import Invalid, QunError, from_exception
from .message import ActionAnswer, Reply

__all__ = ["App", "export", "Describe", "Context", "Command", "ActionCall", "Submission", "Event", "value_of"]


class Describe:
    """What the app says about itself (`describe`). The name must equal the
    app's slug on the host."""

    def __init__(self, name: str, title: str):
        self._info = _h.AppInfo(name, title, "0.1.0", "", [], [], [])

    def version(self, version: str) -> "Describe":
        self._info.version = version
        return self

    def description(self, text: str) -> "Describe":
        self._info.description = text
        return self

    def command(self, name: str, description: str, options=()) -> "Describe":
        """A command `/name`; with `options` (a list of `(Input, description)`
        or `Input`s), the host parses typed options."""
        opts = []
        for o in options:
            inp, desc = o if isinstance(o, tuple) else (o, o.to_wit().label)
            i = inp.to_wit()
            opts.append(_h.CommandOption(i.id, desc, i.required, i.kind))
        self._info.commands.append(_h.CommandSpec(name, description, opts))
        return self

    def action(self, name: str, description: str) -> "Describe":
        """An action buttons, menus, pickers and the API may run."""
        self._info.actions.append(_h.ActionSpec(name, description))
        return self

    def subscribe_messages(self) -> "Describe":
        """Hear every message posted in the group (`message-posted`)."""
        self._info.subscriptions.append(_h.Subscription.MESSAGE_POSTED)
        return self

    def to_wit(self):
        return self._info

    @property
    def name(self) -> str:
        return self._info.name


class Context:
    """What the host says about this invocation."""

    def __init__(self, ctx):
        self.wit = ctx
        self.group_id: str = ctx.group_id
        self.installation_id: str = ctx.installation_id
        self.actor: Optional[str] = ctx.actor
        self.now: int = ctx.now
        self.invocation_id: str = ctx.invocation_id
        self.time_zone: str = ctx.time_zone
        self.locale: str = ctx.locale

    def require_actor(self) -> str:
        """The member who acted; `Invalid` when none did (timers, installs)."""
        if self.actor is None:
            raise Invalid("no member acted in this invocation")
        return self.actor

    @property
    def event_id(self) -> Optional[str]:
        """The stable id of the event being delivered (`event:<n>`) when this
        invocation delivers one from the host's outbox; None otherwise."""
        return self.invocation_id if self.invocation_id.startswith("event:") else None

    def now_utc(self) -> _dt.datetime:
        """The host's clock as an aware UTC datetime."""
        return _dt.datetime.fromtimestamp(self.now / 1000, tz=_dt.timezone.utc)

    def today(self) -> str:
        """Today's date (UTC) as "YYYY-MM-DD"."""
        return self.now_utc().date().isoformat()

    def __repr__(self):
        return f"Context(actor={self.actor!r}, now={self.now})"


def value_of(v) -> Any:
    """A WIT `value` as a plain Python value: str, int, Decimal, datetime.date,
    int (milliseconds, for a date-time), list of str (choices, files), str
    (member), bool."""
    if isinstance(v, _b.Value_Decimal):
        return Decimal(v.value)
    if isinstance(v, _b.Value_Date):
        return _dt.date(v.value.year, v.value.month, v.value.day)
    return v.value


class Command:
    """A command: `name`, `args` (everything after it, trimmed) and
    `options` (typed values by name)."""

    def __init__(self, cmd):
        self.wit = cmd
        self.name: str = cmd.name
        self.args: str = cmd.args
        self.options: Dict[str, Any] = {nv.name: value_of(nv.value) for nv in cmd.options}

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def _parse_json(text: str, what: str) -> Any:
    if text == "":
        return None
    try:
        return _json.loads(text)
    except ValueError as err:
        raise Invalid(f"bad {what}: {err}") from None


class ActionCall:
    """A click, a menu choice, a member picked, or an API call: `name`,
    `payload` (the raw JSON text; `json()` parses it), `value` (the option
    chosen or member picked, or None) and `message_id` (None for API calls)."""

    def __init__(self, call):
        self.wit = call
        self.name: str = call.name
        self.payload: str = call.payload
        self.value: Any = None if call.value is None else value_of(call.value)
        self.message_id: Optional[str] = call.message_id

    def json(self) -> Any:
        """The payload parsed (None for an empty one); `Invalid` if it is not JSON."""
        return _parse_json(self.payload, "payload")


class Submission:
    """A submitted form: `callback`, `state` (`state_json()`), `values` by
    input id (inputs left empty are absent) and `step`."""

    def __init__(self, submission):
        self.wit = submission
        self.callback: str = submission.callback
        self.state: str = submission.state
        self.values: Dict[str, Any] = {nv.name: value_of(nv.value) for nv in submission.values}
        self.step: int = submission.step

    def state_json(self) -> Any:
        return _parse_json(self.state, "form state")

    def value(self, id: str, default: Any = None) -> Any:
        return self.values.get(id, default)

    def files(self, id: str) -> List[str]:
        """The file ids chosen in a file input (empty when none)."""
        return list(self.values.get(id) or [])


_EVENT_KINDS = {
    _h.Event_Installed: "installed",
    _h.Event_Uninstalled: "uninstalled",
    _h.Event_MemberJoined: "member-joined",
    _h.Event_MemberLeft: "member-left",
    _h.Event_MessagePosted: "message-posted",
    _h.Event_PaymentSettled: "payment-settled",
    _h.Event_PaymentFailed: "payment-failed",
    _h.Event_TimerFired: "timer-fired",
}


class Event:
    """Something that happened: `kind` is one of "installed", "uninstalled",
    "member-joined", "member-left", "message-posted", "payment-settled",
    "payment-failed", "timer-fired"; `value` its WIT payload (a member id, a
    posted message, a payment, a failure, a timer; None for installs).
    `timer` is the timer of a "timer-fired" event (`key`, `payload`, `due`,
    `recurring`), and `timer_json()` its payload parsed."""

    def __init__(self, event):
        self.wit = event
        self.kind: str = _EVENT_KINDS[type(event)]
        self.value = getattr(event, "value", None)

    @property
    def timer(self):
        return self.value if self.kind == "timer-fired" else None

    def timer_json(self) -> Any:
        return _parse_json(self.timer.payload, "timer payload") if self.timer else None

    def __repr__(self):
        return f"Event({self.kind!r}, {self.value!r})"


class App:
    """Base class of an app. Override `describe` (required) and any of the
    handlers; the defaults answer `invalid` (unknown command, action or form)
    or ignore the event."""

    def describe(self) -> Describe:
        raise NotImplementedError("an App must define describe()")

    def on_command(self, ctx: Context, cmd: Command):
        raise Invalid(f"unknown command `{cmd.name}`")

    def on_action(self, ctx: Context, call: ActionCall):
        raise Invalid(f"unknown action `{call.name}`")

    def on_submit(self, ctx: Context, submission: Submission):
        raise Invalid(f"unknown form `{submission.callback}`")

    def on_event(self, ctx: Context, event: Event) -> None:
        return None


def _fail(exc: BaseException):
    """Turn a handler's exception into the WIT error it answers."""
    if not isinstance(exc, QunError) and not isinstance(exc, _wit.Err):
        # Anything unexpected: the traceback goes to stderr, i.e. the app log.
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        sys.stderr.flush()
    return _wit.Err(from_exception(exc))


def export(app_class):
    """The `Handler` class componentize-py expects, running `app_class`:
    write `Handler = export(MyApp)` at the end of the app's module."""
    if not (isinstance(app_class, type) and issubclass(app_class, App)):
        raise TypeError("export() takes a subclass of qun.App")

    class Handler:
        app = app_class()

        def describe(self):
            d = self.app.describe()
            return d.to_wit() if isinstance(d, Describe) else d

        def on_command(self, ctx, command):
            try:
                return Reply.of(self.app.on_command(Context(ctx), Command(command))).response
            except BaseException as exc:  # noqa: B036 (never trap)
                raise _fail(exc) from None

        def on_action(self, ctx, call):
            try:
                return ActionAnswer.of(self.app.on_action(Context(ctx), ActionCall(call))).to_wit()
            except BaseException as exc:  # noqa: B036 (never trap)
                raise _fail(exc) from None

        def on_submit(self, ctx, submission):
            try:
                return Reply.of(self.app.on_submit(Context(ctx), Submission(submission))).response
            except BaseException as exc:  # noqa: B036 (never trap)
                raise _fail(exc) from None

        def on_event(self, ctx, event):
            try:
                self.app.on_event(Context(ctx), Event(event))
            except BaseException as exc:  # noqa: B036 (never trap)
                raise _fail(exc) from None
            return None

    Handler.__name__ = "Handler"
    Handler.__qualname__ = f"Handler[{app_class.__name__}]"
    return Handler
