#!/usr/bin/env bash
# Benchmarks the console's snapshot path against `etcdctl snapshot save` on one local etcd filled to 256 MiB and
# then 1 GiB (7 paired runs each, order alternating), and the console's peak RSS growth while it snapshots; then, at
# each size, snapshots to local only, S3 only (s3rver on loopback) and local + S3 (5 rounds, order rotating), with the
# peak RSS growth of each.
#   bench/run.sh                         # the figures in README's Performance section
#   bench/run.sh --sizes 64 --runs 3     # a quick check
#   bench/run.sh --s3-runs 0             # without the S3 section
#   bench/run.sh --sealing --data k8s --sizes 256 --runs 5   # sealed snapshots (issue 15): raw, zstd and zstd+age
#                                        # to local, S3 and both, beside etcdctl, on Kubernetes-like objects
#                                        # (--data random: 1 MiB random values; --seed N: another k8s data set)
#   bench/run.sh --continuous            # continuous backup (issue 16): a 3-member etcd, the product's watcher, a writer
#                                        # at 1,000 then 5,000 writes/s for 30 s each: RPO p50/p99, the watcher's CPU
#                                        # beside etcdctl watch's (--rates 1000,5000 --seconds 30 to change them)
#   bench/run.sh --replay --revisions 50000 --runs 2   # point-in-time replay speed in revisions/s (issue 16), beside the
#                                        # same writes as sequential txns into a plain etcd (--scratch DIR: replay data dir)
#   bench/run.sh --drill --sizes 256,1024 --runs 3   # restore drills (issue 17): the product's drill of a BackupRunner
#                                        # copy (wall, RTO, CPU) beside bench/drill-by-hand.sh (etcdctl snapshot restore,
#                                        # etcd, endpoint status), and a backup's time alone and with a drill beside it
#                                        # (--sealed: zstd+age copies)
#   bench/run.sh --dashboard             # only the Backups page's first render over 100,000 records (no etcd)
#   bench/run.sh --dashboard --records 1000000 --provider both   # record inserts, the dashboard's aggregates and
#                                        # its first render at 1,000,000 records, SQLite beside PostgreSQL 15 (started for it)
#   bench/run.sh --part-size-mib 16 --parallel-parts 8   # other S3 upload settings (default: the console's, 8 and 4)
# Needs etcd and etcdctl on PATH (scripts/setup.sh installs them); ETCD / ETCDCTL override the binaries. Needs s3rver
# in node_modules (scripts/setup.sh or npm ci); S3RVER overrides it.
# Everything it writes (etcd data, snapshots, s3rver's objects) lives in a temporary directory removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=artifacts/bench-build   # git-ignored, and apart from every other build's bin/ and obj/
dotnet build bench/Console.Bench/Console.Bench.csproj -c Release --artifacts-path "$out" --nologo -v quiet -clp:ErrorsOnly
started=$(date +%s)
dotnet "$out/bin/Console.Bench/release/Console.Bench.dll" --etcd "${ETCD:-etcd}" --etcdctl "${ETCDCTL:-etcdctl}" \
    --s3rver "${S3RVER:-node_modules/.bin/s3rver}" "$@"
echo "benchmark took $(( $(date +%s) - started )) s"
