"""Build an app into a component: `python -m qun.build APP_DIR OUT.wasm`
(also the console script `qun-build-py`).

1. Find the capabilities the app's code uses: every `.py` file of APP_DIR
   (tests excluded: `tests/`, `test_*.py`, `*_test.py`, `conftest.py`) is read
   with `ast`, and each import of an SDK capability module counts:
   `import qun.storage`, `import qun.storage as s`, `from qun import storage`,
   `from qun.storage import get_json`. Nothing else does (`import qun` alone,
   `from qun import *` or `importlib` do not import a capability module).
2. Write a world importing exactly those capability interfaces (and exporting
   `handler`) next to a copy of the SDK's WIT, in a temporary directory.
3. Stage the app's modules and the SDK (without its test harness and build
   code) and run componentize-py on the app's module (default `app`, i.e.
   `APP_DIR/app.py`, which must define `Handler = qun.export(MyApp)`), with
   the real WASI (no `--stub-wasi`), so `print` and tracebacks reach the log.
   A component holds only the modules imported while componentize-py
   initialises the app, so the build imports, at that time, every module of
   the app folder and every module the app's code imports anywhere (also
   inside functions): `import fractions` in a handler then works.
4. Check the component's imports against the capabilities found, and print
   its size, the capabilities and the time taken.
"""

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterable, List, Set

from . import CAPABILITIES
from ._wit import WIT_DIR, componentize_py

SKIP_DIRS = {"tests", "test", "__pycache__", "build", "dist", "node_modules", "venv", "target"}
SDK_SKIP = {"testing.py", "build.py", "_bindings"}


def app_sources(app_dir: str) -> List[str]:
    """The app's own Python files (tests, hidden folders and venvs excluded)."""
    out = []
    for root, dirs, files in os.walk(app_dir):
        dirs[:] = sorted(
            d for d in dirs
            if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
            and not os.path.exists(os.path.join(root, d, "pyvenv.cfg"))
        )
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            if f.startswith("test_") or f.endswith("_test.py") or f == "conftest.py":
                continue
            out.append(os.path.join(root, f))
    return out


def capabilities_in(source: str, filename: str = "<app>") -> Set[str]:
    """The SDK capability modules one Python source imports."""
    found = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if len(parts) >= 2 and parts[0] == "qun" and parts[1] in CAPABILITIES:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "qun":
                continue
            if len(parts) == 1:
                found.update(a.name for a in node.names if a.name in CAPABILITIES)
            elif parts[1] in CAPABILITIES:
                found.add(parts[1])
    return found


def _parse(path: str) -> ast.AST:
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        return ast.parse(source, path)
    except SyntaxError as err:
        raise SystemExit(f"qun-build-py: {path}:{err.lineno}: {err.msg}") from None


def defines_handler(path: str) -> bool:
    """The module assigns (or defines) `Handler` at its top level."""
    for node in _parse(path).body:
        if isinstance(node, ast.ClassDef) and node.name == "Handler":
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "Handler" for t in targets):
                return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == "Handler" for a in node.names):
            return True
    return False


def capabilities(app_dir: str) -> Dict[str, List[str]]:
    """Each capability the app uses, with the files that import it."""
    caps: Dict[str, List[str]] = {}
    for path in app_sources(app_dir):
        _parse(path)
        with open(path, encoding="utf-8") as f:
            for cap in capabilities_in(f.read(), path):
                caps.setdefault(cap, []).append(os.path.relpath(path, app_dir))
    return dict(sorted(caps.items(), key=lambda kv: CAPABILITIES.index(kv[0])))


def app_modules(app_dir: str) -> List[str]:
    """The dotted names of the app's own modules."""
    out = []
    for path in app_sources(app_dir):
        rel = os.path.relpath(path, app_dir)[:-3].split(os.sep)
        if rel[-1] == "__init__":
            rel = rel[:-1]
        if rel and all(p.isidentifier() for p in rel):
            out.append(".".join(rel))
    return out


def imported_modules(app_dir: str) -> List[str]:
    """Every absolute module name the app's code imports, anywhere in it
    (for `from a import b`, both `a` and `a.b`, which may be a module)."""
    found = set()
    for path in app_sources(app_dir):
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return sorted(found)


ENTRY = "_qun_entry"


def entry_module(app_dir: str, module: str) -> str:
    """The module componentize-py runs: it imports what the app may import
    later (so it is in the component), then the app's `Handler`."""
    modules = [m for m in app_modules(app_dir) if m != module]
    wanted = imported_modules(app_dir)
    lines = [
        '"""Generated by qun-build-py: pre-imports what the app imports anywhere."""',
        "import importlib",
        "",
        f"for _name in {sorted(set(modules) | set(wanted))!r}:",
        "    try:",
        "        importlib.import_module(_name)",
        "    except Exception:",
        "        pass  # `from a import name` where name is not a module, an optional import, ...",
        "",
        f"from {module} import Handler  # noqa: E402,F401",
        "",
    ]
    return "\n".join(lines)


def world_wit(caps: Iterable[str]) -> str:
    lines = ["package qun:app@0.2.0;", "", "world app {"]
    lines += [f"    import {c};" for c in caps]
    lines += ["    export handler;", "}", ""]
    return "\n".join(lines)


