#!/usr/bin/env bash
# bench/scaling.sh: clinickv alone at two scale factors, to show how the cost of an
# operation grows with the data (docs/bench.md, "Scaling").
#
#   bench/scaling.sh --build DIR --small DATADIR --large DATADIR [--ops "..."]
#                    [--clients "1 32"] [--duration S] [--warmup S] [--out DIR]
#
# Both data directories come from clinickv-gen (e.g. --scale 1 and --scale 10) and are
# written to by the write operations: pass scratch copies. Both servers run at once on
# loopback; for each operation and client count the two are measured in turn. Writes
# OUT/runs.jsonl (clinickv-bench's JSON, label = the directory's scale) and prints a
# table. Servers are stopped by pid on exit; every run has a time limit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CLINICKV_BUILD:-$ROOT/build}
SMALL=""
LARGE=""
OPS="get_patient patient_appointments book_appointment"
CLIENTS="1 32"
DURATION=5
WARMUP=2
OUT=""
PORT_SMALL=${PORT_SMALL:-3401}
PORT_LARGE=${PORT_LARGE:-3410}
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --small) SMALL=$2; shift 2 ;;
    --large) LARGE=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$SMALL/bench/ids" ] && [ -f "$LARGE/bench/ids" ] || { echo "scaling.sh: --small and --large: data directories made by clinickv-gen" >&2; exit 2; }
OUT=${OUT:-$ROOT/bench/results/scaling-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
: > "$OUT/runs.jsonl"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 120); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
start() {  # start DATADIR PORT
  "$BUILD/clinickv" serve --data "$1" --listen "127.0.0.1:$2" > "$OUT/server-$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0; sleep 0.5; done
  echo "scaling.sh: the server on $1 did not start" >&2
  return 1
}
start "$SMALL" "$PORT_SMALL"
start "$LARGE" "$PORT_LARGE"
scale_of() { awk -F'\t' '$1 == "scale" {print $2}' "$1/bench/ids"; }
for op in $OPS; do
  for c in $CLIENTS; do
    for side in small large; do
      if [ $side = small ]; then d=$SMALL; port=$PORT_SMALL; else d=$LARGE; port=$PORT_LARGE; fi
      out=$(timeout $((${DURATION%.*} + ${WARMUP%.*} + 120)) "$BUILD/clinickv-bench" --data "$d" \
        --connect "127.0.0.1:$port" --op "$op" --clients "$c" --duration "$DURATION" --warmup "$WARMUP" \
        --label "S$(scale_of "$d")" --json)
      echo "$out" >> "$OUT/runs.jsonl"
      echo "$out" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print("%-5s %-21s c=%-3d %9.0f ops/s  p50 %9.1f  p99 %9.1f us  errors %d" % (d["label"], d["op"], d["clients"], d["ops_per_s"], d["p50_us"], d["p99_us"], d["errors"]))'
    done
  done
done
