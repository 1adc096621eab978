#!/usr/bin/env bash
# Benchmarks the console's snapshot path against `etcdctl snapshot save` on one local etcd filled to 256 MiB and
# then 1 GiB (7 paired runs each, order alternating), and the console's peak RSS growth while it snapshots.
#   bench/run.sh                         # the figures in README's Performance section
#   bench/run.sh --sizes 64 --runs 3     # a quick check
# Needs etcd and etcdctl on PATH (scripts/setup.sh installs them); ETCD / ETCDCTL override the binaries.
# Everything it writes (etcd data, snapshots) lives in a temporary directory removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=artifacts/bench-build   # git-ignored, and apart from every other build's bin/ and obj/
dotnet build bench/Console.Bench/Console.Bench.csproj -c Release --artifacts-path "$out" --nologo -v quiet -clp:ErrorsOnly
started=$(date +%s)
dotnet "$out/bin/Console.Bench/release/Console.Bench.dll" --etcd "${ETCD:-etcd}" --etcdctl "${ETCDCTL:-etcdctl}" "$@"
echo "benchmark took $(( $(date +%s) - started )) s"
