"""A local test harness: run an app's logic with plain `pytest`, no wasm.

A `TestGroup` is one group with the app installed, backed by an in-memory host
with the same semantics as the real one (and as the Rust SDK's
`qun_sdk::testing`): add members, type commands, click buttons on the messages
the app posted, fill in and submit the forms it opens, raise events, move the
clock and fire timers, then look at what each member sees, and what the app
stored, scheduled and logged.

An invocation is atomic: when the handler raises (an SDK error or any other
exception), its storage writes, messages, timers, payment requests and files
are rolled back; log lines (and what it printed) stay. The failing call raises
the SDK error the host would have received (`Internal("ZeroDivisionError:
division by zero")` for an uncaught exception), after the rollback.

The handler runs through the same `qun.export` wrapper as in the component,
and capability calls go through the same SDK modules; only the backend differs.
"""

import contextlib
import copy
import datetime as _dt
import hashlib
import io
import json as _json
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _host, _wit
from ._wit import blocks as _b, handler as _h, types as _t
from .app import App, Context, Describe, export
from .errors import Internal, Invalid, NotFound, QunError, from_wit
from .message import (
    MAX_BLOCKS, MAX_ELEMENTS, MAX_FIELDS, MAX_FILES_PER_INPUT, MAX_INPUTS, MAX_LABEL_CHARS,
    MAX_MESSAGE_TEXT_CHARS, MAX_OPTIONS, MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, Message, Reply,
)

__all__ = ["TestGroup", "Limits", "LogLine", "Timer", "Posted", "CAPABILITIES"]

#: Capabilities a group owner can withhold (`log` is always granted).
CAPABILITIES = ("membership", "messaging", "payments", "storage", "scheduler", "files")

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE = 60_000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_ID_RE = re.compile(r"^[a-z0-9_-]+$")


@dataclass
class Limits:
    """The host's bounds on an installation (its defaults). Over one, a call
    answers `invalid` (sizes) or `quota-exceeded` (totals and rates)."""

    key_bytes: int = 512
    value_bytes: int = 64 << 10
    storage_bytes: int = 16 << 20
    storage_keys: int = 100_000
    messages_per_minute: int = 60
    dms_per_minute: int = 500
    dms_per_recipient: int = 20
    pending_timers: int = 1_000
    timer_payload_bytes: int = 8 << 10
    answer_bytes: int = 64 << 10
    file_bytes: int = 25 << 20
    installation_file_bytes: int = 256 << 20
    group_file_bytes: int = 1 << 30


@dataclass
class LogLine:
    """A line in the app log: `level` is "trace".."error" for `qun.log`
    lines, "stdout" or "stderr" for what the app printed."""

    level: str
    message: str
    fields: List[Tuple[str, str]] = field(default_factory=list)


@dataclass
class Timer:
    """A pending timer; `rule` is set for a recurring one."""

    key: str
    at: int
    payload: str
    rule: Any = None


@dataclass
class Posted:
    """A message of the app in the group, as the host keeps it."""

    id: str
    message: Message
    visible_to: Optional[str] = None  # a private reply: only this member sees it
    updates: int = 0
    deleted: bool = False

    def visible_for(self, member: str) -> bool:
        return not self.deleted and (self.visible_to is None or self.visible_to == member)


@dataclass
class _File:
    info: Any
    data: bytes
    owned: bool


@dataclass
class _State:
    group_id: str = "group-1"
    group_name: str = "Test group"
    installation_id: str = "installation-1"
    now: int = START
    time_zone: str = "UTC"
    locale: str = "en"
    limits: Limits = field(default_factory=Limits)
    members: Dict[str, Any] = field(default_factory=dict)
    denied: set = field(default_factory=set)
    storage: Dict[str, bytes] = field(default_factory=dict)
    messages: List[Posted] = field(default_factory=list)
    sent_at: List[Tuple[int, Optional[str]]] = field(default_factory=list)
    next_message: int = 0
    direct: List[Tuple[str, Message]] = field(default_factory=list)
    timers: Dict[str, Timer] = field(default_factory=dict)
    payments: Dict[str, Any] = field(default_factory=dict)
    payment_keys: Dict[str, Tuple[tuple, str]] = field(default_factory=dict)
    refund_keys: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    logs: List[LogLine] = field(default_factory=list)
    next_id: int = 0
    files: Dict[str, _File] = field(default_factory=dict)
    given: set = field(default_factory=set)
    uploads: Dict[int, Tuple[str, bytearray]] = field(default_factory=dict)
    next_upload: int = 0
    forms: Dict[str, Tuple[Any, int]] = field(default_factory=dict)  # member -> (form, step)

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}-{self.next_id}"


def _err(cls, message: str):
    return _wit.Err(cls(message))


def _invalid(message: str):
    return _err(_t.Error_Invalid, message)


def _not_found(message: str):
    return _err(_t.Error_NotFound, message)


def _quota(message: str):
    return _err(_t.Error_QuotaExceeded, message)


def _not_member(id: str):
    return _not_found(f"`{id}` is not a member of this group")


