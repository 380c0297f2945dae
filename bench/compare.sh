#!/usr/bin/env bash
# bench/compare.sh: the clinic-day workload (bench/WORKLOAD.md) on clinickv and on the
# peers of the peer kit (MariaDB, SQLite, Tarantool, Redis), in one run, on one machine,
# alternating systems, loopback only. See docs/bench.md.
#
#   bench/compare.sh [--build DIR] [--peers-kit DIR] [--scale S] [--duration SEC]
#                    [--warmup SEC] [--clients "1 32"] [--peers "mariadb sqlite tarantool redis"]
#                    [--ops "..."] [--repeat N] [--seed N] [--data-seed N] [--anchor YYYY-MM-DD]
#                    [--workdir DIR] [--out DIR] [--keep]
#
# The peer kit (shared/bench/peers) is read-only: it is copied into WORKDIR/kit, its
# peerbench is built there, and its own functions (start_<peer>, run_sql_peer, run_redis,
# sample_rss, ...) are taken from its run-peers.sh, so the peers are started, loaded and
# measured exactly as run-peers.sh does. Both data sets come from the same scale, data seed
# and anchor date: gen.py's TSVs for the peers, clinickv-gen's data directory for clinickv
# (equivalent rules and row counts; docs/bench.md). Each system starts from a fresh copy of
# its data set. For each round, operation and client count every system runs in turn.
# Results: OUT (default bench/results/<UTC stamp>-S<scale>/): runs.jsonl, peers.jsonl,
# results.md and results.json with the ratio clinickv / peer per operation.
# Every server this script starts is stopped by pid on exit; every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
BUILD=${CLINICKV_BUILD:-$ROOT/build}
KIT_SRC=""
SCALE=1
DURATION=10
WARMUP=1
CLIENTS="1 32"
PEERS="mariadb sqlite tarantool redis"
OPS="get_patient patient_appointments expiring_drugs sales_today book_appointment pharmacy_sale front_desk"
REPEAT=1
SEED=42
DATA_SEED=1
ANCHOR=$(date -u +%Y-%m-%d)
WORKDIR=/var/tmp/clinickv-compare
OUT=""
KEEP=0
CLINICKV_PORT=${CLINICKV_PORT:-3393}
export MARIADB_PORT=${MARIADB_PORT:-3391} TARANTOOL_PORT=${TARANTOOL_PORT:-3392} REDIS_PORT=${REDIS_PORT:-6392}
MARIADB_BUFFER_POOL=${MARIADB_BUFFER_POOL:-6G}
TARANTOOL_MEMTX_MB=${TARANTOOL_MEMTX_MB:-4096}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --peers-kit) KIT_SRC=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --data-seed) DATA_SEED=$2; shift 2 ;;
    --anchor) ANCHOR=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ -z "$KIT_SRC" ]; then
  for d in "$ROOT/../shared/bench/peers" /work/shared/bench/peers; do
    [ -f "$d/run-peers.sh" ] && { KIT_SRC=$(cd "$d" && pwd); break; }
  done
fi
[ -n "$KIT_SRC" ] && [ -f "$KIT_SRC/run-peers.sh" ] || { echo "compare.sh: no peer kit (--peers-kit DIR)" >&2; exit 2; }
for b in clinickv clinickv-gen clinickv-bench; do
  [ -x "$BUILD/$b" ] || { echo "compare.sh: $BUILD/$b missing: build first (--build DIR)" >&2; exit 2; }
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/bench/results/$STAMP-S$SCALE}
KIT="$WORKDIR/kit/bench/peers"   # gen.py finds the DDL at ../../schema
RUN="$WORKDIR/run-$STAMP"
DATA="$WORKDIR/peers-data-S$SCALE-seed$DATA_SEED-$ANCHOR"
CKDATA="$WORKDIR/clinickv-data-S$SCALE-seed$DATA_SEED-$ANCHOR"
mkdir -p "$WORKDIR" "$OUT" "$RUN"
chmod 755 "$WORKDIR" "$RUN"
LINES="$OUT/runs.jsonl"
PEERINFO="$OUT/peers.jsonl"
: > "$LINES"
: > "$PEERINFO"

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------------ the kit, and its functions
rm -rf "$WORKDIR/kit"
mkdir -p "$WORKDIR/kit/bench"
cp -r "$KIT_SRC" "$KIT"
cp -r "$KIT_SRC/../../schema" "$WORKDIR/kit/schema"
chmod -R u+w "$WORKDIR/kit"
rm -rf "$KIT/results"
HERE=$KIT
# Take run-peers.sh's own functions, so peers run exactly as the kit runs them.
KIT_FUNCS="stop_pid rss_kb hwm_kb du_b wait_for peerinfo start_mariadb start_sqlite start_tarantool start_redis
           sample_rss run_sql_peer run_redis"
