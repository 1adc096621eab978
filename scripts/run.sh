#!/usr/bin/env bash
# Runs the console with a local 3-member sandbox etcd cluster, at http://127.0.0.1:5080 unless told otherwise:
#   scripts/run.sh                # port 5080
#   scripts/run.sh --port 8080    # or PORT=8080 scripts/run.sh
# Data (sandbox etcd, SQLite, local snapshots) goes to ./data, or to $CONSOLE_DATA_DIR. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

port="${PORT:-5080}"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    *) echo "usage: scripts/run.sh [--port N]" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
dotnet build src/Console.Web/Console.Web.csproj -c Release --nologo -v quiet

export Console__Sandbox__Enabled="${Console__Sandbox__Enabled:-true}"
export Console__DataDir="${CONSOLE_DATA_DIR:-$root/data}"
echo
echo "  etcd Backup Console: http://127.0.0.1:${port}"
echo "  sandbox etcd data:   ${Console__DataDir}/sandbox   (Ctrl+C stops the console and the sandbox)"
echo "  sign in:             on the first start the log below prints the user 'admin' and a one-time password;"
echo "                       you choose your own at the first sign-in. (Locked out? README: \"Sign-in, roles and audit\".)"
echo
exec dotnet src/Console.Web/bin/Release/net10.0/Console.Web.dll --urls "http://127.0.0.1:${port}" --contentRoot "$root/src/Console.Web"