def content_type(data: bytes) -> str:
    """A file's type read from its bytes, as the host reads it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF87a") or data.startswith(b"GIF89a"):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if not text:
        return "application/octet-stream"
    head = text.lstrip("\ufeff").lstrip()[:14].lower()
    if head.startswith("<!doctype html") or head.startswith("<html"):
        return "text/html"
    if any(ord(c) < 32 and c not in "\n\r\t\x0c" or c == "\x7f" for c in text):
        return "application/octet-stream"
    return "text/plain"


# ---------------------------------------------------------------- checks


def _chars(what: str, text: str, limit: int):
    if len(text) > limit:
        raise _invalid(f"{what}: {len(text)} characters; the limit is {limit}")


def _payload(what: str, payload: str):
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise _invalid(f"{what}: the payload is {len(payload.encode())} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    if payload:
        try:
            _json.loads(payload)
        except ValueError:
            raise _invalid(f"{what}: the payload is not JSON") from None


def check_blocks(blocks, actions: set, in_form: bool, s: "_State"):
    """What the host checks of message and form blocks (raises Err(invalid))."""
    if len(blocks) > MAX_BLOCKS:
        raise _invalid(f"blocks: {len(blocks)} blocks; the limit is {MAX_BLOCKS}")
    inputs = []
    for i, b in enumerate(blocks):
        where = f"blocks[{i}]"
        if isinstance(b, (_b.Block_Text,)):
            _chars(where, b.value, MAX_TEXT_CHARS)
        elif isinstance(b, (_b.Block_Header, _b.Block_Context)):
            _chars(where, b.value, MAX_LABEL_CHARS if isinstance(b, _b.Block_Header) else MAX_TEXT_CHARS)
        elif isinstance(b, _b.Block_Fields):
            if not b.value or len(b.value) > MAX_FIELDS:
                raise _invalid(f"{where}: a fields block holds 1 to {MAX_FIELDS} fields, not {len(b.value)}")
            for f in b.value:
                _chars(f"{where}.name", f.name, MAX_LABEL_CHARS)
                _chars(f"{where}.value", f.value, MAX_TEXT_CHARS)
        elif isinstance(b, _b.Block_Actions):
            if in_form:
                raise _invalid(f"{where}: a form holds no actions block")
            if not b.value or len(b.value) > MAX_ELEMENTS:
                raise _invalid(f"{where}: an actions block holds 1 to {MAX_ELEMENTS} elements, not {len(b.value)}")
            for j, e in enumerate(b.value):
                w = f"{where}.elements[{j}]"
                el = e.value
                if el.action not in actions:
                    raise _invalid(f"{w}: action `{el.action}` is not declared in describe")
                _payload(w, el.payload)
                if isinstance(e, _b.Element_Button):
                    _chars(f"{w}.label", el.label, MAX_LABEL_CHARS)
                    if not el.label.strip():
                        raise _invalid(f"{w}.label: a button needs a label")
                elif isinstance(e, _b.Element_Select):
                    if not el.options or len(el.options) > MAX_OPTIONS:
                        raise _invalid(f"{w}: a select menu holds 1 to {MAX_OPTIONS} options")
        elif isinstance(b, _b.Block_Input):
            if not in_form:
                raise _invalid(f"{where}: an input block is only allowed in a form")
            inp = b.value
            if not _ID_RE.match(inp.id):
                raise _invalid(f"{where}: input id `{inp.id}`: lowercase letters, digits, `-` and `_`")
            if inp.id in inputs:
                raise _invalid(f"{where}: input id `{inp.id}` is used twice")
            inputs.append(inp.id)
            _chars(f"{where}.label", inp.label, MAX_LABEL_CHARS)
            k = inp.kind
            if isinstance(k, _b.InputKind_Choice) and not (0 < len(k.value.options) <= MAX_OPTIONS):
                raise _invalid(f"{where}: a choice input holds 1 to {MAX_OPTIONS} options")
            if isinstance(k, _b.InputKind_File) and not (1 <= k.value.max_files <= MAX_FILES_PER_INPUT):
                raise _invalid(f"{where}: max_files is 1 to {MAX_FILES_PER_INPUT}")
        elif isinstance(b, (_b.Block_File, _b.Block_Image)):
            fid = b.value if isinstance(b, _b.Block_File) else b.value.file
            f = s.files.get(fid)
            if f is None or not (f.owned or fid in s.given):
                raise _invalid(f"{where}.file: `{fid}` is not one of this app's files")
            if isinstance(b, _b.Block_Image) and f.info.content_type not in IMAGE_TYPES:
                raise _invalid(f"{where}.file: `{fid}` is {f.info.content_type}; an image block shows PNG, JPEG, GIF or WebP")
    if len(inputs) > MAX_INPUTS:
        raise _invalid(f"a form holds at most {MAX_INPUTS} inputs, not {len(inputs)}")


MAX_COMMAND_OPTIONS = 10


def check_commands(commands):
    """What the host checks of the declared commands at upload (ValueError,
    as the host refuses such an app)."""

    def refuse(path, why):
        raise ValueError(f"the host would refuse this app at upload: commands: {path}: {why}")

    def ident(path, value):
        if not (1 <= len(value) <= 64 and _ID_RE.match(value)):
            refuse(path, f"is {value!r}; ids are 1 to 64 lowercase letters, digits, `-` and `_`")

    for i, c in enumerate(commands):
        ident(f"commands[{i}].name", c.name)
        if c.name in [d.name for d in commands[:i]]:
            refuse(f"commands[{i}].name", f"{c.name!r} is declared twice")
        if len(c.options) > MAX_COMMAND_OPTIONS:
            refuse(f"commands[{i}].options", f"at most {MAX_COMMAND_OPTIONS} options")
        for j, o in enumerate(c.options):
            ident(f"commands[{i}].options[{j}].name", o.name)
            if o.name in [p.name for p in c.options[:j]]:
                refuse(f"commands[{i}].options[{j}].name", f"{o.name!r} is declared twice")
            if isinstance(o.kind, _b.InputKind_File):
                refuse(f"commands[{i}].options[{j}].kind", "is a file input; files can only be chosen in a form")


def check_message(message, actions: set, s: "_State"):
    _chars("text", message.text, MAX_MESSAGE_TEXT_CHARS)
    if not message.text and not message.blocks:
        raise _invalid("a message needs text or blocks")
    check_blocks(message.blocks, actions, False, s)


def check_form(form, actions: set, s: "_State"):
    _chars("title", form.title, MAX_LABEL_CHARS)
    _payload("state", form.state)
    check_blocks(form.blocks, actions, True, s)


# ---------------------------------------------------------------- time


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def next_occurrence(rule, zone: str, after: int) -> Optional[int]:
    """The first occurrence of a recurrence rule strictly after `after` (ms)."""
    from wit_world.imports import scheduler as sch

    if isinstance(rule, sch.Recurrence_EveryMinutes):
        return after + rule.value * MINUTE
    if isinstance(rule, sch.Recurrence_Daily):
        days, tod = None, rule.value
    else:
        days, tod = {_WEEKDAYS.index(d.name.lower()) for d in rule.value[0]}, rule.value[1]
    tz = _zone(zone)
    local = _dt.datetime.fromtimestamp(after / 1000, tz)
    for offset in range(0, 9):
        day = local.date() + _dt.timedelta(days=offset)
        if days is not None and day.weekday() not in days:
            continue
        at = _dt.datetime(day.year, day.month, day.day, tod.hour, tod.minute, tzinfo=tz)
        ms = int(at.timestamp() * 1000)
        if ms > after:
            return ms
    return None


def check_recurrence(rule):
    from wit_world.imports import scheduler as sch

    if isinstance(rule, sch.Recurrence_EveryMinutes):
        if rule.value < 5:
            raise _invalid("a recurring timer fires every 5 minutes at most often")
        return
    tod = rule.value if isinstance(rule, sch.Recurrence_Daily) else rule.value[1]
    if not (0 <= tod.hour <= 23 and 0 <= tod.minute <= 59):
        raise _invalid(f"{tod.hour}:{tod.minute:02} is not a time of day")
    if isinstance(rule, sch.Recurrence_Weekly) and not rule.value[0]:
        raise _invalid("a weekly rule needs at least one day")


# ---------------------------------------------------------------- the fake host


class _Cap:
    """One capability's functions, as the bindings module has them."""

    def __init__(self, host: "_FakeHost", name: Optional[str]):
        self._host = host
        self._name = name

    @property
    def s(self) -> _State:
        if self._name in self._host.state.denied:
            raise _err(_t.Error_Denied, f"capability `{self._name}` is not granted to this installation")
        return self._host.state


