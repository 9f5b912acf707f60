#!/usr/bin/env bash
# `make bench`: our servers against Debian's nginx on loopback, with wrk.
#   - 13-byte reply: examples/hello vs nginx `return 200 "Hello, world!"`
#   - 1 KiB static file: examples/http-server vs nginx `root` + sendfile
#   - WebSocket echo of 64-byte messages: examples/websocket-server vs node's ws (ws-echo.sh)
#   - TLS: handshakes per second (full, resumed), kept-alive requests, memory per idle
#     connection, beside nginx with the same certificate (tls.sh)
#   - OTA: a 32 MiB image uploaded with curl to the firmware (verified, in its slot) beside
#     the same file PUT to nginx, and the firmware's peak memory growth meanwhile (ota.sh)
#   - the built-in TCP/IP stack: a 100 MiB download over a TAP beside the sockets build over
#     a veth pair, the same with 1% loss, RAM per TCP connection, the text of the smallest
#     HTTP program on it for Cortex-M (tcpip.sh)
#   - the board (QEMU mps2-an385): the minimal HTTP program's text and RAM, the dashboard
#     firmware's size per component, its peak RAM under 8 + 4 clients and REST reads through
#     QEMU's forward beside the host build behind a userspace proxy (board.sh)
#   - user-space instructions per request under callgrind: the 13-byte reply, the 1 KiB file,
#     a packed gzip asset, GET /api/sets/device, one WebSocket push (instr.sh)
# each at 50 and 1000 connections, servers pinned to CPU 0 and wrk to CPU 1,
# the firmware's packed dashboard (index.html and a hashed asset, gzip), plus
# resident memory: http-server's RSS around the c1000 run, and bytes per
# idle keep-alive connection (ours and the nginx worker) measured on fresh
# processes before any load; the firmware's field sets: 1000 WebSocket clients
# (memory per idle client, time until the last has a change) and REST reads, then 10,000
# WebSocket clients of one more firmware (push latency p50/p99/max, memory per idle client),
# and the firmware's bytes per idle keep-alive connection. Prints a table and writes it to $BUILD/bench/results.txt.
# Env: BUILD (build), BENCH_SECONDS (10) per wrk run, BENCH_IDLE_CONNS (1000), BENCH_WS_MANY (10000).
# The goals are informational: exit status is 0 unless something failed to run.
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-10}
IDLE_N=${BENCH_IDLE_CONNS:-1000}
WS_MANY=${BENCH_WS_MANY:-10000}
NGINX=${NGINX:-/usr/sbin/nginx}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
RESULTS=$OUT/results.txt
SERVER_CPU=0 CLIENT_CPU=1

PIDS=()     # every process we started, stopped by cleanup()
FAILED=()   # what failed to run; any entry makes the exit status 1