for f in $KIT_FUNCS; do
  # a one-line function ends on its own line; others at the first line that is "}"
  body=$(awk -v f="$f" 'in_f { print; if ($0 ~ /^}/) exit; next }
    index($0, f "()") == 1 { print; if ($0 ~ /} *$/) exit; in_f = 1 }' "$KIT/run-peers.sh")
  [ -n "$body" ] || { echo "compare.sh: run-peers.sh has no function $f (a newer kit?)" >&2; exit 2; }
  eval "$body"
done
declare -A PID=()
declare -A RSS_LOAD=()

cleanup() {
  local n
  for n in "${!PID[@]}"; do stop_pid "$n"; done
  if [ "$KEEP" = 0 ]; then rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ data sets
need_peers=0
for p in $PEERS; do need_peers=1; done
if [ "$need_peers" = 1 ]; then
  log "building peerbench"
  make -s -C "$KIT" peerbench
  if [ ! -f "$DATA/manifest.json" ]; then
    log "gen.py: S=$SCALE seed=$DATA_SEED anchor=$ANCHOR -> $DATA"
    rm -rf "$DATA"
    "$PY" "$KIT/gen.py" --scale "$SCALE" --seed "$DATA_SEED" --anchor "$ANCHOR" --out "$DATA"
  fi
  IDS="$DATA/ids.tsv"
  ROWS=$("$PY" -c "import json; print(json.load(open('$DATA/manifest.json'))['total_rows'])")
  PATIENT_BYTES=$("$PY" -c "import json; print(json.load(open('$DATA/manifest.json'))['patient_row_bytes'])")
  NPATIENTS=$(grep -c '^patient' "$IDS")
  log "peers' data set: $ROWS rows, $NPATIENTS live patients"
fi
GEN_S=0
if [ ! -f "$CKDATA/bench/ids" ]; then
  rm -rf "$CKDATA"
  log "clinickv-gen: S=$SCALE seed=$DATA_SEED anchor=$ANCHOR -> $CKDATA"
  t0=$(date +%s.%N)
  "$BUILD/clinickv-gen" --data "$CKDATA" --scale "$SCALE" --seed "$DATA_SEED" --anchor "$ANCHOR" --quiet
  GEN_S=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}")
  echo "$GEN_S" > "$CKDATA/bench/gen_seconds"
else
  GEN_S=$(cat "$CKDATA/bench/gen_seconds" 2>/dev/null || echo 0)
fi
CK_NPATIENTS=$(grep -c '^patient' "$CKDATA/bench/ids")
log "clinickv's data set: $CK_NPATIENTS live patients (generated in ${GEN_S}s)"

# ------------------------------------------------------------------ clinickv: start, run
start_clinickv() {
  local d="$RUN/clinickv"
  rm -rf "$d"
  mkdir -p "$d"
  log "clinickv: copying the data set"
  local t0=$SECONDS
  cp -a "$CKDATA" "$d/data"
  "$BUILD/clinickv" serve --data "$d/data" --listen "127.0.0.1:$CLINICKV_PORT" > "$d/server.log" 2>&1 &
  PID[clinickv]=$!
  wait_for 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CLINICKV_PORT" 2>/dev/null \
    || { tail -20 "$d/server.log" >&2; return 1; }
  sleep 1
  local pid=${PID[clinickv]}
  peerinfo "{\"peer\":\"clinickv\",\"load_s\":$GEN_S,\"copy_s\":$((SECONDS - t0)),\"rss_kb_rest\":$(rss_kb "$pid"),\"disk_bytes\":$(du_b "$d/data/db"),\"data_bytes\":$(du_b "$d/data/db/data.mdb"),\"version\":\"$("$BUILD/clinickv" --version 2>/dev/null | head -1 | awk '{print $NF}')\"}"
  log "clinickv: serving, RSS $(rss_kb "$pid") kB"
}

