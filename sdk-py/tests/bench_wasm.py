"""Rough timings of a built Python component in wasmtime (the PyPI package,
default allocator, no pooling; not the host): compile, instantiate, calls.

    target/py-venv/bin/python sdk-py/tests/bench_wasm.py target/lang/checkin-py.wasm
"""

import statistics
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from wasm_host import WasmApp  # noqa: E402


def main(path, n=200):
    t = time.perf_counter()
    app = WasmApp(path)
    print(f"compile + first instantiate: {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    app.describe()
    print(f"first call (describe): {(time.perf_counter() - t) * 1000:.1f} ms")
    inst = []
    for _ in range(5):
        t = time.perf_counter()
        app.instance = app_linker_instantiate(app)
        inst.append(time.perf_counter() - t)
    print(f"instantiate (again): median {statistics.median(inst) * 1000:.1f} ms")
    calls = []
    for i in range(n):
        t = time.perf_counter()
        r = app.call("describe")
        calls.append(time.perf_counter() - t)
    calls.sort()
    print(f"describe x{n}: p50 {calls[n // 2] * 1000:.2f} ms, p99 {calls[int(n * 0.99)] * 1000:.2f} ms")
    cmds = []
    for i in range(n):
        app.members[f"m{i}"] = f"M{i}"
        t = time.perf_counter()
        r = app.command(f"m{i}", "checkin")
        cmds.append(time.perf_counter() - t)
        assert r.tag == "ok", r
    cmds.sort()
    print(f"on-command (checkin, storage+membership+messaging) x{n}: p50 {cmds[n // 2] * 1000:.2f} ms, "
          f"p99 {cmds[int(n * 0.99)] * 1000:.2f} ms")


def app_linker_instantiate(app):
    import wasmtime

    # a new store and instance from the same compiled component
    from wasmtime import component as wc

    linker = wc.Linker(app.engine)
    linker.add_wasip2()
    with linker.root() as root:
        for name in app.imports:
            if name.startswith("qun:app/"):
                add = getattr(app, "_link_" + name[len("qun:app/"):].split("@")[0], None)
                if add is not None:
                    with root.add_instance(name) as i:
                        add(i)
    app.store = wasmtime.Store(app.engine)
    wasi = wasmtime.WasiConfig()
    app.store.set_wasi(wasi)
    instance = linker.instantiate(app.store, app.component)
    app.handler = instance.get_export_index(app.store, "qun:app/handler@0.2.0")
    return instance


if __name__ == "__main__":
    main(sys.argv[1])