class _Storage(_Cap):
    def _size(self, key, value):
        lim = self.s.limits
        if not key:
            raise _invalid("a storage key must not be empty")
        if len(key.encode()) > lim.key_bytes:
            raise _invalid(f"storage key is {len(key.encode())} bytes; the limit is {lim.key_bytes}")
        if value is not None and len(value) > lim.value_bytes:
            raise _invalid(f"storage value is {len(value)} bytes; the limit is {lim.value_bytes}")

    def _quota(self, key, value):
        s = self.s
        keys = len(s.storage) + (key not in s.storage)
        size = sum(len(k.encode()) + len(v) for k, v in s.storage.items() if k != key) + len(key.encode()) + len(value)
        if keys > s.limits.storage_keys:
            raise _quota(f"this installation may keep {s.limits.storage_keys} keys")
        if size > s.limits.storage_bytes:
            raise _quota(f"this installation may keep {s.limits.storage_bytes} bytes")

    def get(self, key):
        return self.s.storage.get(key)

    def set(self, key, value):
        self._size(key, value)
        self._quota(key, value)
        self.s.storage[key] = bytes(value)

    def delete(self, key):
        return self.s.storage.pop(key, None) is not None

    def list(self, prefix, cursor, limit):
        from wit_world.imports import storage as st

        if not 1 <= limit <= 1000:
            raise _invalid("limit must be 1 to 1000")
        keys = sorted(k for k in self.s.storage if k.startswith(prefix) and (cursor is None or k > cursor))
        page = keys[:limit]
        nxt = page[-1] if len(keys) > limit else None
        return st.EntryPage([st.Entry(k, self.s.storage[k]) for k in page], nxt)

    def compare_and_swap(self, key, expected, new):
        if self.s.storage.get(key) != expected:
            return False
        if new is None:
            self.s.storage.pop(key, None)
        else:
            self.set(key, new)
        return True


class _Messaging(_Cap):
    def _ok(self, message):
        check_message(message, self._host.actions, self.s)

    def _rate(self, to):
        s = self.s
        recent = [r for r in s.sent_at if r[0] > s.now - MINUTE]
        if to is None:
            if sum(1 for r in recent if r[1] is None) >= s.limits.messages_per_minute:
                raise _quota(f"this app may post {s.limits.messages_per_minute} messages per minute in a group")
        else:
            dms = [r for r in recent if r[1] is not None]
            if len(dms) >= s.limits.dms_per_minute:
                raise _quota(f"this app may send {s.limits.dms_per_minute} direct messages per minute")
            if sum(1 for r in dms if r[1] == to) >= s.limits.dms_per_recipient:
                raise _quota(f"this app may send {s.limits.dms_per_recipient} direct messages per minute to one member")
        s.sent_at.append((s.now, to))

    def _own(self, id):
        for p in self.s.messages:
            if p.id == id and not p.deleted:
                return p
        raise _not_found(f"no message {id} of this app in this group")

    def post(self, message):
        self._ok(message)
        self._rate(None)
        return self._host.add_message(message, None)

    def update(self, id, message):
        self._ok(message)
        p = self._own(id)
        p.message = Message.from_wit(message)
        p.updates += 1

    def delete(self, id):
        self._own(id).deleted = True

    def post_private(self, to, message):
        self._ok(message)
        if to not in self.s.members:
            raise _not_member(to)
        self._rate(None)
        return self._host.add_message(message, to)

    def send_direct(self, to, message):
        self._ok(message)
        if to not in self.s.members:
            raise _not_member(to)
        self._rate(to)
        self.s.direct.append((to, Message.from_wit(message)))


class _Membership(_Cap):
    def current_group(self):
        from wit_world.imports import membership as mb

        s = self.s
        owner = next((m.id for m in s.members.values() if m.role == _t.Role.OWNER), "")
        return mb.GroupInfo(s.group_id, s.group_name, owner, len(s.members), s.time_zone, s.locale)

    def get_member(self, id):
        m = self.s.members.get(id)
        if m is None:
            raise _not_member(id)
        return copy.deepcopy(m)

    def list_members(self, cursor, limit):
        from wit_world.imports import membership as mb

        if not 1 <= limit <= 100:
            raise _invalid("limit must be 1 to 100")
        ids = sorted(i for i in self.s.members if cursor is None or i > cursor)
        page = ids[:limit]
        return mb.MemberPage([copy.deepcopy(self.s.members[i]) for i in page], page[-1] if len(ids) > limit else None)