run_clinickv() {  # run_clinickv OP CLIENTS ROUND
  local op=$1 c=$2 round=$3 out
  sample_rss clinickv "${PID[clinickv]}" "$HALF"
  out=$(timeout "$LIMIT" "$BUILD/clinickv-bench" --data "$RUN/clinickv/data" --connect "127.0.0.1:$CLINICKV_PORT" \
    --op "$op" --clients "$c" --duration "$DURATION" --warmup "$WARMUP" --seed "$SEED" --label "round$round" --json) \
    || out="{\"peer\":\"clinickv\",\"op\":\"$op\",\"clients\":$c,\"label\":\"round$round\",\"ops\":0,\"ops_per_s\":0,\"p50_us\":null,\"p99_us\":null,\"p999_us\":null,\"errors\":1,\"rejected\":0,\"first_error\":\"clinickv-bench failed\"}"
  echo "$out" >> "$LINES"
  log "$(echo "$out" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print("%-9s %-21s c=%-3d %9.0f ops/s  p50 %8.1f  p99 %9.1f us  err %d rej %d %s" % (d["peer"], d["op"], d["clients"], d["ops_per_s"] or 0, d["p50_us"] or 0, d["p99_us"] or 0, d["errors"], d["rejected"], d.get("first_error","")[:80]))')"
}

SYSTEMS="clinickv $PEERS"
start_clinickv
for p in $PEERS; do "start_$p"; done

LIMIT=$(awk "BEGIN {print int($DURATION + $WARMUP + 120)}")
HALF=$(awk "BEGIN {print $WARMUP + $DURATION / 2}")

for round in $(seq 1 "$REPEAT"); do
  for op in $OPS; do
    for c in $CLIENTS; do
      for p in $SYSTEMS; do
        case $p in
          clinickv) run_clinickv "$op" "$c" "$round" ;;
          redis) ;;
          *) run_sql_peer "$p" "$op" "$c" "$round" ;;
        esac
      done
    done
  done
  if [[ " $PEERS " == *" redis "* ]]; then
    for c in $CLIENTS; do run_redis "$c" "$round"; done
  fi
done

# ------------------------------------------------------------------ after: sizes, RSS peaks
for p in $SYSTEMS; do
  case $p in
    clinickv) pid=${PID[clinickv]}; sz=$(du_b "$RUN/clinickv/data/db") ;;
    mariadb) pid=${PID[mariadb]}; sz=$(du_b "$RUN/mariadb/data" "$RUN/mariadb/binlog") ;;
    sqlite) pid=; sz=$(du_b "$RUN/sqlite") ;;
    tarantool) pid=${PID[tarantool]}; sz=$(du_b "$RUN/tarantool"/*.snap "$RUN/tarantool"/*.xlog) ;;
    redis) pid=${PID[redis]}; sz=$(du_b "$RUN/redis") ;;
  esac
  load=$(awk -v p="$p" '$1 == p && $2 > m {m = $2} END {print m + 0}' "$RUN/rss-samples" 2>/dev/null || echo 0)
  after=null; peak=null
  if [ -n "$pid" ]; then after=$(rss_kb "$pid"); peak=$(hwm_kb "$pid"); fi
  echo "{\"peer\":\"$p\",\"after\":true,\"rss_kb_load\":${load:-0},\"rss_kb_after\":$after,\"rss_kb_peak\":$peak,\"disk_bytes_after\":$sz}" >> "$PEERINFO"
done
for p in $SYSTEMS; do stop_pid "$p"; done

"$PY" "$ROOT/bench/report.py" "$OUT" \
  --meta "scale=$SCALE" "duration_s=$DURATION" "warmup_s=$WARMUP" "repeat=$REPEAT" "seed=$SEED" \
  "data_seed=$DATA_SEED" "anchor=$ANCHOR" "rows=${ROWS:-?}" "date=$(date -u +%Y-%m-%d)" "cpus=$(nproc)" \
  "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)" \
  "machine=$(uname -m) $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
log "results: $OUT"
