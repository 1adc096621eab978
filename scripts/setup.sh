#!/usr/bin/env bash
# Installs what the console and its tests need, and only what is missing. Safe to run again and again.
#   Debian packages: etcd-server and etcd-client (etcd, etcdctl), chromium (browser tests),
#                    postgresql (PostgreSQL 15 server binaries: the tests of the shared Hangfire store start their own),
#                    age and zstd (the reference tools a sealed snapshot must open with, without the console)
#   npm tools:       s3rver (S3 protocol server for tests), pinned by package-lock.json
#   NuGet packages:  dotnet restore
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup] %s\n' "$*"; }

for tool in dotnet node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "error: '$tool' is not installed. Install the .NET 10 SDK and Node.js (20 or newer) first." >&2
    exit 1
  fi
done

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
command -v age >/dev/null 2>&1 || missing+=(age)
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages present (etcd $(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}'), chromium, postgresql 15, age, zstd)"
fi

# node_modules/.package-lock.json is npm's record of what is installed; reinstall when the lock file is newer.
if [ ! -x node_modules/.bin/s3rver ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm tools from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm tools present (s3rver)"
fi

say "restoring NuGet packages"
dotnet restore Console.sln --nologo -v quiet
say "done"
