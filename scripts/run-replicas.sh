#!/usr/bin/env bash
# N console replicas on one local PostgreSQL 15, all peers, backing up one local 3-member etcd cluster.
# Started by `scripts/run.sh --replicas N` (N >= 2), after setup and the build; not meant to be run on its own.
#   replica i listens on http://127.0.0.1:(5080 + i)
#   data under $CONSOLE_DATA_DIR/replicas (default ./data/replicas): postgres/, etcd/, snapshots/ (shared by every
#   replica, as a shared volume would be), replica-i/ (each replica's own data dir), kek (the data-protection key
#   encryption key, mode 0600). Kept between runs; delete the directory to start afresh.
# etcd is started by this script, not by a replica's sandbox: a replica's sandbox members stop with that replica, and
# here any replica may die (try `kill -9`) while the others keep backing up the same cluster.
# Ctrl+C (or SIGTERM) stops the replicas, then etcd, then PostgreSQL, each within a bounded time.
set -euo pipefail
# Every "return" below says its status: in a trap handler a bare return would return the status of the command the
# signal interrupted (wait: 130 or 143), which set -e takes for a failure.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

replicas="$1"
base_port="$2"
dir="${CONSOLE_DATA_DIR:-$root/data}/replicas"
pg_bin=/usr/lib/postgresql/15/bin
etcd_bin="${ETCD:-etcd}"
mkdir -p "$dir"/{etcd,snapshots}

say() { printf '[run] %s\n' "$*"; }

# A loopback port nothing listens on (and not handed out earlier in this run).
taken=" "
free_port() {
  local port
  while :; do
    port=$(( 20000 + RANDOM % 30000 ))
    case "$taken" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      taken="$taken$port "
      echo "$port"
      return 0
    fi
  done
}

