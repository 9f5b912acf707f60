#!/usr/bin/env bash
# WebSocket echo benchmark (part of `make bench`, also runs alone): SIZE-byte messages
# per second through examples/websocket-server and through node's ws as an echo server
# (ws-echo-server.mjs), driven by the same node load generator (ws-echo-load.mjs: CONNS
# connections, each sending its next message when the echo arrives). Servers on CPU 0,
# the generator on CPU 1. Prints one line per server (messages per second and server CPU
# microseconds per message) and the ratio against the goal (more than node ws).
# Env: BUILD (build), BENCH_SECONDS (10), BENCH_WS_CONNS (50), BENCH_WS_SIZE (64).
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_WS_CONNS:-50}
SIZE=${BENCH_WS_SIZE:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
SERVER_CPU=0 CLIENT_CPU=1
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "ws-echo: $*" >&2; exit 1; }
[ -x "$BUILD/examples/websocket-server" ] || die "build first (make)"
[ -d "$HERE/../../node_modules/ws" ] || die "npm ci first (ws)"

start() {  # log pattern command... -> STARTED_PID, STARTED_PORT
  local log=$1 pattern=$2 port=''; shift 2
  : >"$log"  # Truncated here, not in the background child: no stale port read
  taskset -c $SERVER_CPU "$@" >"$log" 2>&1 &
  STARTED_PID=$!; PIDS+=("$STARTED_PID")
  for _ in $(seq 100); do
    port=$(sed -nE "s|.*$pattern.*|\1|p" "$log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$STARTED_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] || die "$* did not start, see $log"
  STARTED_PORT=$port
}
cpu_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
HZ=$(getconf CLK_TCK)

run() {  # label pid port -> RATE, US
  local t0 t1 out msgs
  t0=$(cpu_ticks "$2")
  out=$(taskset -c $CLIENT_CPU node "$HERE/ws-echo-load.mjs" "ws://127.0.0.1:$3/ws" "$CONNS" "$SECS" "$SIZE" 2>&1) ||
    die "load against $1 failed: $out"
  t1=$(cpu_ticks "$2")
  RATE=$(sed -nE 's/.*msgs_per_s=([0-9]+).*/\1/p' <<<"$out")
  msgs=$(sed -nE 's/.*msgs=([0-9]+) .*/\1/p' <<<"$out")
  # CPU ticks span the warm-up second too: count its messages at the measured rate
  US=$(awk -v a="$t0" -v b="$t1" -v n="$msgs" -v r="$RATE" -v hz="$HZ" \
    'BEGIN { m = n + r; if (m > 0) printf "%.2f", (b - a) * 1e6 / hz / m; else print "?" }')
}

start "$OUT/ws-ours.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  "$BUILD/examples/websocket-server" -l http://127.0.0.1:0
OURS_PID=$STARTED_PID OURS_PORT=$STARTED_PORT
start "$OUT/ws-node.log" 'listening on ws://127\.0\.0\.1:([0-9]+)' node "$HERE/ws-echo-server.mjs"
NODE_PID=$STARTED_PID NODE_PORT=$STARTED_PORT

run ours "$OURS_PID" "$OURS_PORT"; OURS_RATE=$RATE OURS_US=$US
run "node ws" "$NODE_PID" "$NODE_PORT"; NODE_RATE=$RATE NODE_US=$US
RATIO=$(awk -v a="$OURS_RATE" -v b="$NODE_RATE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
GOAL=$(awk -v r="$RATIO" 'BEGIN { print (r != "n/a" && r > 1.0) ? "PASS" : "MISS" }')
echo "WebSocket echo, ${SIZE}-byte text messages, $CONNS connections, ${SECS}s, one node load generator on CPU $CLIENT_CPU:"
printf '  %-26s %10s msg/s %8s us/msg (server CPU)\n' "examples/websocket-server" "$OURS_RATE" "$OURS_US"
printf '  %-26s %10s msg/s %8s us/msg (server CPU)\n' "node ws $(node -p 'require("ws/package.json").version' 2>/dev/null)" "$NODE_RATE" "$NODE_US"
echo "  ratio ${RATIO}x  goal (more than node ws): $GOAL"
