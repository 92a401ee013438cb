#!/usr/bin/env bash
# Python apps: the SDK (sdk-py), its template and the example checkin-py.
#
#   ./scripts/py.sh test                  every Python test: sdk-py's own (a real
#                                         component built and run in wasmtime
#                                         included), examples/checkin-py's, and the
#                                         template's after filling it into a temp dir
#   ./scripts/py.sh build APP_DIR OUT.wasm  build one app (qun-build-py)
#   ./scripts/py.sh examples              build examples/checkin-py to
#                                         target/lang/checkin-py.wasm and the filled
#                                         template (hello-py) to target/lang/hello-py.wasm
#   ./scripts/py.sh venv                  only install (idempotent)
#
# Installs into target/py-venv what sdk-py/requirements-dev.lock pins
# (componentize-py 0.25.1, pytest, wasmtime for the SDK's wasm tests) and
# sdk-py in editable mode; skipped when the lock file and pyproject.toml have
# not changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/target/py-venv"
PY="$VENV/bin/python"
LOCK="$ROOT/sdk-py/requirements-dev.lock"
STAMP="$VENV/.qun-installed"

ensure_venv() {
    local want lock
    # One install at a time (tests build apps in parallel).
    mkdir -p "$ROOT/target"
    exec {lock}>"$ROOT/target/.py-venv.lock"
    flock "$lock"
    want="$(cat "$LOCK" "$ROOT/sdk-py/pyproject.toml" | sha256sum | cut -d' ' -f1) $ROOT"
    if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
        && "$VENV/bin/componentize-py" --version 2>/dev/null | grep -q ' 0\.25\.1'; then
        exec {lock}>&-
        return 0
    fi
    echo "==> installing into $VENV (componentize-py 0.25.1, pytest, wasmtime, sdk-py)" >&2
    mkdir -p "$ROOT/target"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$LOCK" >&2
    "$PY" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT/sdk-py" >&2
    echo "$want" > "$STAMP"
    exec {lock}>&-
}

# Fills the template into $1 with the app name $2 (as `qun app new NAME --lang python`
# does: {{name}}, {{module}} = name with - as _, {{title}} = "Hello Py", {{sdk_py}}).
fill_template() {
    local dest="$1" name="$2" module="${2//-/_}" title
    title="$(echo "$2" | tr '-' '\n' | sed -e '/^$/d' -e 's/^\(.\)/\U\1/' | paste -sd' ')"
    mkdir -p "$dest"
    (cd "$ROOT/sdk-py/template" && find . -type f ! -path '*/__pycache__/*' ! -path '*/.pytest_cache/*') |
    while read -r f; do
        mkdir -p "$dest/$(dirname "$f")"
        sed -e "s|{{name}}|$name|g" -e "s|{{module}}|$module|g" -e "s|{{title}}|$title|g" \
            -e "s|{{sdk_py}}|$ROOT/sdk-py|g" \
            "$ROOT/sdk-py/template/$f" > "$dest/$f"
    done
}

totals_passed=0
totals_failed=0
run_pytest() { # DIR WHAT ARGS...
    local dir="$1" what="$2"
    shift 2
    echo "==> pytest: $what"
    local out rc=0
    out="$(mktemp)"
    (cd "$dir" && "$PY" -m pytest -q -p no:cacheprovider "$@") 2>&1 | tee "$out" || rc=$?
    local line
    line="$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$out" | tail -1 || true)"
    local p f
    p="$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)"
    f="$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)"
    totals_passed=$((totals_passed + p))
    totals_failed=$((totals_failed + f))
    rm -f "$out"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then totals_failed=$((totals_failed + 1)); fi
    return 0
}

cmd="${1:-}"
case "$cmd" in
venv)
    ensure_venv
    ;;
test)
    ensure_venv
    run_pytest "$ROOT/sdk-py" "sdk-py (harness, builders, build command, a component in wasmtime)"
    run_pytest "$ROOT/examples/checkin-py" "examples/checkin-py" tests
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    fill_template "$tmp/hello-py" hello-py
    run_pytest "$tmp/hello-py" "the template, filled as hello-py" tests
    echo "py: $totals_passed passed, $totals_failed failed"
    [ "$totals_failed" -eq 0 ]
    ;;
build)
    [ $# -eq 3 ] || { echo "usage: $0 build APP_DIR OUT.wasm" >&2; exit 2; }
    ensure_venv
    "$VENV/bin/qun-build-py" "$2" "$3"
    ;;
examples)
    ensure_venv
    mkdir -p "$ROOT/target/lang"
    "$VENV/bin/qun-build-py" "$ROOT/examples/checkin-py" "$ROOT/target/lang/checkin-py.wasm"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    fill_template "$tmp/hello-py" hello-py
    "$VENV/bin/qun-build-py" "$tmp/hello-py" "$ROOT/target/lang/hello-py.wasm"
    echo "$ROOT/target/lang/checkin-py.wasm"
    echo "$ROOT/target/lang/hello-py.wasm"
    ;;
*)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