# PostgreSQL refuses to run as root: as root it runs as 'nobody' (as the tests' fixture does).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pids=()
etcd_pids=()
pg_started=""
stopping=""
# Waits up to $1 tenths of a second for the processes $2... to exit; then kills what is left.
stop_within() {
  local tenths="$1" pid alive
  shift
  for _ in $(seq 1 "$tenths"); do
    alive=""
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}
stop_all() {
  [ -n "$stopping" ] && return 0
  stopping=1
  trap '' INT TERM
  say "stopping ${#pids[@]} replica(s), then etcd, then PostgreSQL"
  # SIGTERM, not SIGINT: background jobs of a script ignore SIGINT. Each replica bounds its own shutdown (30 s);
  # etcd goes after them, as a replica finishing a backup still reads from it.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ "${#pids[@]}" -gt 0 ] && stop_within 400 "${pids[@]}"
  for pid in "${etcd_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ "${#etcd_pids[@]}" -gt 0 ] && stop_within 100 "${etcd_pids[@]}"
  if [ -n "$pg_started" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_postgres "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
  say "stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

# --- PostgreSQL: initdb once, then started on a free loopback port each run (trust authentication on 127.0.0.1
# and its own socket directory only: a local playground, no password to keep).
if [ ! -f "$dir/postgres/data/PG_VERSION" ]; then
  say "creating a PostgreSQL 15 cluster in $dir/postgres"
  mkdir -p "$dir/postgres"
  [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir/postgres"
  as_postgres "$pg_bin/initdb" -D "$dir/postgres/data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
pg_port=$(free_port)
as_postgres "$pg_bin/pg_ctl" -D "$dir/postgres/data" -l "$dir/postgres/server.log" -w -t 60 \
  -o "-p $pg_port -k $dir/postgres -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
pg_started=1
if [ -z "$(as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'console'")" ]; then
  as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres console
fi
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=console"

# --- etcd: three members; their ports are remembered with their data, so a restart finds the same cluster.
if [ ! -f "$dir/etcd/ports" ]; then
  echo "$(free_port) $(free_port) $(free_port) $(free_port) $(free_port) $(free_port)" >"$dir/etcd/ports"
fi
read -r c0 p0 c1 p1 c2 p2 <"$dir/etcd/ports"
clients=("$c0" "$c1" "$c2")
peers=("$p0" "$p1" "$p2")
initial="m0=http://127.0.0.1:$p0,m1=http://127.0.0.1:$p1,m2=http://127.0.0.1:$p2"
for m in 0 1 2; do
  "$etcd_bin" --name "m$m" --data-dir "$dir/etcd/m$m" \
    --listen-client-urls "http://127.0.0.1:${clients[$m]}" --advertise-client-urls "http://127.0.0.1:${clients[$m]}" \
    --listen-peer-urls "http://127.0.0.1:${peers[$m]}" --initial-advertise-peer-urls "http://127.0.0.1:${peers[$m]}" \
    --initial-cluster "$initial" --initial-cluster-token etcd-console-replicas --initial-cluster-state new \
    >"$dir/etcd/m$m.log" 2>&1 &
  etcd_pids+=($!)
done
endpoints="http://127.0.0.1:$c0,http://127.0.0.1:$c1,http://127.0.0.1:$c2"
for _ in $(seq 1 600); do
  ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done
if [ ! -f "$dir/etcd/seeded" ]; then
  for i in $(seq 1 50); do ETCDCTL_API=3 etcdctl --endpoints "$endpoints" put "/sample/key-$i" "value $i" >/dev/null; done
  touch "$dir/etcd/seeded"
fi

# --- the key that encrypts the data-protection key ring in the database: the same for every replica, never in git.
if [ ! -f "$dir/kek" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$dir/kek")
fi
chmod 600 "$dir/kek"

# --- the replicas: the same database, scheduler store, cluster and snapshot directory; their own data dirs and ports.
export Console__Database__Provider=postgres
export Console__Database__ConnectionString="$connection"
export Console__Scheduler__Store=postgres
export Console__Scheduler__ConnectionString="$connection"
Console__DataProtection__KeyEncryptionKey="$(cat "$dir/kek")"
export Console__DataProtection__KeyEncryptionKey
export Console__Sandbox__Enabled=false
export Console__Storage__Local__Dir="$dir/snapshots"
export Console__Clusters__0__Name=sandbox
export Console__Clusters__0__Endpoints__0="http://127.0.0.1:$c0"
export Console__Clusters__0__Endpoints__1="http://127.0.0.1:$c1"
export Console__Clusters__0__Endpoints__2="http://127.0.0.1:$c2"
export Console__Clusters__0__Backup__Enabled=true
export Console__Clusters__0__Backup__Interval=1h
export Console__Clusters__0__Backup__Retention__Count=24
export Console__Clusters__0__Backup__Targets__0=local

urls=()
for i in $(seq 0 $(( replicas - 1 ))); do
  port=$(( base_port + i ))
  mkdir -p "$dir/replica-$i"
  # Each replica's output prefixed with its number; $! is the console itself, not the prefixing sed.
  Console__DataDir="$dir/replica-$i" dotnet src/Console.Web/bin/Release/net10.0/Console.Web.dll \
    --urls "http://127.0.0.1:$port" --contentRoot "$root/src/Console.Web" > >(sed -u "s/^/[replica $i] /") 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done

echo
echo "  etcd Backup Console, $replicas replicas on one PostgreSQL: ${urls[*]}"
echo "  PostgreSQL 15:  127.0.0.1:$pg_port, database 'console' (data in $dir/postgres)"
echo "  etcd cluster:   'sandbox' at $endpoints (data in $dir/etcd)"
echo "  snapshots:      $dir/snapshots (shared by the replicas)"
echo "  sign in:        on the first start one replica prints the user 'admin' and a one-time password below."
echo "  Ctrl+C stops the replicas, etcd and PostgreSQL. Kill one replica (kill -9 PID) to watch the others carry on:"
for i in "${!pids[@]}"; do echo "                  replica $i: pid ${pids[$i]}, ${urls[$i]}"; done
echo

# Until Ctrl+C (or every replica has exited).
wait "${pids[@]}" || true