class _Scheduler(_Cap):
    def _arm(self, key, at, payload, rule):
        s = self.s
        if not key:
            raise _invalid("a timer key must not be empty")
        if len(key.encode()) > s.limits.key_bytes:
            raise _invalid(f"timer key is {len(key.encode())} bytes; the limit is {s.limits.key_bytes}")
        if len(payload.encode()) > s.limits.timer_payload_bytes:
            raise _invalid(f"timer payload is {len(payload.encode())} bytes; the limit is {s.limits.timer_payload_bytes}")
        if at < 0:
            raise _invalid("a timer must be due at a time after 1970")
        s.timers[key] = Timer(key, at, payload, rule)

    def schedule(self, key, at, payload):
        self._arm(key, at, payload, None)

    def schedule_recurring(self, key, rule, payload):
        check_recurrence(rule)
        first = next_occurrence(rule, self.s.time_zone, self.s.now)
        if first is None:
            raise _invalid("this rule never fires")
        self._arm(key, first, payload, copy.deepcopy(rule))
        return first

    def cancel(self, key):
        return self.s.timers.pop(key, None) is not None


class _Payments(_Cap):
    def request(self, r):
        s = self.s
        if r.amount <= 0:
            raise _invalid("the amount must be positive")
        if not re.fullmatch(r"[A-Z]{3}", r.currency):
            raise _invalid("the currency must be an ISO 4217 code such as CNY")
        if not r.idempotency_key:
            raise _invalid("the idempotency key must not be empty")
        if r.payer not in s.members:
            raise _not_member(r.payer)
        params = (r.payer, r.amount, r.currency, r.memo)
        if r.idempotency_key in s.payment_keys:
            earlier, pid = s.payment_keys[r.idempotency_key]
            if earlier != params:
                raise _err(_t.Error_Conflict, "this idempotency key was used with other parameters")
            return copy.deepcopy(s.payments[pid])
        pid = s.new_id("pay")
        p = _t.Payment(pid, r.payer, r.amount, r.currency, r.memo, _t.PaymentStatus.PENDING, 0, s.now)
        s.payments[pid] = p
        s.payment_keys[r.idempotency_key] = (params, pid)
        return copy.deepcopy(p)

    def status(self, id):
        p = self.s.payments.get(id)
        if p is None:
            raise _not_found(f"no payment `{id}`")
        return copy.deepcopy(p)

    def refund(self, id, amount, key):
        s = self.s
        if key in s.refund_keys:
            if s.refund_keys[key] != (id, amount):
                raise _err(_t.Error_Conflict, "this idempotency key was used with other parameters")
            return copy.deepcopy(s.payments[id])
        p = s.payments.get(id)
        if p is None:
            raise _not_found(f"no payment `{id}`")
        if p.status != _t.PaymentStatus.SETTLED:
            raise _invalid("only settled payments can be refunded")
        if amount <= 0 or p.refunded + amount > p.amount:
            raise _invalid("a refund must be positive and never exceed what was paid")
        p.refunded += amount
        s.refund_keys[key] = (id, amount)
        return copy.deepcopy(p)


class _Files(_Cap):
    def _readable(self, id):
        f = self.s.files.get(id)
        if f is None or not (f.owned or id in self.s.given):
            raise _not_found(f"no file `{id}` was given to this app in this invocation or is one of its own")
        return f

    def stat(self, id):
        return copy.deepcopy(self._readable(id).info)

    def read(self, id, offset, length):
        if length > 1 << 20:
            raise _invalid(f"a read is at most {1 << 20} bytes, not {length}")
        data = self._readable(id).data
        return data[offset:offset + length]

    def create(self, name):
        if not name.strip() or len(name.encode()) > 255:
            raise _invalid("a file's name must be 1 to 255 bytes, not only spaces")
        if any(ord(c) < 32 or c in "/\\" for c in name):
            raise _invalid("a file's name must not hold `/`, `\\` or control characters")
        s = self.s
        s.next_upload += 1
        s.uploads[s.next_upload] = (name, bytearray())
        return s.next_upload

    def _upload(self, upload):
        u = self.s.uploads.get(upload)
        if u is None:
            raise _not_found(f"no upload {upload} in this invocation")
        return u

    def append(self, upload, data):
        if len(data) > 1 << 20:
            raise _invalid(f"an append is at most {1 << 20} bytes, not {len(data)}")
        u = self._upload(upload)
        if len(u[1]) + len(data) > self.s.limits.file_bytes:
            raise _invalid(f"a file is at most {self.s.limits.file_bytes} bytes")
        u[1].extend(data)

    def finish(self, upload):
        name, data = self._upload(upload)
        self._host.check_file_room(len(data), True)
        del self.s.uploads[upload]
        return copy.deepcopy(self._host.new_file(name, bytes(data), None, True))

    def delete(self, id):
        f = self.s.files.get(id)
        if f is None or not f.owned:
            return False
        if f.info.uploaded_by is not None:
            f.owned = False
        else:
            del self.s.files[id]
        return True


class _Log(_Cap):
    def write(self, level, message, fields):
        self._host.state.logs.append(LogLine(level.name.lower(), message, list(fields)))