cleanup() {
  stop_pids
  [ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
for tool in wrk taskset node curl "$NGINX"; do command -v "$tool" >/dev/null || die "$tool not found"; done
for ex in examples/http-server examples/hello firmware/firmware; do [ -x "$BUILD/$ex" ] || die "build first (make)"; done

# c1000 needs well over 1000 descriptors in the servers and in wrk: they inherit this.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || die "cannot raise the descriptor limit"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || die "descriptor limit $(ulimit -n) is too low for c1000"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)  # others' load on the CPUs skews every figure

# ---- web root: one 1 KiB file of random bytes
ROOT=$(mktemp -d "$OUT/root.XXXXXX")
head -c 1024 /dev/urandom >"$ROOT/file.bin"

# ---- our servers, on CPU 0
start_ours examples/http-server "$OUT/http-server.log" 'serving .* on http://127\.0\.0\.1:([0-9]+)' \
  -d "$ROOT" -l http://127.0.0.1:0
HS_PID=$STARTED_PID HS_PORT=$STARTED_PORT
start_ours examples/hello "$OUT/hello.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  http://127.0.0.1:0 https://127.0.0.1:0  # no certificate: its https listener logs why and stays off (tls.sh measures HTTPS)
HELLO_PID=$STARTED_PID HELLO_PORT=$STARTED_PORT
start_ours firmware/firmware "$OUT/firmware.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  -l http://127.0.0.1:0 -d "$OUT/firmware-data"
FW_PID=$STARTED_PID FW_PORT=$STARTED_PORT
rm -rf "$OUT/firmware-dash-data"  # no users or settings from an earlier run
start_ours firmware/firmware "$OUT/firmware-dash.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  -l http://127.0.0.1:0 -d "$OUT/firmware-dash-data"  # a fresh one for the field sets (/api/ws, /api/sets)
FWD_PID=$STARTED_PID FWD_PORT=$STARTED_PORT
rm -rf "$OUT/firmware-many-data"
start_ours firmware/firmware "$OUT/firmware-many.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  -l http://127.0.0.1:0 -d "$OUT/firmware-many-data"  # one more for the WS_MANY WebSocket clients
FWM_PID=$STARTED_PID FWM_PORT=$STARTED_PORT

# ---- nginx, on CPU 0, with everything it writes under $OUT/nginx
NGX=$OUT/nginx
mkdir -p "$NGX/tmp"
start_nginx http

# ---- check every server answers what it is benchmarked on
HELLO_URL=http://127.0.0.1:$HELLO_PORT/hello
HS_URL=http://127.0.0.1:$HS_PORT/file.bin
NGX_HELLO_URL=http://127.0.0.1:$NGX_PORT/hello
NGX_FILE_URL=http://127.0.0.1:$NGX_PORT/file.bin
for url in "$HELLO_URL" "$NGX_HELLO_URL"; do
  [ "$(curl -s --max-time 5 "$url")" = "Hello, world!" ] || die "$url does not answer Hello, world!"
done
for url in "$HS_URL" "$NGX_FILE_URL"; do
  curl -s --max-time 5 "$url" | cmp -s - "$ROOT/file.bin" || die "$url does not serve the 1 KiB file"
done

# ---- memory per idle keep-alive connection, on fresh processes (no heap grown by load yet)
idle_cost() {  # label pid port path -> sets IDLE_BYTES (per connection, or n/a)
  local out
  IDLE_BYTES=n/a
  if out=$(taskset -c $CLIENT_CPU node "$HERE/idle-conns.mjs" "$2" "$3" "$4" "$IDLE_N" 2>&1); then
    note "idle keep-alive, $1: $out"
    IDLE_BYTES=$(sed -nE 's/.*bytes_per_conn=(-?[0-9]+).*/\1/p' <<<"$out")
  fi
  if [ -z "$IDLE_BYTES" ] || [ "$IDLE_BYTES" = n/a ]; then IDLE_BYTES=n/a; FAILED+=("idle connections to $1: $out"); fi
}
idle_cost http-server "$HS_PID" "$HS_PORT" /file.bin; IDLE_OURS=$IDLE_BYTES
idle_cost "nginx worker" "$NGX_WORKER" "$NGX_PORT" /file.bin; IDLE_NGX=$IDLE_BYTES
idle_cost firmware "$FW_PID" "$FW_PORT" /index.html; IDLE_FW=$IDLE_BYTES

# dash-ws.mjs's figures (medians over its pushes) as the report prints them
ws_cpu_figures() {  # dash-ws output -> "firmware CPU A ms (waiting for a CPU B ms), client busy C ms: bound by X"
  sed -nE 's/.* fw_cpu_ms=([0-9.-]+) fw_wait_ms=([0-9.-]+) client_busy_ms=([0-9.-]+) bound=([a-z]+).*/firmware CPU \1 ms (waiting for a CPU \2 ms), client busy \3 ms: bound by the \4/p' <<<"$1"
}
ws_push_figures() {  # dash-ws output -> "p50 A ms, p99 B ms, max C ms (each push: ...); <cpu figures>"
  local each
  each=$(sed -nE 's/.* push_ms_each=([0-9.,]+).*/\1/p' <<<"$1")
  sed -nE "s/.* push_ms=([0-9.]+) push_p50_ms=([0-9.]+) push_p99_ms=([0-9.]+) .*/p50 \\2 ms, p99 \\3 ms, max \\1 ms (the last client, each push: ${each//,/ })/p" <<<"$1"
  ws_cpu_figures "$1"
}

# ---- field sets: N WebSocket clients of the firmware, memory per idle one, and the time
# until the last has one state change (logs in first when the firmware has users)
WS_BYTES=n/a WS_PUSH_MS=n/a WS_PUSH='' DASH_COOKIE=
if out=$(taskset -c $CLIENT_CPU node "$HERE/dash-ws.mjs" "$FWD_PID" "$FWD_PORT" "$IDLE_N" 2>&1); then
  note "WebSocket clients of /api/ws: $out"
  WS_BYTES=$(sed -nE 's/.*bytes_per_conn=(-?[0-9]+).*/\1/p' <<<"$out")
  WS_PUSH_MS=$(sed -nE 's/.* push_ms=([0-9.]+).*/\1/p' <<<"$out")
  WS_PUSH=$(ws_push_figures "$out")
  DASH_COOKIE=$(sed -nE 's/^cookie=([^ ]*).*/\1/p' <<<"$out"); [ "$DASH_COOKIE" = - ] && DASH_COOKIE=
else
  FAILED+=("WebSocket clients of /api/ws: $out")
fi

# ---- WS_MANY WebSocket clients of one firmware: push latency to all of them, memory per idle one.
# Each end holds WS_MANY descriptors; the firmware and node inherit this script's limit.
WSM_BYTES=n/a WSM_P50=n/a WSM_P99=n/a WSM_MAX=n/a WSM_CLOSE=
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((WS_MANY + 100)) ]; then
  FAILED+=("$WS_MANY WebSocket clients: descriptor limit $(ulimit -n) is too low")
elif out=$(taskset -c $CLIENT_CPU node "$HERE/dash-ws.mjs" "$FWM_PID" "$FWM_PORT" "$WS_MANY" 2>&1); then
  note "$WS_MANY WebSocket clients of /api/ws: $out"
  WSM_BYTES=$(sed -nE 's/.*bytes_per_conn=(-?[0-9]+).*/\1/p' <<<"$out")
  WSM_P50=$(sed -nE 's/.* push_p50_ms=([0-9.]+).*/\1/p' <<<"$out")
  WSM_P99=$(sed -nE 's/.* push_p99_ms=([0-9.]+).*/\1/p' <<<"$out")
  WSM_MAX=$(sed -nE 's/.* push_ms=([0-9.]+).*/\1/p' <<<"$out")
  WSM_OPEN=$(sed -nE 's/.* open_s=([0-9.]+).*/\1/p' <<<"$out")
  WSM_CPU=$(ws_cpu_figures "$out")
  WSM_CLOSE=$(sed -nE 's/.* close_ms=([0-9]+).*/\1/p' <<<"$out")
else
  FAILED+=("$WS_MANY WebSocket clients of /api/ws: $out")
fi
kill -TERM "$FWM_PID" 2>/dev/null  # 10,000 clients' worth of heap: not beside the wrk runs

# ---- wrk

ROWS=()    # table rows, formatted once all runs are done
NOTES=()   # error counts seen by wrk
GOAL_FILE=()
bench_pair() {  # label conns ours_url ours_pid nginx_url is_file_goal
  local ours_rps ours_p99 ours_us ngx_rps ngx_p99 ngx_us ratio goal="" tag=${1%% *}-c$2
  warm_up "$3"; warm_up "$5"
  run_wrk "ours-$tag" "$3" "$2" "$4"; ours_rps=$RPS ours_p99=$P99 ours_us=$US_PER_REQ
  [ -n "$ERRS" ] && NOTES+=("ours $1 c$2: $ERRS (see $OUT/wrk-ours-$tag.txt)")
  run_wrk "nginx-$tag" "$5" "$2" "$NGX_WORKER"; ngx_rps=$RPS ngx_p99=$P99 ngx_us=$US_PER_REQ
  [ -n "$ERRS" ] && NOTES+=("nginx $1 c$2: $ERRS (see $OUT/wrk-nginx-$tag.txt)")
  ratio=$(awk -v a="$ours_rps" -v b="$ngx_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  if [ "$6" = 1 ]; then
    goal=$(awk -v r="$ratio" 'BEGIN { print (r != "n/a" && r >= 1.0) ? "PASS" : "MISS" }')
    GOAL_FILE+=("c$2=$goal")
  fi
  ROWS+=("$1 c$2|$ours_rps|$ngx_rps|${ratio}x|$ours_p99|$ngx_p99|$ours_us|$ngx_us|$goal")
}

bench_pair "hello 13 B" 50 "$HELLO_URL" "$HELLO_PID" "$NGX_HELLO_URL" 0
bench_pair "hello 13 B" 1000 "$HELLO_URL" "$HELLO_PID" "$NGX_HELLO_URL" 0
bench_pair "file 1 KiB" 50 "$HS_URL" "$HS_PID" "$NGX_FILE_URL" 1
RSS_BEFORE_C1000=$(vmrss_kb "$HS_PID")
bench_pair "file 1 KiB" 1000 "$HS_URL" "$HS_PID" "$NGX_FILE_URL" 1
RSS_AFTER_C1000=$(vmrss_kb "$HS_PID") HWM_OURS=$(vmhwm_kb "$HS_PID")

# ---- the firmware's packed dashboard (no nginx counterpart: figures beside the above)
FW_ROWS=()
bench_packed() {  # label path conns
  local url=http://127.0.0.1:$FW_PORT$2 tag
  tag=fw-$(basename "$2" | tr -c 'a-z0-9\n' '-' | head -c 20)-c$3
  warm_up "$url"
  run_wrk "$tag" "$url" "$3" "$FW_PID" -H 'Accept-Encoding: gzip'
  [ -n "$ERRS" ] && NOTES+=("firmware $1 c$3: $ERRS (see $OUT/wrk-$tag.txt)")
  FW_ROWS+=("$1 c$3|$RPS|$P99|$US_PER_REQ|$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$url")")
}
FW_ASSET=$(curl -s "http://127.0.0.1:$FW_PORT/" | sed -nE 's|.*src="\./(assets/app-[0-9a-f]+\.js)".*|/\1|p' | head -n 1)
[ -n "$FW_ASSET" ] || FAILED+=("no hashed JS asset named in the firmware's index.html")
for conns in 50 1000; do
  bench_packed "index.html gz" /index.html "$conns"
  [ -n "$FW_ASSET" ] && bench_packed "app.js gz" "$FW_ASSET" "$conns"
done
# REST reads of a field set with a session (the device set is refreshed on every read)
DASH_URL=http://127.0.0.1:$FWD_PORT/api/sets/device
warm_up "$DASH_URL"
DASH_HDR=(); [ -n "$DASH_COOKIE" ] && DASH_HDR=(-H "Cookie: $DASH_COOKIE")
run_wrk fw-sets-device-c50 "$DASH_URL" 50 "$FWD_PID" "${DASH_HDR[@]}"
[ -n "$ERRS" ] && NOTES+=("firmware GET /api/sets/device c50: $ERRS (see $OUT/wrk-fw-sets-device-c50.txt)")
DASH_RPS=$RPS DASH_P99=$P99 DASH_US=$US_PER_REQ
NGX_RSS_AFTER=$(vmrss_kb "$NGX_WORKER") HWM_NGX=$(vmhwm_kb "$NGX_WORKER")
for pid in "$HS_PID" "$HELLO_PID" "$FW_PID" "$FWD_PID" "$NGX_PID"; do
  kill -0 "$pid" 2>/dev/null || FAILED+=("server pid $pid died during the benchmark")
done

# ---- WebSocket echo, 64-byte messages: examples/websocket-server beside node's ws (test/bench/ws-echo.sh)
WS_ECHO=$(BUILD=$BUILD BENCH_SECONDS=$SECS "$HERE/ws-echo.sh" 2>&1) || FAILED+=("WebSocket echo: $WS_ECHO")

# ---- TLS beside nginx with the same certificate: handshakes, kept-alive requests, idle memory (test/bench/tls.sh)
TLS_TABLE=$(BUILD=$BUILD BENCH_IDLE_CONNS=$IDLE_N "$HERE/tls.sh") || FAILED+=("TLS benchmark: $TLS_TABLE")

# ---- OTA upload of a 32 MiB image beside nginx taking the same file (test/bench/ota.sh)
OTA_TABLE=$(BUILD=$BUILD "$HERE/ota.sh") || FAILED+=("OTA upload benchmark: $OTA_TABLE")

# ---- the built-in TCP/IP stack: downloads over a TAP beside veth, RAM per connection, Cortex-M text (test/bench/tcpip.sh)
TCPIP_TABLE=$(BUILD=$BUILD "$HERE/tcpip.sh") || FAILED+=("TCP/IP stack benchmark: $TCPIP_TABLE")

# ---- the board in QEMU: the minimal HTTP program and the dashboard firmware's budget (test/bench/board.sh)
BOARD_TABLE=$(BUILD=$BUILD BENCH_SECONDS=$SECS "$HERE/board.sh") || FAILED+=("board benchmark: $BOARD_TABLE")

# ---- user-space instructions per request under callgrind, beside Mongoose's and nginx's (test/bench/instr.sh)
INSTR_TABLE=$(BUILD=$BUILD "$HERE/instr.sh") || FAILED+=("instructions per request: $INSTR_TABLE")

# ---- report
idle_goal=$(awk -v b="$IDLE_OURS" 'BEGIN { print (b != "n/a" && b <= 4096) ? "PASS" : "MISS" }')
ws_mem_goal=$(awk -v b="$WS_BYTES" 'BEGIN { print (b != "n/a" && b <= 2048) ? "PASS" : "MISS" }')
ws_push_goal=$(awk -v t="$WS_PUSH_MS" 'BEGIN { print (t != "n/a" && t < 25) ? "PASS" : "MISS" }')
wsm_push_goal=$(awk -v t="$WSM_MAX" 'BEGIN { print (t != "n/a" && t < 100) ? "PASS" : "MISS" }')
{
  echo "Meerkat bench $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "wrk -t1 -d${SECS}s on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU, $(nproc) CPUs, load average $LOAD_AT_START at start and $(cut -d' ' -f1-3 /proc/loadavg) at end, nofile $(ulimit -n)"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //'), 1 worker, sendfile on, access_log off"
  echo
  fmt='%-17s %11s %11s %6s %11s %11s %10s %10s  %s\n'
  # shellcheck disable=SC2059
  printf "$fmt" test "ours req/s" "nginx req/s" ratio "ours p99ms" "ngx p99ms" "ours us/rq" "ngx us/rq" goal
  for row in "${ROWS[@]}"; do
    IFS='|' read -r t o n r op np ou nu g <<<"$row"
    # shellcheck disable=SC2059
    printf "$fmt" "$t" "$o" "$n" "$r" "$op" "$np" "$ou" "$nu" "$g"
  done
  echo "(us/rq: server CPU time, user + system, per request; steadier than req/s when the machine is shared)"
  echo
  echo "firmware, packed dashboard, gzip-encoded responses (Accept-Encoding: gzip):"
  fmt2='%-17s %11s %11s %10s %10s\n'
  # shellcheck disable=SC2059
  printf "$fmt2" test "req/s" "p99ms" "us/rq" "bytes"
  for row in "${FW_ROWS[@]}"; do
    IFS='|' read -r t r p u b <<<"$row"
    # shellcheck disable=SC2059
    printf "$fmt2" "$t" "$r" "$p" "$u" "$b"
  done
  for n in "${NOTES[@]}"; do echo "  note: $n"; done
  echo
  echo "http-server RSS: ${RSS_BEFORE_C1000:-?} kB before the file c1000 run, ${RSS_AFTER_C1000:-?} kB after it, peak ${HWM_OURS:-?} kB"
  echo "nginx worker RSS after it: ${NGX_RSS_AFTER:-?} kB, peak ${HWM_NGX:-?} kB"
  echo "bytes per idle keep-alive connection ($IDLE_N conns, one request each): ours $IDLE_OURS, nginx worker $IDLE_NGX  $idle_goal"
  echo "bytes per idle keep-alive connection of the firmware ($IDLE_N conns, GET /index.html each): $IDLE_FW"
  echo
  echo
  echo "$WS_ECHO"
  echo
  echo "$TLS_TABLE"
  echo
  echo "$OTA_TABLE"
  echo
  echo "$TCPIP_TABLE"
  echo
  echo "$BOARD_TABLE"
  echo
  echo "$INSTR_TABLE"
  echo
  echo "goal: >= 1.0x nginx on the 1 KiB file at c50 and c1000: ${GOAL_FILE[*]}"
  echo "goal: <= 4096 bytes per idle keep-alive connection: $idle_goal ($IDLE_OURS)"
  echo
  echo "firmware field sets ($IDLE_N WebSocket clients of /api/ws${DASH_COOKIE:+, logged in}):"
  echo "goal: < 25 ms until the last of $IDLE_N WebSocket clients has a state change: $ws_push_goal ($WS_PUSH_MS ms, median of 5 pushes)"
  [ -n "$WS_PUSH" ] && echo "  ${WS_PUSH//$'\n'/$'\n'  }"
  echo "goal: <= 2048 bytes of firmware memory per idle WebSocket client: $ws_mem_goal ($WS_BYTES)"
  echo "GET /api/sets/device c50${DASH_COOKIE:+ with a session cookie}: $DASH_RPS req/s, p99 $DASH_P99 ms, $DASH_US us/rq"
  echo
  echo "firmware, $WS_MANY WebSocket clients of /api/ws (one process, logged in once, opened in ${WSM_OPEN:-?} s):"
  echo "push of one change, POST to each client: p50 $WSM_P50 ms, p99 $WSM_P99 ms, max $WSM_MAX ms (CPU meanwhile: ${WSM_CPU:-?})"
  echo "goal: < 100 ms until the last of $WS_MANY WebSocket clients has a state change: $wsm_push_goal ($WSM_MAX ms)"
  echo "  (on loopback the firmware's send() also runs the receiving kernel's TCP work: perf puts about half of"
  echo "  the firmware's push time in the peer's receive path and its ACKs)"
  echo "bytes of firmware memory per idle WebSocket client at $WS_MANY: $WSM_BYTES"
  echo "all $WS_MANY clients closing at once: ${WSM_CLOSE:-?} ms until the firmware held none"
  for f in "${FAILED[@]}"; do echo "FAILED: $f"; done
} | tee "$RESULTS"
echo "(written to $RESULTS)"
[ "${#FAILED[@]}" -eq 0 ]
