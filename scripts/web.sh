#!/usr/bin/env bash
# The web app (web/): install its packages, check its types, build it into
# web/dist (which `qun serve` serves), and, with `test`, run its browser tests
# in Debian's Chromium against a real `qun serve` ($QUN_BIN).
#   scripts/web.sh build   npm ci (when package-lock.json changed) + tsc + vite build
#   scripts/web.sh schema  regenerate web/src/api/schema.d.ts from `qun openapi`
#                          and fail if it differed (the client must match the API)
#   scripts/web.sh test    Chromium (apt-get when missing) + Playwright tests
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null; then
    echo "==> npm is needed for the web app (Node.js 20 or newer)" >&2
    exit 1
fi

install_packages() {
    # npm ci only when the lock file changed since the last install.
    if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.qun-lock; then
        echo "==> web: npm ci"
        npm ci --no-audit --no-fund
        cp package-lock.json node_modules/.qun-lock
    fi
}

case "${1:-build}" in
build)
    install_packages
    echo "==> web: type check and build (web/dist)"
    npx tsc --noEmit
    npx vite build --logLevel warn
    ;;
schema)
    install_packages
    qun="${QUN_BIN:-../target/debug/qun}"
    "$qun" openapi > openapi.json
    npx openapi-typescript openapi.json -o src/api/schema.d.ts >/dev/null
    if ! git diff --quiet -- src/api/schema.d.ts; then
        echo "==> web: src/api/schema.d.ts did not match the API; it is regenerated now: commit it" >&2
        git --no-pager diff --stat -- src/api/schema.d.ts >&2
        [ "${QUN_SCHEMA_FIX:-}" = 1 ] || exit 1
    fi
    ;;
test)
    install_packages
    chromium="${QUN_CHROMIUM:-/usr/bin/chromium}"
    if [ ! -x "$chromium" ]; then
        echo "==> web: installing Debian's chromium for the browser tests"
        if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
        $sudo apt-get install -y chromium >/dev/null 2>&1 || {
            $sudo apt-get update >/dev/null && $sudo apt-get install -y chromium >/dev/null
        }
    fi
    mkdir -p screenshots
    echo "==> web: browser tests (Playwright, Chromium); screenshots in web/screenshots"
    npx playwright test
    ;;
*)
    echo "usage: scripts/web.sh build|schema|test" >&2
    exit 2
    ;;
esac
