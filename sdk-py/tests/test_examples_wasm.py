"""examples/checkin-py built into a real component and run in wasmtime:
its imports are exactly what its code imports, and its command, action and
timer work in wasm (the SDK's conversions, the narrowed world's bindings)."""

import json
import os

import pytest

from qun import build

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "checkin-py")

pytestmark = pytest.mark.skipif(not os.path.isdir(EXAMPLE), reason="not in a Qun checkout")


@pytest.fixture(scope="module")
def checkin(tmp_path_factory):
    from wasm_host import WasmApp

    out = str(tmp_path_factory.mktemp("checkin") / "checkin-py.wasm")
    build.build(EXAMPLE, out)
    return WasmApp(out)


def test_imports_are_what_the_code_imports(checkin):
    assert build.imported_capabilities(checkin.path) == ["membership", "messaging", "storage", "scheduler", "log"]
    assert not any(i.startswith("qun:app/payments") or i.startswith("qun:app/files") for i in checkin.imports)


def test_command_action_and_timer_in_wasm(checkin):
    from wasm_host import buttons_of, field, text_of

    assert checkin.describe().name == "checkin-py"
    r = checkin.command("ann", "checkin", "early")
    assert r.tag == "ok" and r.payload.tag == "private"
    assert field(r.payload.payload, "text") == "Ann checked in for 2026-01-01."
    assert len(checkin.posted) == 1
    card = checkin.posted[0]
    assert "Checked in: 1" in text_of(card)
    assert [b.label for b in buttons_of(card)] == ["Check in", "Who's in"]
    assert list(checkin.timers) == ["summary/2026-01-01"]

    button = buttons_of(card)[0]
    answer = checkin.action("bob", button.action, button.payload, message_id="1")
    assert field(field(answer, "response").payload, "text") == "Bob checked in for 2026-01-01."
    assert "Checked in: 2" in text_of(checkin.posted[0])  # the card, updated in place

    whos = buttons_of(checkin.posted[0])[1]
    answer = checkin.action("ann", whos.action, whos.payload, message_id="1")
    assert field(field(answer, "response").payload, "text") == "2 checked in on 2026-01-01: Ann (early), Bob"

    checkin.timer("summary/2026-01-01")
    assert field(checkin.posted[-1], "text") == "Summary for 2026-01-01: 2 checked in (Ann, Bob)"
    assert json.loads(checkin.kv["day/2026-01-01/ann"])["note"] == "early"
    assert [m for _, m, _ in checkin.logs] == ["checked in", "checked in", "summary posted"]


def test_unknown_member_is_a_clean_not_found(checkin):
    r = checkin.command("zed", "checkin")
    assert r.tag == "err" and r.payload.tag == "not-found"
