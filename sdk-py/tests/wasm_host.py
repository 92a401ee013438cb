"""A small host for tests (results are lowered untagged: an ok value as
itself, an error as its `Variant`): runs a built component in wasmtime (the PyPI
package `wasmtime`, component model API) with in-memory `qun:app`
capabilities, so the SDK's own tests check what really happens in wasm:
the component's imports, error variants, print and tracebacks.

It links only the capability interfaces the component imports (as the real
host reads them) plus WASI p2; it is not the real host (no atomicity, no
checks): that one is tested by the host's own suite.
"""

import io
import os
import tempfile

import wasmtime
from wasmtime import component as wc

from qun.build import component_imports

V = "0.2.0"


def record(**fields):
    r = wc.Record()
    for k, v in fields.items():
        setattr(r, k.replace("_", "-"), v)
    return r


def field(rec, name):
    return getattr(rec, name.replace("_", "-"))


class WasmApp:
    def __init__(self, path):
        self.path = path
        self.imports = component_imports(path)
        self.engine = wasmtime.Engine()
        self.component = wc.Component.from_file(self.engine, path)
        self.kv = {}
        self.logs = []
        self.posted = []
        self.timers = {}
        self.members = {"ann": "Ann", "bob": "Bob"}
        self.now = 1_767_225_600_000
        self._out = tempfile.NamedTemporaryFile(delete=False)
        self._err = tempfile.NamedTemporaryFile(delete=False)
        linker = wc.Linker(self.engine)
        linker.add_wasip2()
        with linker.root() as root:
            for name in self.imports:
                if not name.startswith("qun:app/"):
                    continue
                iface = name[len("qun:app/"):].split("@")[0]
                add = getattr(self, "_link_" + iface.replace("-", "_"), None)
                if add is not None:
                    with root.add_instance(name) as inst:
                        add(inst)
        self.store = wasmtime.Store(self.engine)
        wasi = wasmtime.WasiConfig()
        wasi.stdout_file = self._out.name
        wasi.stderr_file = self._err.name
        self.store.set_wasi(wasi)
        self.instance = linker.instantiate(self.store, self.component)
        self.handler = self.instance.get_export_index(self.store, f"qun:app/handler@{V}")

    # -- capabilities
    def _link_storage(self, i):
        i.add_func("get", lambda s, k: self.kv.get(k))
        def set_(s, k, v):
            self.kv[k] = bytes(v)
            return None
        i.add_func("set", set_)
        i.add_func("delete", lambda s, k: self.kv.pop(k, None) is not None)
        def list_(s, prefix, cursor, limit):
            keys = sorted(k for k in self.kv if k.startswith(prefix) and (cursor is None or k > cursor))
            page = keys[:limit]
            entries = [record(key=k, value=self.kv[k]) for k in page]
            return record(entries=entries, next_cursor=page[-1] if len(keys) > limit else None)
        i.add_func("list", list_)
        def cas(s, k, expected, new):
            if self.kv.get(k) != (None if expected is None else bytes(expected)):
                return False
            if new is None:
                self.kv.pop(k, None)
            else:
                self.kv[k] = bytes(new)
            return True
        i.add_func("compare-and-swap", cas)

    def _link_log(self, i):
        def write(s, level, message, fields):
            self.logs.append((level, message, list(fields)))
        i.add_func("write", write)

    def _link_messaging(self, i):
        def post(s, message):
            self.posted.append(message)
            return str(len(self.posted))
        i.add_func("post", post)
        def update(s, id, message):
            self.posted[int(id) - 1] = message
            return None
        i.add_func("update", update)
        i.add_func("delete", lambda s, id: None)
        i.add_func("post-private", lambda s, to, m: post(s, m))
        i.add_func("send-direct", lambda s, to, m: None)

    def _link_scheduler(self, i):
        def schedule(s, key, at, payload):
            self.timers[key] = (at, payload)
            return None
        i.add_func("schedule", schedule)
        def recurring(s, key, rule, payload):
            self.timers[key] = (self.now + 86_400_000, payload)
            return self.now + 86_400_000
        i.add_func("schedule-recurring", recurring)
        i.add_func("cancel", lambda s, key: self.timers.pop(key, None) is not None)

    def _link_membership(self, i):
        def member(id):
            profile = record(avatar_url=None, locale=None, time_zone=None)
            return record(id=id, display_name=self.members[id], role="member", joined_at=0, profile=profile)
        def get_member(s, id):
            if id not in self.members:
                return wc.Variant("not-found", f"`{id}` is not a member")
            return member(id)
        i.add_func("get-member", get_member)
        i.add_func("current-group", lambda s: record(
            id="g", name="G", owner="ann", member_count=len(self.members), time_zone="UTC", locale="en"))
        i.add_func("list-members", lambda s, cursor, limit: record(
            members=[member(m) for m in sorted(self.members)], next_cursor=None))

    # -- calls
    def call(self, name, *args):
        idx = self.instance.get_export_index(self.store, name, self.handler)
        func = self.instance.get_func(self.store, idx)
        return func(self.store, *args)

    def ctx(self, actor="ann"):
        return record(group_id="g", installation_id="i", actor=actor, now=self.now,
                      invocation_id="inv", time_zone="UTC", locale="en")

    def describe(self):
        return self.call("describe")

    def command(self, actor, name, args=""):
        return self.call("on-command", self.ctx(actor), record(name=name, args=args, options=[]))

    def action(self, actor, name, payload="", message_id=None):
        return self.call("on-action", self.ctx(actor),
                         record(name=name, payload=payload, value=None, message_id=message_id))

    def timer(self, key):
        at, payload = self.timers.pop(key)
        self.now = max(self.now, at)
        event = wc.Variant("timer-fired", record(key=key, payload=payload, due=at, recurring=False))
        return self.call("on-event", self.ctx(None), event)

    def stdout(self):
        with open(self._out.name) as f:
            return f.read()

    def stderr(self):
        with open(self._err.name) as f:
            return f.read()


def text_of(message):
    """The plain text of a lowered `blocks.message` record and its blocks."""
    parts = [field(message, "text")]
    for b in field(message, "blocks"):
        if b.tag in ("text", "header", "context"):
            parts.append(b.payload)
        elif b.tag == "fields":
            parts.extend(f"{f.name}: {f.value}" for f in b.payload)
    return "\n".join(parts)


def buttons_of(message):
    out = []
    for b in field(message, "blocks"):
        if b.tag == "actions":
            out.extend(e.payload for e in b.payload if e.tag == "button")
    return out
