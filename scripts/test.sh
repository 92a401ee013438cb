#!/usr/bin/env bash
# The whole test suite: host, SDK, plugins and end-to-end tests, built from
# source (guest components included). Every database test runs on SQLite and,
# when a PostgreSQL server is reachable, on PostgreSQL too:
#   QUN_TEST_POSTGRES_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   QUN_REQUIRE_POSTGRES=1 fail instead of skipping when it is not reachable (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "==> installing the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
fi

pg_url="${QUN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if command -v pg_isready >/dev/null && pg_isready -q -d "$pg_url"; then
    echo "==> PostgreSQL reachable at $pg_url: database tests run on SQLite and PostgreSQL"
elif [ "${QUN_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "==> PostgreSQL is required (QUN_REQUIRE_POSTGRES=1) but not reachable at $pg_url" >&2
    exit 1
else
    echo "==> PostgreSQL NOT reachable at $pg_url: PostgreSQL variants of the tests will be SKIPPED"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "==> the web app (scripts/web.sh build): packages, type check, web/dist"
./scripts/web.sh build

echo "==> an S3-compatible server for the S3 file store's tests (scripts/s3.sh)"
eval "$(./scripts/s3.sh start)"
trap 'rm -f "$log"; ./scripts/s3.sh stop' EXIT

echo "==> host, SDK and end-to-end tests (workspace)"
# Build everything once; the end-to-end tests then run this very `qun` binary
# (built with the test feature set) instead of building their own.
cargo test --workspace --all-targets --no-run 2>&1 | tee -a "$log"
export QUN_BIN="$PWD/target/debug/qun"
cargo test --workspace --all-targets 2>&1 | tee -a "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"

echo "==> first-party plugins' own tests (native SDK harness)"
cargo test --manifest-path plugins/Cargo.toml --lib 2>&1 | tee -a "$log"

echo "==> JavaScript apps: sdk-js, examples/checkin-js, the template (scripts/js.sh test)"
./scripts/js.sh test 2>&1 | tee -a "$log"

echo "==> Python apps: sdk-py, examples/checkin-py, the template (scripts/py.sh test)"
./scripts/py.sh test 2>&1 | tee -a "$log"

echo "==> the web app's generated API client matches the API (scripts/web.sh schema)"
./scripts/web.sh schema

echo "==> the web app in a real browser (scripts/web.sh test)"
./scripts/web.sh test 2>&1 | tee -a "$log"

echo "==> the API contract: schemathesis against a real qun serve (scripts/schemathesis.sh)"
./scripts/schemathesis.sh

# One closing line for the whole suite (pipefail has already stopped us on a failure).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     /^ +[0-9]+ passed \(/ { p += $1 }  # Playwright
     /^ +[0-9]+ failed$/ { f += $1 }
     /^# pass [0-9]+$/ { p += $3 }  # node --test (scripts/js.sh)
     /^# fail [0-9]+$/ { f += $3 }
     /^py: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }  # scripts/py.sh
     END { printf "total: %d passed, %d failed\n", p, f }' "$log"