class _FakeHost:
    def __init__(self, state: _State, actions: set):
        self.state = state
        self.actions = actions
        self.caps = {
            "storage": _Storage(self, "storage"), "messaging": _Messaging(self, "messaging"),
            "membership": _Membership(self, "membership"), "scheduler": _Scheduler(self, "scheduler"),
            "payments": _Payments(self, "payments"), "files": _Files(self, "files"), "log": _Log(self, None),
        }

    def capability(self, name: str):
        return self.caps[name]

    def add_message(self, message, visible_to) -> str:
        s = self.state
        s.next_message += 1
        mid = str(s.next_message)
        s.messages.append(Posted(mid, Message.from_wit(message), visible_to))
        return mid

    def new_file(self, name, data, uploaded_by, owned):
        from wit_world.imports import files as fl

        s = self.state
        info = fl.FileInfo(s.new_id("file"), name, content_type(data), len(data),
                           hashlib.sha256(data).hexdigest(), uploaded_by, s.now)
        s.files[info.id] = _File(info, data, owned)
        return info

    def check_file_room(self, size, app):
        s = self.state
        if size > s.limits.file_bytes:
            raise _invalid(f"a file is {size} bytes; the limit is {s.limits.file_bytes}")
        if sum(f.info.size for f in s.files.values()) + size > s.limits.group_file_bytes:
            raise _quota(f"the group's files may take {s.limits.group_file_bytes} bytes (group quota)")
        if app and sum(f.info.size for f in s.files.values() if f.owned) + size > s.limits.installation_file_bytes:
            raise _quota(f"this installation's files may take {s.limits.installation_file_bytes} bytes (installation quota)")


class _Tee(io.TextIOBase):
    """Collects what the app prints (for the log) and still shows it."""

    def __init__(self, real):
        self.real = real
        self.buf = io.StringIO()

    def write(self, text):
        self.buf.write(text)
        return self.real.write(text)

    def flush(self):
        self.real.flush()


# ---------------------------------------------------------------- the group


def _role(role) -> Any:
    if isinstance(role, _t.Role):
        return role
    return _t.Role[str(role).upper()]


