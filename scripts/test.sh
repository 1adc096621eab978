#!/usr/bin/env bash
# Runs every test: Domain rules, real etcd (single, 3 members, auth, TLS), bUnit components, the console as a
# process, and Chromium end-to-end. Prints a closing "N passed, N failed, N skipped" line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
dotnet build Console.sln -c Release --nologo -v quiet
# The bench calls the product's own code paths and is not in Console.sln; building it here means a change to those
# paths that breaks the bench is a red CI, not a surprise at the next measurement.
dotnet build bench/Console.Bench/Console.Bench.csproj -c Release --nologo -v quiet

mkdir -p artifacts
set +e
dotnet test Console.sln -c Release --no-build --nologo \
  --blame-hang-timeout 10m \
  --results-directory artifacts/test-results \
  --logger "trx;LogFileName=tests.trx" 2>&1 | tee artifacts/test.log
status=${PIPESTATUS[0]}
set -e

summary=$(grep -E 'Failed:[[:space:]]+[0-9]+, Passed:[[:space:]]+[0-9]+' artifacts/test.log | tail -n 1 || true)
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.*Failed:[[:space:]]+([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed:[[:space:]]+([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped:[[:space:]]+([0-9]+).*/\1/' <<<"$summary")
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
fi
exit "$status"
