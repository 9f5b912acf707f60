#!/usr/bin/env bash
# WebSocket echo benchmark (part of `make bench`, also runs alone): SIZE-byte messages
# per second through examples/websocket-server and through node's ws as an echo server
# (ws-echo-server.mjs), driven by the same load generator: CONNS connections, each sending
# its next message when the echo arrives. Servers on CPU 0, the generator on CPU 1. The goal
# is judged with ws_echo_load (C, epoll, a few us a message); the run with node's ws client
# (ws-echo-load.mjs, about 20 us a message) is printed beside: that client is its own bound,
# so there the faster server mostly waits. One line per server and client: messages per
# second, server and client CPU microseconds per message.
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
[ -x "$BUILD/examples/websocket-server" ] && [ -x "$BUILD/bench/ws_echo_load" ] || die "build first (make bench)"
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

# One load run against a server: RATE messages a second, US and CLIENT_US its and the
# generator's CPU microseconds a message
run() {  # c|node pid port
  local t0 t1 out msgs load
  if [ "$1" = c ]; then load=("$BUILD/bench/ws_echo_load" "$3" /ws "$CONNS" "$SECS" "$SIZE")
  else load=(node "$HERE/ws-echo-load.mjs" "ws://127.0.0.1:$3/ws" "$CONNS" "$SECS" "$SIZE"); fi
  t0=$(cpu_ticks "$2")
  out=$(taskset -c $CLIENT_CPU "${load[@]}" 2>&1) || die "load against port $3 failed: $out"
  t1=$(cpu_ticks "$2")
  RATE=$(sed -nE 's/.*msgs_per_s=([0-9]+).*/\1/p' <<<"$out")
  msgs=$(sed -nE 's/.*msgs=([0-9]+) .*/\1/p' <<<"$out")
  # CPU times span the warm-up second too: count its messages at the measured rate
  US=$(awk -v a="$t0" -v b="$t1" -v n="$msgs" -v r="$RATE" -v hz="$HZ" \
    'BEGIN { m = n + r; if (m > 0) printf "%.2f", (b - a) * 1e6 / hz / m; else print "?" }')
  CLIENT_US=$(sed -nE 's/.*client_cpu_ms=([0-9]+).*/\1/p' <<<"$out" |
    awk -v n="$msgs" '{ if (n > 0) printf "%.2f", $1 * 1e3 / n; else print "?" }')
}

start "$OUT/ws-ours.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  "$BUILD/examples/websocket-server" -l http://127.0.0.1:0
OURS_PID=$STARTED_PID OURS_PORT=$STARTED_PORT
start "$OUT/ws-node.log" 'listening on ws://127\.0\.0\.1:([0-9]+)' node "$HERE/ws-echo-server.mjs"
NODE_PID=$STARTED_PID NODE_PORT=$STARTED_PORT

NODE_WS="node ws $(node -p 'require("ws/package.json").version' 2>/dev/null)"
echo "WebSocket echo, ${SIZE}-byte text messages, $CONNS connections, ${SECS}s each, servers on CPU $SERVER_CPU, load on CPU $CLIENT_CPU:"
printf '  %-26s %-16s %10s %14s %14s\n' server "load generator" msg/s "server us/msg" "client us/msg"
for client in c node; do
  run "$client" "$OURS_PID" "$OURS_PORT"; OURS_RATE=$RATE
  printf '  %-26s %-16s %10s %14s %14s\n' examples/websocket-server "$client" "$RATE" "$US" "$CLIENT_US"
  run "$client" "$NODE_PID" "$NODE_PORT"; NODE_RATE=$RATE
  printf '  %-26s %-16s %10s %14s %14s\n' "$NODE_WS" "$client" "$RATE" "$US" "$CLIENT_US"
  RATIO=$(awk -v a="$OURS_RATE" -v b="$NODE_RATE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  if [ "$client" = c ]; then
    GOAL=$(awk -v r="$RATIO" 'BEGIN { print (r != "n/a" && r > 1.0) ? "PASS" : "MISS" }')
    GOAL_LINE="  ratio ${RATIO}x with the C load generator  goal (more than node ws): $GOAL"
  else
    NODE_LINE="  ratio ${RATIO}x with node's ws client (a client near 100% of its CPU measures itself)"
  fi
done
echo "$GOAL_LINE"
echo "$NODE_LINE"