class TestGroup:
    """One group with the app installed, backed by an in-memory host.

    `TestGroup(MyApp)` (the App subclass; or the `Handler` made by
    `qun.export`): a group "Test group" in UTC, no members, every capability
    granted, the clock at 2026-01-01T00:00:00Z (it only moves when told to).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, app, time_zone: str = "UTC", locale: str = "en"):
        if isinstance(app, type) and issubclass(app, App):
            handler = export(app)
        elif isinstance(app, App):
            handler = export(type(app))
        else:
            handler = app
        self.handler = handler() if isinstance(handler, type) else handler
        self.info = self.handler.describe()
        check_commands(self.info.commands)
        self.actions = {a.name for a in self.info.actions}
        self.commands = {c.name: c for c in self.info.commands}
        self.state = _State(time_zone=time_zone, locale=locale)

    # -- the group and its members
    def zone(self, time_zone: str, locale: str = "en") -> "TestGroup":
        self.state.time_zone, self.state.locale = time_zone, locale
        return self

    def limits(self, limits: Limits) -> "TestGroup":
        self.state.limits = limits
        return self

    def member(self, id: str, name: str, role="member") -> "TestGroup":
        """Adds a member (builder style); role "owner", "admin" or "member"."""
        self.add_member(id, name, role)
        return self

    def add_member(self, id: str, name: str, role="member") -> "TestGroup":
        self.state.members[id] = _t.Member(id, name, _role(role), self.state.now, _t.Profile(None, None, None))
        return self

    def remove_member(self, id: str) -> "TestGroup":
        self.state.members.pop(id, None)
        return self

    def join(self, id: str, name: str) -> None:
        """Adds a member and raises "member-joined"."""
        self.add_member(id, name)
        self.event(_h.Event_MemberJoined(id))

    def leave(self, id: str) -> None:
        """Removes a member and raises "member-left"."""
        self.remove_member(id)
        self.event(_h.Event_MemberLeft(id))

    def deny(self, capability: str) -> "TestGroup":
        """Withholds a capability: its calls answer `Denied`."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; one of {CAPABILITIES}")
        self.state.denied.add(capability)
        return self

    without = deny

    def grant(self, capability: str) -> "TestGroup":
        self.state.denied.discard(capability)
        return self

    def describe(self):
        return self.info

    # -- invocations
    def _context(self, actor: Optional[str], event: bool = False):
        s = self.state
        if event:  # as the host delivers events from its outbox: `event:<n>`
            s.next_id += 1
            inv = f"event:{s.next_id}"
        else:
            inv = s.new_id("invocation")
        return _t.Context(s.group_id, s.installation_id, actor, s.now, inv, s.time_zone, s.locale)

    def _invoke(self, actor: Optional[str], f: Callable[[Any], Any], given=(), reply_of=None, event=False):
        """One atomic invocation: `f(wit_ctx)` runs with the fake host installed;
        on an error everything but the log is rolled back and the error raised."""
        ctx = self._context(actor, event)
        before = copy.deepcopy(self.state)
        self.state.given = {g for g in given if g in self.state.files}
        host = _FakeHost(self.state, self.actions)
        out, err = _Tee(sys.stdout), _Tee(sys.stderr)
        _host.install(host)
        error = None
        result = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    result = f(ctx)
                    if reply_of is not None:
                        self._deliver(actor, reply_of(result), host)
                    if len(self.state.timers) > self.state.limits.pending_timers:
                        raise _quota(f"this installation may have {self.state.limits.pending_timers} pending timers")
                except _wit.Err as e:
                    error = from_wit(e.value)
                except QunError as e:
                    error = e
                except Exception as e:  # code run by `run()`: as the export wrapper does
                    from .app import _fail

                    error = from_wit(_fail(e).value)
        finally:
            _host.install(None)
        for level, tee in (("stdout", out), ("stderr", err)):
            text = tee.buf.getvalue()
            if text:
                self.state.logs.append(LogLine(level, text.rstrip("\n")))
        if error is not None:
            logs = self.state.logs
            self.state = before
            self.state.logs = logs
            raise error
        for g in self.state.given:
            if g in self.state.files:
                self.state.files[g].owned = True
        self.state.given = set()
        self.state.uploads = {}
        return result

    def _deliver(self, actor, response, host: _FakeHost):
        """What the host does with a reply: checks it, posts it, opens a form."""
        if isinstance(response, (_b.Response_Post, _b.Response_Private)):
            check_message(response.value, self.actions, self.state)
            host.add_message(response.value, actor if isinstance(response, _b.Response_Private) else None)
        elif isinstance(response, _b.Response_Form):
            if actor is None:
                raise _invalid("a form needs a member who acted")
            check_form(response.value, self.actions, self.state)
            step = self.state.forms.get(actor, (None, 0))[1] if self._submitting else 0
            if step + 1 > 5:
                raise _invalid("a member goes through at most 5 forms in a row")
            self.state.forms[actor] = (response.value, step + 1)
        elif isinstance(response, _b.Response_FieldErrors) and not self._submitting:
            raise _invalid("field errors answer a form's submission only (on_submit)")
        if not isinstance(response, (_b.Response_Form, _b.Response_FieldErrors)) and self._submitting:
            self.state.forms.pop(actor, None)

    _submitting = False

    def run(self, actor: Optional[str], f: Callable[[Context], Any], given=()):
        """Runs any code as one invocation (atomic like the others), e.g. to
        call capabilities directly; `f(ctx)`'s result is returned."""
        return self._invoke(actor, lambda c: f(Context(c)), given)

    def command(self, actor: str, line: str, **options) -> Reply:
        """`actor` types `line` ("/name args"); typed options are parsed from
        the `|`-separated args (positional or `name: value`) or given as
        keyword arguments. A command the app does not declare is `NotFound`."""
        self._member(actor)
        if not line.startswith("/"):
            raise Invalid("a command starts with `/`")
        name, _, args = line[1:].partition(" ")
        spec = self.commands.get(name)
        if spec is None:
            raise NotFound(f"no app in this group answers `/{name}`")
        values = self._command_options(spec, args.strip(), options)
        cmd = _h.Command(name, args.strip(), values)
        response = self._invoke(actor, lambda c: self.handler.on_command(c, cmd), reply_of=lambda r: r)
        return Reply(response)

    def _command_options(self, spec, args: str, given: dict):
        if not spec.options:
            return []
        raw: Dict[str, str] = {}
        if args:
            positional = [o.name for o in spec.options]
            for i, part in enumerate(p.strip() for p in args.split("|")):
                m = re.match(r"^([a-z0-9_-]+):\s*(.*)$", part)
                if m and m.group(1) in positional:
                    raw[m.group(1)] = m.group(2)
                elif i < len(positional):
                    raw[positional[i]] = part
        out = []
        for o in spec.options:
            if o.name in given:
                value = given[o.name]
            elif o.name in raw:
                value = raw[o.name]
            elif o.required:
                raise Invalid(f"option `{o.name}` is required")
            else:
                continue
            out.append(_b.NamedValue(o.name, _to_value(o.name, o.kind, value, self.state)))
        return out

    def _member(self, id: str):
        if id not in self.state.members:
            raise NotFound(f"`{id}` is not a member of this group")

    def _act(self, actor: Optional[str], call) -> Any:
        def response(answer):
            if len(answer.data.encode()) > self.state.limits.answer_bytes:
                raise _invalid(f"an action answer is at most {self.state.limits.answer_bytes} bytes")
            return answer.response

        return self._invoke(actor, lambda c: self.handler.on_action(c, call), reply_of=response)

    def _visible(self, actor: str, message_id: str) -> Posted:
        self._member(actor)
        for p in self.state.messages:
            if p.id == message_id and p.visible_for(actor):
                return p
        raise NotFound(f"no message {message_id} that {actor} can see")

    def click(self, actor: str, message_id: str, label: str) -> Reply:
        """`actor` clicks the button labelled `label` on message `message_id`."""
        p = self._visible(actor, message_id)
        button = p.message.get_button(label)
        if button is None:
            raise NotFound(f"message {message_id} has no button `{label}` (it has {[b.label for b in p.message.buttons()]})")
        call = _h.ActionCall(button.action, button.payload, None, message_id)
        return Reply(self._act(actor, call).response)

    def _element(self, p: Posted, kind, action: str):
        for b in p.message.blocks:
            if isinstance(b, _b.Block_Actions):
                for e in b.value:
                    if isinstance(e, kind) and e.value.action == action:
                        return e.value
        raise NotFound(f"message {p.id} has no such element for action `{action}`")

    def choose(self, actor: str, message_id: str, action: str, value: str) -> Reply:
        """`actor` chooses option `value` in the select menu of `action`."""
        menu = self._element(self._visible(actor, message_id), _b.Element_Select, action)
        if value not in [o.value for o in menu.options]:
            raise Invalid(f"`{value}` is not an option of the menu")
        call = _h.ActionCall(action, menu.payload, _b.Value_Text(value), message_id)
        return Reply(self._act(actor, call).response)

    def pick(self, actor: str, message_id: str, action: str, member: str) -> Reply:
        """`actor` picks `member` in the member picker of `action`."""
        picker = self._element(self._visible(actor, message_id), _b.Element_MemberPicker, action)
        self._member(member)
        call = _h.ActionCall(action, picker.payload, _b.Value_Member(member), message_id)
        return Reply(self._act(actor, call).response)

    def action(self, actor: str, name: str, payload: Any = None) -> Any:
        """The action API: `actor` calls action `name` with a JSON payload;
        the answer's data, parsed (None when empty)."""
        self._member(actor)
        call = _h.ActionCall(name, "" if payload is None else _json.dumps(payload), None, None)
        data = self._act(actor, call).data
        return None if data == "" else _json.loads(data)

    def open_form(self, member: str):
        """The form open for `member` (a `qun.Form`), or None."""
        from .message import Form

        f = self.state.forms.get(member)
        return Form.from_wit(f[0]) if f else None

    def close_form(self, member: str) -> None:
        self.state.forms.pop(member, None)

    def submit(self, actor: str, values: Dict[str, Any]) -> Reply:
        """`actor` submits the form open for them with `values` (by input id;
        Python values: str, int, str/Decimal for decimals, datetime.date,
        ms for date-times, a str or list for choices, a member id, bool, a
        list of file ids). Checked like the host: an unknown id is `Invalid`;
        a required input left empty, a wrong type or a file that is not the
        member's own answers field errors without running the app."""
        self._member(actor)
        open_ = self.state.forms.get(actor)
        if open_ is None:
            raise Invalid(f"no form is open for {actor}")
        form, step = open_
        inputs = {b.value.id: b.value for b in form.blocks if isinstance(b, _b.Block_Input)}
        for k in values:
            if k not in inputs:
                raise Invalid(f"the form has no input `{k}`")
        errors, named, given = [], [], []
        for id, inp in inputs.items():
            v = values.get(id)
            if v is None or v == "" or v == [] or (v is False and isinstance(inp.kind, _b.InputKind_Checkbox) and inp.required):
                if inp.required:
                    errors.append(_b.FieldError(id, "required"))
                continue
            try:
                value = _to_value(id, inp.kind, v, self.state, actor)
            except QunError as e:
                errors.append(_b.FieldError(id, e.message))
                continue
            if isinstance(value, _b.Value_Files):
                given.extend(value.value)
            named.append(_b.NamedValue(id, value))
        if errors:
            return Reply(_b.Response_FieldErrors(errors))
        sub = _h.Submission(form.callback, form.state, named, step)
        self._submitting = True
        try:
            response = self._invoke(actor, lambda c: self.handler.on_submit(c, sub), given, reply_of=lambda r: r)
        finally:
            self._submitting = False
        return Reply(response)

    def event(self, event, actor: Optional[str] = None) -> None:
        """Raises a WIT event (`qun.testing` builds them: `TestGroup.installed()` ...)
        with no acting member (or `actor`)."""
        given = event.value.files if isinstance(event, _h.Event_MessagePosted) else ()
        self._invoke(actor, lambda c: self.handler.on_event(c, event), given, event=True)

    def install(self) -> None:
        """Raises "installed"."""
        self.event(_h.Event_Installed())

    def uninstall(self) -> None:
        self.event(_h.Event_Uninstalled())

    def post_as(self, member: str, text: str, files=()) -> None:
        """`member` posts a message (with files they uploaded attached): the app
        hears "message-posted" (if it subscribed) and may read the files."""
        self._member(member)
        for f in files:
            x = self.state.files.get(f)
            if x is None or x.info.uploaded_by != member:
                raise Invalid(f"`{f}` is not a file {member} uploaded")
        mid = self.state.new_id("member-message")
        self.event(_h.Event_MessagePosted(_h.PostedMessage(mid, member, text, list(files))), member)

    # -- the clock and timers
    @property
    def now(self) -> int:
        return self.state.now

    def set_now(self, now: int) -> "TestGroup":
        """Sets the clock (ms UTC) without firing timers."""
        self.state.now = int(now)
        return self

    def advance(self, ms: int) -> int:
        """Moves the clock forward by `ms`, firing timers due on the way."""
        return self.advance_to(self.state.now + ms)

    def advance_to(self, until: int) -> int:
        """Moves the clock to `until`, firing every timer due by then in due
        order, each with the clock at its due time; recurring timers are armed
        again before they fire. Returns how many fired; stops at the first
        handler error (raised)."""
        fired = 0
        while True:
            due = sorted((t for t in self.state.timers.values() if t.at <= until), key=lambda t: (t.at, t.key))
            if not due:
                break
            self.state.now = max(self.state.now, due[0].at)
            self.fire(due[0].key)
            fired += 1
        self.state.now = max(self.state.now, until)
        return fired

    def fire_due_timers(self) -> int:
        return self.advance_to(self.state.now)

    def fire(self, key: str) -> None:
        """Fires the pending timer `key` now (whatever its due time)."""
        t = self.state.timers.pop(key, None)
        if t is None:
            raise NotFound(f"no pending timer `{key}`")
        if t.rule is not None:
            nxt = next_occurrence(t.rule, self.state.time_zone, t.at)
            if nxt is not None:
                self.state.timers[key] = Timer(key, nxt, t.payload, t.rule)
        self.event(_h.Event_TimerFired(_h.Timer(t.key, t.payload, t.at, t.rule is not None)))

    def timers(self) -> List[Timer]:
        """Pending timers, by key."""
        return [copy.deepcopy(t) for _, t in sorted(self.state.timers.items())]

    # -- what members see
    def messages(self) -> List[Posted]:
        """Every message of the app, with ids, update counts and deletions."""
        return list(self.state.messages)

    def posted(self) -> List[Message]:
        """The group's messages as members read them now (no private ones)."""
        return [p.message for p in self.state.messages if p.visible_to is None and not p.deleted]

    def last_posted(self) -> Optional[Message]:
        posted = self.posted()
        return posted[-1] if posted else None

    def last_posted_id(self) -> Optional[str]:
        ids = [p.id for p in self.state.messages if p.visible_to is None and not p.deleted]
        return ids[-1] if ids else None

    def timeline(self, member: str) -> List[Posted]:
        """What `member` sees: group messages and their own private replies."""
        return [p for p in self.state.messages if p.visible_for(member)]

    def private_replies(self, member: str) -> List[Message]:
        return [p.message for p in self.state.messages if p.visible_to == member and not p.deleted]

    def message_for(self, member: str, id: str) -> Optional[Message]:
        return next((p.message for p in self.state.messages if p.id == id and p.visible_for(member)), None)

    def direct_messages(self) -> List[Tuple[str, Message]]:
        return list(self.state.direct)

    def direct_messages_to(self, member: str) -> List[Message]:
        return [m for to, m in self.state.direct if to == member]

    # -- what the app kept
    @property
    def storage(self) -> Dict[str, bytes]:
        return dict(self.state.storage)

    def stored_json(self, key: str, default: Any = None) -> Any:
        v = self.state.storage.get(key)
        return default if v is None else _json.loads(v)

    def set_stored(self, key: str, value) -> "TestGroup":
        """Sets a stored value directly (outside any invocation)."""
        self.state.storage[key] = value.encode() if isinstance(value, str) else bytes(value)
        return self

    def logs(self) -> List[LogLine]:
        """Lines the app logged (and printed), including those of failed invocations."""
        return list(self.state.logs)

    def log_text(self) -> str:
        """The whole log as text, one line per entry ("level: message k=v")."""
        return "\n".join(
            f"{l.level}: {l.message}" + "".join(f" {k}={v}" for k, v in l.fields) for l in self.state.logs
        )

    def payments(self) -> List[Any]:
        return [copy.deepcopy(p) for p in self.state.payments.values()]

    def _payment_status(self, id, status):
        p = self.state.payments.get(id)
        if p is None:
            raise NotFound(f"no payment `{id}`")
        if p.status != _t.PaymentStatus.PENDING:
            raise Invalid(f"payment `{id}` is no longer pending")
        p.status = status
        return copy.deepcopy(p)

    def settle_payment(self, id: str) -> None:
        self.event(_h.Event_PaymentSettled(self._payment_status(id, _t.PaymentStatus.SETTLED)))

    def fail_payment(self, id: str, reason: str = "declined") -> None:
        status = _t.PaymentStatus.EXPIRED if reason == "expired" else _t.PaymentStatus.DECLINED
        self.event(_h.Event_PaymentFailed(_h.PaymentFailure(self._payment_status(id, status), reason)))

    # -- files
    def upload(self, member: str, name: str, data: bytes) -> str:
        """`member` uploads a file (to give it to the app); its id."""
        self._member(member)
        host = _FakeHost(self.state, self.actions)
        try:
            host.check_file_room(len(data), False)
        except _wit.Err as e:
            raise from_wit(e.value) from None
        return host.new_file(name, bytes(data), member, False).id

    def file(self, id: str):
        f = self.state.files.get(id)
        return copy.deepcopy(f.info) if f else None

    def file_bytes(self, id: str) -> Optional[bytes]:
        f = self.state.files.get(id)
        return f.data if f else None

    def app_files(self) -> List[Any]:
        return [copy.deepcopy(f.info) for f in self.state.files.values() if f.owned]

    def download(self, member: str, id: str) -> bytes:
        """What `member` downloads for file `id` (`NotFound` unless a message
        they see shows it or they uploaded it)."""
        f = self.state.files.get(id)
        shown = lambda m: id in m.files()  # noqa: E731
        if f is None or not (
            f.info.uploaded_by == member
            or any(p.visible_for(member) and shown(p.message) for p in self.state.messages)
            or any(to == member and shown(m) for to, m in self.state.direct)
        ):
            raise NotFound(f"no file `{id}` that {member} can download")
        return f.data


