#!/usr/bin/env bash
# Instructions per request (part of `make bench`, also runs alone): each server runs under
# `valgrind --tool=callgrind`, which counts user-space instructions whatever else loads
# the machine. After a warm-up, callgrind_control zeroes the counts, h2load sends N
# keep-alive requests (--h1, 50 connections) and callgrind_control dumps them: start-up
# and first-request work stay out. Cases: the 13-byte reply (examples/hello), a 1 KiB
# file (examples/http-server), the firmware's packed JS asset gzip-encoded, GET
# /api/sets/device with a session, and one field-set push to one WebSocket client (the
# firmware changing an LED with one client less the same without: instr-ws.mjs).
# Printed beside Mongoose 7.22 and nginx 1.22 (issue 25's figures, measured once with the
# same method: fixed anchors, the project never builds Mongoose) with the goals.
# Env: BUILD (build), BENCH_INSTR_REQUESTS (20000), BENCH_INSTR_PUSHES (200), BENCH_INSTR_CASES
# ("hello file firmware push": the ones to run; firmware is the asset and /api/sets/device).
# The dumps stay in $BUILD/bench/instr for callgrind_annotate. Exit 1 only if something failed to run.
set -u
BUILD=${BUILD:-build}
N=${BENCH_INSTR_REQUESTS:-20000}
PUSHES=${BENCH_INSTR_PUSHES:-200}
CASES=" ${BENCH_INSTR_CASES:-hello file firmware push} "
CONNS=50
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench/instr" && cd "$BUILD/bench/instr" && pwd)
PIDS=() FAILED=()
die() { echo "instr-bench: $*" >&2; exit 1; }
note() { echo "instr-bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
cleanup() {
  stop_pids
  [ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for tool in valgrind callgrind_control h2load node curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
for ex in examples/hello examples/http-server firmware/firmware; do [ -x "$BUILD/$ex" ] || die "build first (make)"; done

# Issue 25's anchors (instructions per request) and our first measurement, the baseline
# of the cases that have no anchor (2026-12-07, commit 8322c55)
MG_HELLO=8245 NGX_HELLO=8903 MG_FILE=20805 NGX_FILE=12589
GOAL_HELLO=5000 GOAL_FILE=8000
BASE_ASSET=74941 BASE_DEVICE=29460 BASE_PUSH=12556

# ---- a server under callgrind: STARTED_PID (valgrind's, which is the program's) and STARTED_PORT
start_callgrind() {  # name log-pattern command...
  local name=$1 pattern=$2 log=$OUT/$1.log; shift 2
  rm -f "$OUT/$name.out"*
  : >"$log"
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.out" "$@" >"$log" 2>&1 &
  STARTED_PID=$!; PIDS+=("$STARTED_PID"); DUMPS=0
  # Start-up under callgrind takes seconds: up to 30
  STARTED_PORT=$(wait_for_port "$STARTED_PID" "$log" "$pattern" 600) || die "$* did not start under callgrind, see $log"
}
# The firmware under callgrind with a data directory of its own, fresh (no users yet)
start_firmware() {  # name
  rm -rf "$OUT/$1-data"
  start_callgrind "$1" 'listening on http://127\.0\.0\.1:([0-9]+)' "$BUILD/firmware/firmware" \
    -l http://127.0.0.1:0 -d "$OUT/$1-data"
}
stop_server() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# Instructions in a callgrind dump (its "summary:" line)
dump_ir() { sed -nE 's/^summary: ([0-9]+).*/\1/p' "$1"; }

# N requests to URL in a zero..dump window of the last server started (its NAME.out.DUMPS);
# sets IR_PER (instructions per request, or n/a)
h2load_window() {  # name pid url [h2load option...]
  local name=$1 pid=$2 url=$3 log=$OUT/$1-h2load-$((DUMPS + 1)).txt succeeded
  shift 3
  IR_PER=n/a
  h2load --h1 -n 200 -c $CONNS "$@" "$url" >"$log" 2>&1  # Warm-up: buffers grown, one-time work done
  callgrind_control -z "$pid" >/dev/null 2>&1 || { FAILED+=("callgrind_control -z for $name"); return; }
  h2load --h1 -n "$N" -c $CONNS "$@" "$url" >"$log" 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1 || { FAILED+=("callgrind_control -d for $name"); return; }
  DUMPS=$((DUMPS + 1))
  succeeded=$(sed -nE 's/^requests: .* ([0-9]+) succeeded.*/\1/p' "$log")
  [ "$succeeded" = "$N" ] || { FAILED+=("h2load for $name: ${succeeded:-0} of $N succeeded, see $log"); return; }
  IR_PER=$(awk -v ir="$(dump_ir "$OUT/$name.out.$DUMPS")" -v n="$N" 'BEGIN { if (ir > 0) printf "%.0f", ir / n; else print "n/a" }')
}

wanted() { [[ $CASES == *" $1 "* ]]; }
IR_HELLO=n/a IR_FILE=n/a IR_ASSET=n/a IR_DEVICE=n/a IR_PUSH=n/a
LOGIN_JS="import { login } from '$HERE/../soak/lib.mjs'; console.log(await login(process.argv[1]));"

ROOT=$(mktemp -d "$OUT/root.XXXXXX")
head -c 1024 /dev/urandom >"$ROOT/file.bin"

if wanted hello; then
  note "hello under callgrind, $N requests"
  start_callgrind hello 'listening on http://127\.0\.0\.1:([0-9]+)' "$BUILD/examples/hello" http://127.0.0.1:0
  h2load_window hello "$STARTED_PID" "http://127.0.0.1:$STARTED_PORT/hello"; IR_HELLO=$IR_PER
  stop_server "$STARTED_PID"
fi

if wanted file; then
  note "http-server under callgrind, $N requests"
  start_callgrind file 'serving .* on http://127\.0\.0\.1:([0-9]+)' "$BUILD/examples/http-server" -d "$ROOT" -l http://127.0.0.1:0
  h2load_window file "$STARTED_PID" "http://127.0.0.1:$STARTED_PORT/file.bin"; IR_FILE=$IR_PER
  stop_server "$STARTED_PID"
fi

if wanted firmware; then
  note "firmware under callgrind, $N requests of the JS asset and of /api/sets/device"
  start_firmware firmware
  FW_PID=$STARTED_PID FW_BASE=http://127.0.0.1:$STARTED_PORT
  ASSET=$(curl -s "$FW_BASE/" | sed -nE 's|.*src="\./(assets/app-[0-9a-f]+\.js)".*|/\1|p' | head -n 1)
  if [ -z "$ASSET" ]; then
    FAILED+=("no hashed JS asset named in the firmware's index.html")
  else
    h2load_window firmware "$FW_PID" "$FW_BASE$ASSET" -H 'Accept-Encoding: gzip'; IR_ASSET=$IR_PER
  fi
  if COOKIE=$(node --input-type=module -e "$LOGIN_JS" "$FW_BASE" 2>&1); then
    h2load_window firmware "$FW_PID" "$FW_BASE/api/sets/device" -H "Cookie: $COOKIE"; IR_DEVICE=$IR_PER
  else
    FAILED+=("login to the firmware: $COOKIE")
  fi
  stop_server "$FW_PID"
fi

if wanted push; then
  note "firmware under callgrind, $PUSHES LED changes without and with one WebSocket client"
  start_firmware ws
  if out=$(node "$HERE/instr-ws.mjs" "$STARTED_PID" "$STARTED_PORT" "$PUSHES" 2>&1); then
    IR_PUSH=$(awk -v a="$(dump_ir "$OUT/ws.out.1")" -v b="$(dump_ir "$OUT/ws.out.2")" -v n="$PUSHES" \
      'BEGIN { if (a > 0 && b > 0) printf "%.0f", (b - a) / n; else print "n/a" }')
  else
    FAILED+=("WebSocket pushes: $out")
  fi
  stop_server "$STARTED_PID"
fi

# ---- report
verdict() {  # value limit
  awk -v v="$1" -v g="$2" 'BEGIN { print (v != "n/a" && g > 0 && v + 0 <= g + 0) ? "PASS" : "MISS" }'
}
fmt='  %-30s %9s %9s %9s   %s\n'
echo "User-space instructions per request under callgrind: h2load --h1 -n $N -c $CONNS, keep-alive, start-up and warm-up excluded"
# shellcheck disable=SC2059
printf "$fmt" case ours "Mongoose" "nginx" goal
# shellcheck disable=SC2059
{
  wanted hello &&
    printf "$fmt" "13-byte reply (hello)" "$IR_HELLO" "$MG_HELLO" "$NGX_HELLO" "<= $GOAL_HELLO $(verdict "$IR_HELLO" $GOAL_HELLO)"
  wanted file &&
    printf "$fmt" "1 KiB file (http-server)" "$IR_FILE" "$MG_FILE" "$NGX_FILE" "<= $GOAL_FILE $(verdict "$IR_FILE" $GOAL_FILE)"
  wanted firmware &&
    printf "$fmt" "firmware JS asset, gzip" "$IR_ASSET" - - "<= $BASE_ASSET (baseline) $(verdict "$IR_ASSET" $BASE_ASSET)" &&
    printf "$fmt" "GET /api/sets/device, session" "$IR_DEVICE" - - "<= $BASE_DEVICE (baseline) $(verdict "$IR_DEVICE" $BASE_DEVICE)"
  wanted push &&
    printf "$fmt" "field-set push, 1 WS client" "$IR_PUSH" - - "<= $BASE_PUSH (baseline) $(verdict "$IR_PUSH" $BASE_PUSH)"
}
echo "  (Mongoose 7.22 -O2 and nginx 1.22: issue 25's figures, fixed. The push: $PUSHES LED changes with one"
echo "  client of /api/ws less the same with none, per change; it also holds the share of the firmware's own"
echo "  sensor pushes (one a second) that fall in that time, so it varies by a few per cent from run to run."
echo "  Dumps in $OUT for callgrind_annotate)"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
[ "${#FAILED[@]}" -eq 0 ]
