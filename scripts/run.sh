#!/usr/bin/env bash
# Runs the console with a local 3-member sandbox etcd cluster, at http://127.0.0.1:5080 unless told otherwise:
#   scripts/run.sh                # port 5080
#   scripts/run.sh --port 8080    # or PORT=8080 scripts/run.sh
#   scripts/run.sh --replicas 2   # 2 replicas on ports 5080, 5081, one local PostgreSQL 15 and one etcd cluster
#                                 # (scripts/run-replicas.sh says what it starts and where its data is)
# Data (sandbox etcd, SQLite, local snapshots) goes to ./data, or to $CONSOLE_DATA_DIR. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

port="${PORT:-5080}"
replicas=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --replicas) replicas="$2"; shift 2 ;;
    --replicas=*) replicas="${1#--replicas=}"; shift ;;
    *) echo "usage: scripts/run.sh [--port N] [--replicas N]" >&2; exit 2 ;;
  esac
done

case "$replicas" in
  [1-9]|[1-9][0-9]) ;;
  *) echo "scripts/run.sh: --replicas takes a number from 1 to 99, not '$replicas'" >&2; exit 2 ;;
esac

scripts/setup.sh
dotnet build src/Console.Web/Console.Web.csproj -c Release --nologo -v quiet

# Several replicas: PostgreSQL, one etcd cluster and N consoles (one replica is the single console below, as ever).
if [ "$replicas" -gt 1 ]; then
  exec scripts/run-replicas.sh "$replicas" "$port"
fi

export Console__Sandbox__Enabled="${Console__Sandbox__Enabled:-true}"
export Console__DataDir="${CONSOLE_DATA_DIR:-$root/data}"
echo
echo "  etcd Backup Console: http://127.0.0.1:${port}"
echo "  sandbox etcd data:   ${Console__DataDir}/sandbox   (Ctrl+C stops the console and the sandbox)"
echo "  sign in:             on the first start the log below prints the user 'admin' and a one-time password;"
echo "                       you choose your own at the first sign-in. (Locked out? README: \"Sign-in, roles and audit\".)"
echo
exec dotnet src/Console.Web/bin/Release/net10.0/Console.Web.dll --urls "http://127.0.0.1:${port}" --contentRoot "$root/src/Console.Web"