def _to_value(id: str, kind, v, s: _State, actor: Optional[str] = None):
    """A Python value as the WIT value an input of `kind` takes (Invalid if not)."""
    k = kind.value
    if isinstance(kind, _b.InputKind_Text):
        v = str(v)
        if k.max_length is not None and len(v) > k.max_length:
            raise Invalid(f"at most {k.max_length} characters")
        if k.min_length is not None and len(v) < k.min_length:
            raise Invalid(f"at least {k.min_length} characters")
        return _b.Value_Text(v)
    if isinstance(kind, _b.InputKind_Number):
        try:
            d = Decimal(str(v).strip())
        except InvalidOperation:
            raise Invalid(f"`{v}` is not a number") from None
        if k.min is not None and d < Decimal(k.min):
            raise Invalid(f"at least {k.min}")
        if k.max is not None and d > Decimal(k.max):
            raise Invalid(f"at most {k.max}")
        if k.integer:
            if d != d.to_integral_value():
                raise Invalid(f"`{v}` is not a whole number")
            return _b.Value_Integer(int(d))
        if -d.as_tuple().exponent > k.decimals:
            raise Invalid(f"at most {k.decimals} digits after the point")
        return _b.Value_Decimal(str(d.normalize()) if d != d.to_integral_value() else str(int(d)))
    if isinstance(kind, _b.InputKind_Date):
        if isinstance(v, str):
            try:
                v = _dt.date.fromisoformat(v)
            except ValueError:
                raise Invalid(f"`{v}` is not a date (YYYY-MM-DD)") from None
        return _b.Value_Date(_b.Date(v.year, v.month, v.day))
    if isinstance(kind, _b.InputKind_DateTime):
        if isinstance(v, _dt.datetime):
            v = int(v.timestamp() * 1000)
        return _b.Value_DateTime(int(v))
    if isinstance(kind, _b.InputKind_Choice):
        chosen = [v] if isinstance(v, str) else list(v)
        options = [o.value for o in k.options]
        for c in chosen:
            if c not in options:
                raise Invalid(f"`{c}` is not one of the options")
        if not k.multiple and len(chosen) != 1:
            raise Invalid("choose one option")
        return _b.Value_Choices(chosen)
    if isinstance(kind, _b.InputKind_Member):
        if v not in s.members:
            raise Invalid(f"`{v}` is not a member of this group")
        return _b.Value_Member(v)
    if isinstance(kind, _b.InputKind_Checkbox):
        if isinstance(v, str):
            v = v.lower() in ("true", "yes", "on", "1", "x")
        return _b.Value_Checkbox(bool(v))
    if isinstance(kind, _b.InputKind_File):
        ids = [v] if isinstance(v, str) else list(v)
        if len(ids) > k.max_files:
            raise Invalid(f"at most {k.max_files} files")
        for fid in ids:
            f = s.files.get(fid)
            if f is None or f.info.uploaded_by != actor:
                raise Invalid(f"`{fid}` is not a file you uploaded")
            if k.accept and not any(
                f.info.content_type == a or (a.endswith("/") and f.info.content_type.startswith(a)) for a in k.accept
            ):
                raise Invalid(f"`{f.info.name}` is {f.info.content_type}; accepted: {', '.join(k.accept)}")
        return _b.Value_Files(ids)
    raise Invalid(f"input `{id}`: unsupported kind")
