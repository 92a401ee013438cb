#!/usr/bin/env bash
# JavaScript apps for Qun: the SDK (sdk-js), its example and its template.
#
#   ./scripts/js.sh setup                  install sdk-js's tools (npm ci, skipped while the lock is unchanged)
#   ./scripts/js.sh test                   every JS test: sdk-js's own (a real component built and run),
#                                          examples/checkin-js's (on Node, then again against its built
#                                          component), and the template's (filled into a temp dir)
#   ./scripts/js.sh build APP_DIR OUT.wasm [--default-features]
#                                          build one app (installing its dependencies if needed)
#   ./scripts/js.sh examples               build examples/checkin-js -> target/lang/checkin-js.wasm and the
#                                          template (as hello-js) -> target/lang/hello-js.wasm; print the paths
#   ./scripts/js.sh check                  `qun app check` both built examples ($QUN_BIN, default target/debug/qun,
#                                          then target/release/qun): the host's view, capabilities included
#
# Everything is installed under the packages (node_modules), never globally.
# Needs node >= 20 and npm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdk-js"

die() { echo "js.sh: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Node 20 or newer is needed)"
command -v npm >/dev/null || die "npm is not installed"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "Node 20 or newer is needed, not $(node --version)"

# npm ci in DIR when its package-lock.json changed since the last install
# (the lock's hash is kept in node_modules/.qun-lock.sha256); npm install
# when there is no lock (a fresh app from the template).
# One install at a time: tests build apps in parallel, and two `npm ci` in
# one directory break each other (esbuild's install step runs the binary
# that another one has just put in place as if it were JavaScript).
install_deps() {
  local dir="$1" want have lock
  mkdir -p "$ROOT/target"
  exec {lock}>"$ROOT/target/.js-install.lock"
  flock "$lock"
  if [ -f "$dir/package-lock.json" ]; then
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    have="$(cat "$dir/node_modules/.qun-lock.sha256" 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
      echo "js.sh: npm ci in ${dir#"$ROOT"/}" >&2
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
      echo "$want" > "$dir/node_modules/.qun-lock.sha256"
    fi
  elif [ ! -d "$dir/node_modules" ]; then
    echo "js.sh: npm install in $dir" >&2
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) >&2
  fi
  exec {lock}>&-
}

# Fill the template into DIR as `qun app new NAME --lang js` does.
fill_template() {
  local name="$1" dir="$2" title
  title="$(echo "$name" | sed -E 's/(^|-)([a-z])/\1\u\2/g; s/-/ /g')"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$SDK/template" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print) | while read -r f; do
    mkdir -p "$dir/$(dirname "$f")"
    sed -e "s|{{name}}|$name|g" -e "s|{{module}}|${name//-/_}|g" -e "s|{{title}}|$title|g" \
        -e "s|{{sdk_js}}|$SDK|g" "$SDK/template/$f" > "$dir/$f"
  done
}

build_app() {
  local app="$1" out="$2"
  shift 2
  [ -f "$app/package.json" ] || [ -f "$app/app.js" ] || die "$app is not an app (no package.json or app.js)"
  install_deps "$SDK"
  [ -f "$app/package.json" ] && install_deps "$app"
  node "$SDK/bin/build.js" "$app" "$out" "$@"
}

cmd="${1:-}"
case "$cmd" in
  setup)
    install_deps "$SDK"
    ;;
  test)
    install_deps "$SDK"
    echo "== sdk-js" >&2
    (cd "$SDK" && npm test)
    echo "== examples/checkin-js" >&2
    install_deps "$ROOT/examples/checkin-js"
    (cd "$ROOT/examples/checkin-js" && npm test)
    echo "== examples/checkin-js, the same tests against its built component" >&2
    mkdir -p "$ROOT/target/lang"
    build_app "$ROOT/examples/checkin-js" "$ROOT/target/lang/checkin-js.wasm" >&2
    (cd "$ROOT/examples/checkin-js" && QUN_COMPONENT="$ROOT/target/lang/checkin-js.wasm" npm test)
    echo "== template (filled as hello-js)" >&2
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    fill_template hello-js "$tmp/hello-js"
    grep -rq '{{' "$tmp/hello-js" && die "the template has placeholders left after filling"
    install_deps "$tmp/hello-js"
    (cd "$tmp/hello-js" && npm test)
    ;;
  build)
    [ $# -ge 3 ] || die "usage: js.sh build APP_DIR OUT.wasm [--default-features]"
    shift
    build_app "$@"
    ;;
  examples)
    out="$ROOT/target/lang"
    mkdir -p "$out"
    build_app "$ROOT/examples/checkin-js" "$out/checkin-js.wasm" >&2
    fill_template hello-js "$out/hello-js-src"
    build_app "$out/hello-js-src" "$out/hello-js.wasm" >&2
    echo "$out/checkin-js.wasm"
    echo "$out/hello-js.wasm"
    ;;
  check)
    qun="${QUN_BIN:-}"
    if [ -z "$qun" ]; then
      for q in "$ROOT/target/debug/qun" "$ROOT/target/release/qun"; do [ -x "$q" ] && qun="$q" && break; done
    fi
    [ -n "$qun" ] && [ -x "$qun" ] || die "no qun binary: build the host or set QUN_BIN"
    for w in checkin-js hello-js; do
      [ -f "$ROOT/target/lang/$w.wasm" ] || die "target/lang/$w.wasm is not built: run ./scripts/js.sh examples"
      "$qun" app check "$ROOT/target/lang/$w.wasm"
    done
    ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    [ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || exit 2
    ;;
esac
