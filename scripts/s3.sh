#!/usr/bin/env bash
# An S3-compatible server for the tests of the S3 file store (issue 17):
# moto's server (PyPI `moto[server]`, pinned, installed into target/s3-venv
# by this script and reused later), on 127.0.0.1. The PostgreSQL variants of
# the file tests keep their bytes there (`--files-url s3://...`), as hosts
# sharing PostgreSQL would; the SQLite variants use a local directory.
#
#   scripts/s3.sh start   start it (unless it answers already) and print
#                         `export QUN_TEST_S3_ENDPOINT=http://127.0.0.1:PORT`
#   scripts/s3.sh stop    stop the one this script started
#   QUN_TEST_S3_PORT      the port (default 9310)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
version=5.1.22
venv="$root/target/s3-venv"
port="${QUN_TEST_S3_PORT:-9310}"
pidfile="$root/target/s3-server.pid"
endpoint="http://127.0.0.1:$port"

case "${1:-start}" in
start)
    if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$version')" 2>/dev/null; then
        echo "==> installing moto[server] $version into $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version" >&2
    fi
    if ! curl -fsS "$endpoint/" >/dev/null 2>&1; then
        "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$root/target/s3-server.log" 2>&1 &
        echo $! >"$pidfile"
        for _ in $(seq 1 100); do
            curl -fsS "$endpoint/" >/dev/null 2>&1 && break
            sleep 0.2
        done
        curl -fsS "$endpoint/" >/dev/null 2>&1 || { echo "the S3 server did not start; see target/s3-server.log" >&2; exit 1; }
    fi
    echo "export QUN_TEST_S3_ENDPOINT=$endpoint"
    ;;
stop)
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
