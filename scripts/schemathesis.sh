#!/usr/bin/env bash
# The API contract, checked from outside: schemathesis (pinned, installed into
# target/schemathesis-venv by this script and reused on later runs) against a
# real `qun serve --demo` (rate limits off), with every check including the
# stateful phase, as a platform admin and as a plain member, on SQLite and,
# when PostgreSQL answers, on PostgreSQL. Any failure fails the script.
#
#   QUN_BIN                  the qun binary (default target/debug/qun)
#   QUN_TEST_POSTGRES_URL    admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   QUN_REQUIRE_POSTGRES=1   fail instead of skipping PostgreSQL when it is not reachable
#   QUN_SCHEMATHESIS_EXAMPLES  examples per operation (default 25)
#   QUN_SCHEMATHESIS_SEED      the random seed (default 1; set another to explore)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

version=4.32.5
venv="$root/target/schemathesis-venv"
examples="${QUN_SCHEMATHESIS_EXAMPLES:-25}"
seed="${QUN_SCHEMATHESIS_SEED:-1}"
qun="${QUN_BIN:-$root/target/debug/qun}"
pg_url="${QUN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    echo "==> installing schemathesis $version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

if [ ! -x "$qun" ]; then
    echo "==> building qun"
    cargo build --workspace --bin qun
fi

# The first-party apps for the demo seed (the test build puts them here too).
echo "==> building the first-party apps (wasm32-wasip2)"
cargo build --quiet --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir target/wasm

work="$(mktemp -d)"
server_pid=""
pg_db=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [ -n "$pg_db" ]; then psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/apps"
for manifest in plugins/*/Cargo.toml; do
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1)
    component="target/wasm/wasm32-wasip2/release/${name//-/_}.wasm"
    if [ -f "$component" ]; then cp "$component" "$work/apps/"; fi
done

# Start `qun serve --demo` on $1 (a database URL); sets $base and $gid.
start() {
    local data="$work/data-$RANDOM" log
    mkdir -p "$data"
    log="$data/serve.log"
    "$qun" serve --demo --demo-apps "$work/apps" --data-dir "$data" --database-url "$1" \
        --listen 127.0.0.1:0 --rate-limits false >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        base=$(sed -n 's/^qun listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
        [ -n "$base" ] && break
        if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log" >&2; echo "qun serve exited" >&2; exit 1; fi
        sleep 0.1
    done
    [ -n "$base" ] || { cat "$log" >&2; echo "qun serve did not start" >&2; exit 1; }
    gid=$(curl -fsS -H 'Authorization: Bearer demo-owner-token' "$base/v1/me" \
        | python3 -c 'import json,sys; print([g["id"] for g in json.load(sys.stdin)["groups"] if g["name"]=="demo"][0])')
}

stop() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

failed=0
# Run every check as $2 (a demo token) against the server at $base.
check() {
    local backend="$1" who="$2" started rc=0
    started=$(date +%s)
    # Half of the generated group ids are the demo group's, so member routes
    # reach a real group (and its installed apps) rather than only 404s.
    cp "$root/scripts/schemathesis.toml" "$work/schemathesis.toml"
    printf '\n[dictionaries.demo-group]\nvalues = ["%s"]\n\n[parameters]\n"path.gid" = { dictionary = "demo-group", probability = 0.5 }\n' \
        "$gid" >>"$work/schemathesis.toml"
    echo "==> schemathesis $version on $backend as $who ($examples examples per operation, seed $seed)"
    # Two operations are left out: the live stream never ends (its contract
    # is tested in tests/tests/server_stream.rs), and revoking one of your
    # own tokens would revoke the very token this run uses (the stateful
    # phase finds its id in GET /v1/me/tokens; tested in server_tokens.rs).
    # (Run from the scratch directory: schemathesis keeps a cache in its
    # working directory. One worker: with two threads Hypothesis 6 sometimes
    # fails inside itself, "AST constructor recursion depth mismatch", and
    # generation is bound by Python anyway.)
    (cd "$work" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/scripts" \
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
        --exclude-operation-id stream \
        --exclude-operation-id revoke_token \
        --checks all \
        --max-examples "$examples" \
        --seed "$seed" \
        --workers 1 \
        --request-timeout 20 \
        --generation-database none \
        --no-color \
        -H "Authorization: Bearer demo-$who-token") \
        >"$work/st-$backend-$who.log" 2>&1 || rc=$?
    tail -n 40 "$work/st-$backend-$who.log"
    if [ "$rc" -ne 0 ]; then
        echo "==> schemathesis on $backend as $who FAILED (exit $rc); the full report:" >&2
        cat "$work/st-$backend-$who.log" >&2
        failed=1
    fi
    echo "==> schemathesis on $backend as $who: $(( $(date +%s) - started )) s"
}

# A fresh server and database for each caller: what the admin's run did
# (users disabled, apps suspended) must not decide what the member's run sees.
for who in admin alice; do
    start "sqlite://$work/qun-sqlite-$who.db?mode=rwc"
    check sqlite "$who"
    stop
done

if command -v pg_isready >/dev/null && pg_isready -q -d "$pg_url"; then
    for who in admin alice; do
        pg_db="qun_test_schemathesis_${who}_$$"
        psql -q "$pg_url" -c "CREATE DATABASE $pg_db" >/dev/null
        start "${pg_url%/*}/$pg_db"
        check postgres "$who"
        stop
        psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
        pg_db=""
    done
elif [ "${QUN_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "==> PostgreSQL is required (QUN_REQUIRE_POSTGRES=1) but not reachable at $pg_url" >&2
    exit 1
else
    echo "==> PostgreSQL NOT reachable at $pg_url: schemathesis on PostgreSQL SKIPPED"
fi

if [ "$failed" -ne 0 ]; then
    echo "==> schemathesis found failures" >&2
    exit 1
fi
echo "==> schemathesis: no failures"
