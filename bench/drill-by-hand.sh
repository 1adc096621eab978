#!/usr/bin/env bash
# The restore drill benchmark's reference line (bench/run.sh --drill): what an operator types to prove a snapshot file
# restores, timed in the shell: `etcdctl snapshot restore`, start etcd on the restored data dir, then `etcdctl endpoint
# status` every 50 ms until it answers. Prints "restore=S serving=S total=S" (seconds); stops etcd and waits for it.
#   bench/drill-by-hand.sh SNAPSHOT SCRATCH_DIR CLIENT_PORT PEER_PORT
set -euo pipefail
snapshot=$1 scratch=$2 client=http://127.0.0.1:$3 peer=http://127.0.0.1:$4
etcd=${ETCD:-etcd} etcdctl=${ETCDCTL:-etcdctl}
export ETCDCTL_API=3
mkdir -p "$scratch"

t0=$EPOCHREALTIME
"$etcdctl" snapshot restore "$snapshot" --name byhand --initial-cluster "byhand=$peer" --initial-advertise-peer-urls "$peer" \
    --data-dir "$scratch/data" >"$scratch/restore.log" 2>&1
t1=$EPOCHREALTIME
"$etcd" --name byhand --data-dir "$scratch/data" --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "byhand=$peer" \
    --initial-cluster-state new --logger zap --log-outputs "$scratch/etcd.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
until "$etcdctl" --endpoints="$client" --dial-timeout=1s --command-timeout=1s endpoint status >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "etcd exited on the restored data dir:" >&2
        tail -n 3 "$scratch/etcd.log" >&2
        exit 1
    fi
    sleep 0.05
done
t2=$EPOCHREALTIME
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "restore=%.3f serving=%.3f total=%.3f\n", b - a, c - b, c - a }'
