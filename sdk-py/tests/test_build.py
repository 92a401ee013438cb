"""The build command: capabilities found in the app's imports, the narrowed
world, and the real component (built with componentize-py and run in
wasmtime): its imports, its error variants, print and tracebacks."""

import os
import time

import pytest

from qun import build

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "apps", "storage_log")


@pytest.mark.parametrize("source,caps", [
    ("import qun.storage", {"storage"}),
    ("import qun.storage as s, qun.log", {"storage", "log"}),
    ("from qun import storage, scheduler as sch, Message", {"storage", "scheduler"}),
    ("from qun.messaging import post", {"messaging"}),
    ("from qun.files import FileWriter\nfrom qun import payments", {"files", "payments"}),
    ("def f():\n    from qun import membership\n    return membership", {"membership"}),
    ("import qun\nfrom qun import App, Reply, export", set()),
    ("from qun import *", set()),
    ("from .qun import storage\nimport quntum.storage", set()),
])
def test_capabilities_come_from_imports_of_sdk_modules(source, caps):
    assert build.capabilities_in(source) == caps


def test_the_app_folder_is_scanned_without_its_tests():
    caps = build.capabilities(APP)
    assert caps == {"storage": ["notes.py"], "log": ["app.py"]}
    assert [os.path.relpath(p, APP) for p in build.app_sources(APP)] == ["app.py", "notes.py"]


def test_the_entry_module_pre_imports_what_the_app_imports_anywhere():
    assert build.app_modules(APP) == ["app", "notes"]
    assert {"fractions", "notes", "qun", "qun.storage", "qun.log"} <= set(build.imported_modules(APP))
    entry = build.entry_module(APP, "app")
    assert "'fractions'" in entry and "'notes'" in entry and "from app import Handler" in entry


def test_the_world_imports_exactly_those():
    assert build.world_wit(["storage", "log"]) == (
        "package qun:app@0.2.0;\n\nworld app {\n    import storage;\n    import log;\n"
        "    export handler;\n}\n"
    )


def test_wit_copy_matches_the_repository():
    repo_wit = os.path.join(HERE, "..", "..", "wit", "0.2.0")
    if not os.path.isdir(repo_wit):
        pytest.skip("not in a Qun checkout")
    for name in sorted(os.listdir(repo_wit)):
        with open(os.path.join(repo_wit, name), "rb") as a, open(os.path.join(build.WIT_DIR, name), "rb") as b:
            assert a.read() == b.read(), f"sdk-py/src/qun/wit/{name} differs from wit/0.2.0/{name}"


@pytest.fixture(scope="module")
def component(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("build") / "storage-log.wasm")
    started = time.monotonic()
    info = build.build(APP, out)
    print(f"built {out}: {info['bytes']} bytes in {time.monotonic() - started:.1f} s")
    return out


def test_component_imports_only_storage_and_log(component):
    imports = build.component_imports(component)
    qun = sorted(i for i in imports if i.startswith("qun:app/"))
    assert qun == ["qun:app/blocks@0.2.0", "qun:app/log@0.2.0", "qun:app/storage@0.2.0", "qun:app/types@0.2.0"]
    assert build.imported_capabilities(component) == ["storage", "log"]
    # Real WASI (no --stub-wasi): stdout/stderr are imported, so print works.
    assert "wasi:cli/stderr@0.2.9" in imports and "wasi:cli/stdout@0.2.9" in imports
    assert not any(i.startswith("wasi:http") for i in imports)


@pytest.fixture(scope="module")
def app(component):
    from wasm_host import WasmApp

    return WasmApp(component)


def test_component_describes_itself(app):
    info = app.describe()
    assert info.name == "storage-log"
    assert [c.name for c in info.commands] == ["note", "boom", "third", "deny", "bad"]


def test_component_runs_storage_log_and_print(app):
    from wasm_host import field

    r = app.command("ann", "note", "buy milk")
    assert r.tag == "ok" and r.payload.tag == "post"
    assert field(r.payload.payload, "text") == "noted #1"
    assert app.kv["note/1"] == b'{"by":"ann","text":"buy milk"}'
    assert app.logs[-1][1:] == ("noted", [("n", "1")])
    assert "noted 1" in app.stdout()
    answer = app.action("bob", "count")
    # (wasmtime lifts `result<action-answer, error>` untagged: the record itself when ok)
    assert field(answer, "data") == '{"count":1}' and field(answer, "response").tag == "none"


def test_uncaught_exception_in_wasm_is_internal_with_its_message(app):
    r = app.command("ann", "boom")
    assert r.tag == "err"
    assert (r.payload.tag, r.payload.payload) == ("internal", "IndexError: list index out of range")
    assert "printed before failing" in app.stdout()
    err = app.stderr()
    assert "Traceback (most recent call last)" in err and "IndexError: list index out of range" in err


@pytest.mark.parametrize("cmd,variant,message", [
    ("deny", "denied", "only the owner may"),
    ("bad", "invalid", "bad input: x"),
])
def test_raised_sdk_error_in_wasm_is_that_variant(app, cmd, variant, message):
    r = app.command("ann", cmd, "x")
    assert r.tag == "err" and (r.payload.tag, r.payload.payload) == (variant, message)


def test_a_module_imported_inside_a_handler_is_in_the_component(app):
    from wasm_host import field

    r = app.command("ann", "third")
    assert r.tag == "ok" and field(r.payload.payload, "text") == "1/3"


def test_the_component_keeps_working_after_errors(app):
    r = app.command("bob", "note", "again")
    assert r.tag == "ok" and r.payload.tag == "post"


def test_the_command_line_prints_the_capabilities():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "qun.build", "--capabilities-only", APP],
                         check=True, capture_output=True, text=True).stdout
    assert out.split() == ["storage", "log"]
    bad = subprocess.run([sys.executable, "-m", "qun.build", APP], capture_output=True, text=True)
    assert bad.returncode == 2 and "OUT.wasm" in bad.stderr


def test_clear_messages_for_a_syntax_error_and_a_missing_handler(tmp_path):
    (tmp_path / "app.py").write_text("from qun import App, export\nclass A(App):\n    pass\n")
    with pytest.raises(SystemExit, match="defines no `Handler`"):
        build.build(str(tmp_path), str(tmp_path / "out.wasm"))
    (tmp_path / "app.py").write_text("def broken(:\n")
    with pytest.raises(SystemExit, match=r"app.py:1: "):
        build.build(str(tmp_path), str(tmp_path / "out.wasm"))
    assert build.defines_handler(os.path.join(APP, "app.py"))