def write_wit(dest: str, caps: Iterable[str]) -> None:
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(WIT_DIR):
        if name.endswith(".wit") and name != "world.wit":
            shutil.copy(os.path.join(WIT_DIR, name), dest)
    with open(os.path.join(dest, "app-world.wit"), "w") as f:
        f.write(world_wit(caps))


def _leb(b: bytes, i: int):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return r, i


def component_imports(path: str) -> List[str]:
    """The names a component imports (its top-level import section)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"\0asm" or b[4:8] != b"\x0d\x00\x01\x00":
        raise ValueError(f"{path} is not a WebAssembly component")
    i, out = 8, []
    while i < len(b):
        sid = b[i]
        size, i = _leb(b, i + 1)
        end = i + size
        if sid == 10:  # component import section
            n, j = _leb(b, i)
            for _ in range(n):
                tag = b[j]
                ln, j = _leb(b, j + 1)
                out.append(b[j:j + ln].decode())
                j += ln
                if tag == 1:  # legacy version suffix
                    ln, j = _leb(b, j)
                    j += ln
                kind = b[j]
                j += 1
                if kind == 0:  # core module: 0x11 typeidx
                    _, j = _leb(b, j + 1)
                elif kind in (1, 4, 5):  # func, component, instance: typeidx
                    _, j = _leb(b, j)
                elif kind in (2, 3):  # value bound, type bound
                    if b[j] == 0:
                        _, j = _leb(b, j + 1)
                    elif kind == 3:
                        j += 1
                    else:
                        raise ValueError("value imports with a value type are not supported")
        i = end
    return out


def imported_capabilities(path: str) -> List[str]:
    """The `qun:app` capability interfaces a component imports."""
    caps = []
    for name in component_imports(path):
        if name.startswith("qun:app/"):
            iface = name[len("qun:app/"):].split("@")[0]
            if iface in CAPABILITIES:
                caps.append(iface)
    return caps


def stage(app_dir: str, dest: str) -> None:
    """Copy the app's modules and the SDK (runtime part) to `dest`."""
    for path in app_sources(app_dir):
        rel = os.path.relpath(path, app_dir)
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy(path, os.path.join(dest, rel))
    sdk = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(dest, "qun"), exist_ok=True)
    for name in os.listdir(sdk):
        if name.endswith(".py") and name not in SDK_SKIP:
            shutil.copy(os.path.join(sdk, name), os.path.join(dest, "qun", name))


def build(app_dir: str, out: str, module: str = "app", quiet: bool = False) -> dict:
    app_dir = os.path.abspath(app_dir)
    out = os.path.abspath(out)
    if not os.path.exists(os.path.join(app_dir, *module.split(".")) + ".py"):
        raise SystemExit(f"qun-build-py: no module `{module}` ({module.replace('.', '/')}.py) in {app_dir}")
    caps = capabilities(app_dir)
    if not defines_handler(os.path.join(app_dir, *module.split(".")) + ".py"):
        raise SystemExit(
            f"qun-build-py: {module}.py defines no `Handler`: end it with `Handler = export(YourApp)`"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="qun-build-py-") as tmp:
        wit = os.path.join(tmp, "wit")
        src = os.path.join(tmp, "src")
        write_wit(wit, caps)
        stage(app_dir, src)
        with open(os.path.join(src, ENTRY + ".py"), "w") as f:
            f.write(entry_module(app_dir, module))
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)  # bundle only the staged modules and the stdlib
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        cmd = [componentize_py(), "-q", "-d", wit, "-w", "app", "componentize", "-p", src, ENTRY, "-o", out]
        result = subprocess.run(cmd, cwd=tmp, env=env)
        if result.returncode != 0:
            raise SystemExit(f"qun-build-py: componentize-py failed (exit {result.returncode})")
    seconds = time.monotonic() - started
    imported = imported_capabilities(out)
    if sorted(imported) != sorted(caps):
        raise SystemExit(
            f"qun-build-py: the component imports {imported}, but the app's code uses {list(caps)}"
        )
    info = {
        "path": out,
        "bytes": os.path.getsize(out),
        "capabilities": list(caps),
        "imports": component_imports(out),
        "seconds": round(seconds, 1),
    }
    if not quiet:
        print(f"built {out}")
        print(f"  size: {info['bytes']} bytes ({info['bytes'] / (1 << 20):.1f} MiB)")
        print(f"  capabilities: {', '.join(caps) or '(none)'}")
        for cap, files in caps.items():
            print(f"    {cap}: imported by {', '.join(files)}")
        print(f"  build time: {info['seconds']} s")
    return info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="qun-build-py",
        description="Build a Qun app written in Python into a WebAssembly component.",
    )
    p.add_argument("app_dir", help="the app's folder (holding app.py)")
    p.add_argument("out", nargs="?", help="the component to write, e.g. app.wasm")
    p.add_argument("--module", default="app", help="the module defining Handler (default: app)")
    p.add_argument("--imports", action="store_true", help="also list every import of the component")
    p.add_argument("--capabilities-only", action="store_true",
                   help="only print the capabilities the app's code uses, and build nothing")
    args = p.parse_args(argv)
    if args.capabilities_only:
        print(" ".join(capabilities(args.app_dir)))
        return 0
    if not args.out:
        p.error("the output file (OUT.wasm) is required")
    info = build(args.app_dir, args.out, args.module)
    if args.imports:
        print("  imports:")
        for name in info["imports"]:
            print(f"    {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
