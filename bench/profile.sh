#!/usr/bin/env bash
# bench/profile.sh: where clinickv's server spends its time under the clinic-day workload.
#
#   bench/profile.sh --build DIR --data DATADIR [--ops "..."] [--requests N] [--duration S]
#                    [--out DIR] [--port P] [--no-perf] [--no-callgrind] [--in-place]
#
# DATADIR is a data directory made by clinickv-gen; it is copied first (the writes of the
# workload must not change it), unless --in-place (a scratch copy, or a data set too big
# to copy). For each operation:
#   - perf record on the server while clinickv-bench runs it for --duration seconds with
#     one client (sampling: where its CPU time goes, kernel included; self time per symbol,
#     since a release build keeps no frame pointers for call graphs);
#   - valgrind --tool=callgrind on a server that answers exactly --requests requests of it
#     (instruction counts: repeatable, independent of the machine's other load).
# Writes OUT/<op>.perf.txt and OUT/<op>.callgrind.txt (the top symbols, inclusive and
# self) and prints instructions per request. Servers are stopped by pid; waits are bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CLINICKV_BUILD:-$ROOT/build}
DATA=""
OPS="get_patient patient_appointments book_appointment pharmacy_sale expiring_drugs sales_today"
REQUESTS=2000
DURATION=5
OUT=""
PORT=${CLINICKV_PORT:-3394}
PERF=1
CALLGRIND=1
INPLACE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --no-perf) PERF=0; shift ;;
    --no-callgrind) CALLGRIND=0; shift ;;
    --in-place) INPLACE=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$DATA" ] && [ -f "$DATA/bench/ids" ] || { echo "profile.sh: --data DIR made by clinickv-gen" >&2; exit 2; }
OUT=${OUT:-$ROOT/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
WORK=$(mktemp -d /var/tmp/clinickv-profile.XXXXXX)
SRV=""
cleanup() {
  if [ -n "$SRV" ] && kill -0 "$SRV" 2>/dev/null; then
    kill -TERM "$SRV" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SRV" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

if [ "$INPLACE" = 1 ]; then ln -s "$(cd "$DATA" && pwd)" "$WORK/data"; else cp -a "$DATA" "$WORK/data"; fi
wait_port() {
  for _ in $(seq 1 240); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    kill -0 "$SRV" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
stop_server() {
  kill -TERM "$SRV" 2>/dev/null || true
  for _ in $(seq 1 240); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.5; done
  wait "$SRV" 2>/dev/null || true
  SRV=""
}
bench() {  # bench OP ARGS...
  local op=$1; shift
  timeout 900 "$BUILD/clinickv-bench" --data "$WORK/data" --connect "127.0.0.1:$PORT" --op "$op" \
    --sessions "$WORK/sessions" --json "$@"
}

# Log in once (Argon2id) on a plain server; the sessions persist in the data directory, so
# the profiled servers only see auth.resume and the requests.
"$BUILD/clinickv" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SRV=$!
wait_port || { tail "$WORK/server.log" >&2; exit 1; }
bench ping --requests 1 > /dev/null
stop_server

BASE=0
if [ "$CALLGRIND" = 1 ]; then
  # what a server costs with no request but the client's auth.resume calls and one ping:
  # subtracted from every operation's total
  valgrind --tool=callgrind --callgrind-out-file="$WORK/base.cg" \
    "$BUILD/clinickv" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
  SRV=$!
  wait_port || { tail "$WORK/server.log" >&2; exit 1; }
  bench ping --clients 1 --requests 1 --duration 600 > /dev/null
  stop_server
  BASE=$(callgrind_annotate "$WORK/base.cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' || true)
  log "callgrind: a server's start-up, 10 auth.resume, 1 ping and shutdown: $BASE instructions"
fi

for op in $OPS; do
  if [ "$PERF" = 1 ]; then
    "$BUILD/clinickv" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
    SRV=$!
    wait_port || { tail "$WORK/server.log" >&2; exit 1; }
    bench "$op" --clients 1 --duration 1 > /dev/null   # warm the page cache
    perf record -F 2000 -o "$WORK/perf.data" -p "$SRV" -- sleep "$DURATION" > /dev/null 2>&1 &
    PERFPID=$!
    res=$(bench "$op" --clients 1 --duration "$DURATION")
    wait "$PERFPID" || true
    stop_server
    {
      echo "# $op: perf record on the server (self time per symbol), 1 client, ${DURATION}s: $res"
      perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45 || true
    } > "$OUT/$op.perf.txt"
    log "$op: perf -> $OUT/$op.perf.txt"
  fi
  if [ "$CALLGRIND" = 1 ]; then
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
      "$BUILD/clinickv" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
    SRV=$!
    wait_port || { tail "$WORK/server.log" >&2; exit 1; }
    res=$(bench "$op" --clients 1 --requests "$REQUESTS" --duration 600)
    stop_server
    mv "$WORK/cg.out" "$WORK/requests.cg"
    total=$(callgrind_annotate "$WORK/requests.cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' || true)
    total=$((total - BASE))   # start-up, shutdown and the auth.resume calls: measured below
    {
      echo "# $op: callgrind, $REQUESTS requests (plus 10 auth.resume), 1 client: $res"
      echo "# instructions for the requests: $total (the base run's $BASE subtracted); per request: $(awk "BEGIN {printf \"%.0f\", ${total:-0} / $REQUESTS}")"
      echo "# the listings below include start-up and shutdown (the base run)"
      callgrind_annotate --inclusive=yes "$WORK/requests.cg" 2>/dev/null | sed -n '/file:function/,$p' | head -60 || true
      echo
      echo "# self"
      callgrind_annotate --inclusive=no "$WORK/requests.cg" 2>/dev/null | sed -n '/file:function/,$p' | head -40 || true
    } > "$OUT/$op.callgrind.txt"
    log "$op: callgrind $(awk "BEGIN {printf \"%.0f\", ${total:-0} / $REQUESTS}") instructions/request -> $OUT/$op.callgrind.txt"
  fi
done
log "profiles: $OUT"
