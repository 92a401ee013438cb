#!/usr/bin/env bash
# Run Qun locally with a demo: builds the first-party apps and the server,
# then `qun serve --demo` on SQLite in ./qun-data (or $QUN_DATA_DIR). The seed
# (users with fixed demo tokens, a `demo` group, the apps installed) is
# idempotent: running this again reuses what is there. Extra arguments go to
# `qun serve` (e.g. --listen 127.0.0.1:9090). Stop it with Ctrl-C. Open the
# address it prints in a browser: the web app offers the demo users by name.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v rustup >/dev/null; then
    rustup target add wasm32-wasip2
fi

echo "==> building the first-party apps (wasm32-wasip2)"
cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir target/wasm

echo "==> building the web app (web/dist; scripts/web.sh)"
./scripts/web.sh build

echo "==> building qun"
cargo build -p qun-host --bin qun

data_dir="${QUN_DATA_DIR:-./qun-data}"
mkdir -p "$data_dir/apps"
# Only the plugins (target/wasm also holds the test suite's components).
for manifest in plugins/*/Cargo.toml; do
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1)
    component="target/wasm/wasm32-wasip2/release/${name//-/_}.wasm"
    if [ -f "$component" ]; then
        cp "$component" "$data_dir/apps/"
    fi
done

echo "==> starting qun on SQLite in $data_dir"
exec env -u DATABASE_URL ./target/debug/qun serve --demo --data-dir "$data_dir" --demo-apps "$data_dir/apps" "$@"
