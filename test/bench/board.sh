#!/usr/bin/env bash
# The board's budget (part of `make bench`, also runs alone), issue 24, every figure from this run:
#   1. the minimal HTTP program ($BUILD/arm/tcpip/min_http.elf) in QEMU: its text (goal <= 38 KB)
#      and its RAM beyond buffers after REQUESTS requests on CONNS keep-alive connections at once:
#      data + bss, plus the heap's high-water mark less the buffers in it (the TCP rings of
#      CONNS connections, the iobufs the manager holds as spares once they are idle, the stack's
#      frame buffers; sizes from test/bench/board_sizes.c), goal <= 16 KB; the stack's depth beside
#   2. the dashboard firmware ($BUILD/arm/firmware.elf): text, data and bss per component
#      (tools/arm-size.sh) and the packed dashboard; in QEMU, its peak RAM after 8 browser
#      connections and 4 WebSocket clients (test/bench/board-load.mjs), memory_peak as
#      GET /api/sets/device reports it, the heap's high-water mark and the stack's depth
#   3. requests per second of GET /api/sets/device with a session, wrk with keep-alive through
#      QEMU's user-mode port forward (slirp, a userspace TCP proxy inside QEMU), beside the host
#      build ($BUILD/firmware/firmware) behind a userspace TCP proxy of the same kind (node)
# QEMU's RAM is read through its monitor (xp, pmemsave): nothing is added to the programs.
# QEMU, the host firmware and the proxy on CPU 0, the clients on CPU 1; all stopped on exit.
# Env: BUILD (build), BENCH_SECONDS (10) per wrk run, BOARD_BENCH_CONNS (8) wrk connections.
# Exit status 1 only if something failed to run.
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-10}
WRK_CONNS=${BOARD_BENCH_CONNS:-8}
MIN_CONNS=4 MIN_REQUESTS=400
HERE=$(cd "$(dirname "$0")" && pwd) TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
SERVER_CPU=0 CLIENT_CPU=1
PIDS=() FAILED=()
MIN_ELF=$BUILD/arm/tcpip/min_http.elf FW_ELF=$BUILD/arm/firmware.elf HOST_FW=$BUILD/firmware/firmware
SIZES=$BUILD/arm/tcpip/board_sizes.o CONN_SIZES=$BUILD/arm/tcpip/tcpip_conn_size.o
LOAD=$HERE/board-load.mjs
TMP=$(mktemp -d "$OUT/board.XXXXXX")

cleanup() {
  stop_pids
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "board-bench: $*" >&2; exit 1; }
note() { echo "board-bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
for tool in qemu-system-arm arm-none-eabi-nm arm-none-eabi-size wrk node taskset; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
for f in "$MIN_ELF" "$FW_ELF" "$HOST_FW" "$SIZES" "$CONN_SIZES" "$BUILD/arm/firmware.map"; do
  [ -e "$f" ] || die "build first: make $f"
done
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- sizes from the images
sym() {  # elf regex -> "address size" of the first symbol whose name matches (nm -S, hex)
  arm-none-eabi-nm -S "$1" | awk -v re="$2" 'NF == 4 && $4 ~ re {print $1, $2; exit} NF == 3 && $3 ~ re {print $1, 0; exit}'
}
addr() { local a; a=$(sym "$1" "$2") && [ -n "$a" ] && echo "0x${a%% *}"; }
size_of() { local a; a=$(sym "$1" "$2") && [ -n "$a" ] && echo $((16#${a##* })); }
section() { arm-none-eabi-size -A "$1" | awk -v s="$2" '$1 == s {print $2}'; }  # elf section -> bytes
text_of() { arm-none-eabi-size "$1" | awk 'NR == 2 {print $1}'; }  # as `make arm` and tcpip.sh count it

# ---- QEMU with its monitor on a unix socket
qemu_start() {  # elf log ready-regex -> QEMU_PID, QEMU_PORT, QEMU_MON (empty PID: failed, noted)
  QEMU_MON=$TMP/$(basename "$1").mon QEMU_PID='' QEMU_PORT=$(free_port) || return 1
  taskset -c $SERVER_CPU qemu-system-arm -M mps2-an385 -nographic -kernel "$1" \
    -monitor "unix:$QEMU_MON,server=on,wait=off" \
    -nic "user,restrict=on,hostfwd=tcp:127.0.0.1:$QEMU_PORT-:80" </dev/null >"$2" 2>&1 &
  QEMU_PID=$!; PIDS+=("$QEMU_PID")
  for _ in $(seq 200); do
    grep -qE "$3" "$2" && [ -S "$QEMU_MON" ] && return 0
    kill -0 "$QEMU_PID" 2>/dev/null || break
    sleep 0.1
  done
  FAILED+=("$1 did not come up in QEMU, see $2"); QEMU_PID=''
  return 1
}
qemu_stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
heap_peak() {  # elf -> bytes between the heap's start and _sbrk's top (startup.c's startup_brk)
  local brk
  brk=$(node "$LOAD" peek "$QEMU_MON" "$(addr "$1" '^startup_brk$')" | sed -E 's/.*=//') || return 1
  echo $((brk - $(addr "$1" '^__heap_start$')))
}
stack_used() {  # elf -> bytes of its stack used so far
  node "$LOAD" stack "$QEMU_MON" "$(addr "$1" '^__stack_top$')" 65536 "$TMP/stack.bin" | sed -E 's/.*=//'
}
login() {  # base url -> the session cookie (sets the admin up on a fresh device)
  node --input-type=module -e "import { login } from '$HERE/../soak/lib.mjs'; console.log(await login(process.argv[1]))" "$1"
}
# wrk -c WRK_CONNS against url with the session; sets RPS, P99, US_PER_REQ (server pid's CPU) and ERRS
rest_rps() {  # tag url pid cookie
  taskset -c $CLIENT_CPU wrk -t1 -c"$WRK_CONNS" -d1s -H "Cookie: $4" "$2" >/dev/null 2>&1  # warm-up
  run_wrk "$1" "$2" "$WRK_CONNS" "$3" -H "Cookie: $4"
  [ -n "$ERRS" ] && FAILED+=("wrk $1: $ERRS (see $OUT/wrk-$1.txt)")
}

# ---- 1. the minimal HTTP program
MIN_TEXT=$(text_of "$MIN_ELF")
MIN_DATA=$(section "$MIN_ELF" .data) MIN_BSS=$(section "$MIN_ELF" .bss)
MIN_STATIC=$((MIN_DATA + MIN_BSS))
MIN_MGR=$(size_of "$MIN_ELF" '^(s_)?mgr(\.[0-9]+)?(\.lto_priv\.[0-9]+)?$') MIN_IFP=$(size_of "$MIN_ELF" '^(s_)?ifp(\.[0-9]+)?$')
RINGS=$(size_of "$SIZES" '^board_size_rings$') IOBUF=$(size_of "$SIZES" '^board_size_io$')
FRAMES=$(size_of "$SIZES" '^board_size_frames$') STATE=$(size_of "$SIZES" '^board_size_state$')
TCB=$(size_of "$CONN_SIZES" '^tcpip_size_tcb$') CONN=$(size_of "$CONN_SIZES" '^tcpip_size_conn$')
SPARES_OFF=$(($(size_of "$SIZES" '^board_offset_io_spares$') - 1))
MIN_HEAP=n/a MIN_SPARES=n/a MIN_BEYOND=n/a MIN_STACK=n/a
if qemu_start "$MIN_ELF" "$OUT/board-min.log" 'address 10\.0\.2\.15'; then
  if out=$(taskset -c $CLIENT_CPU node "$LOAD" http "http://127.0.0.1:$QEMU_PORT/" "$MIN_CONNS" "$MIN_REQUESTS" 2>&1) &&
     [ "$out" = "requests=$MIN_REQUESTS sockets=$MIN_CONNS" ]; then
    mgr=$(addr "$MIN_ELF" '^(s_)?mgr(\.[0-9]+)?(\.lto_priv\.[0-9]+)?$')
    MIN_HEAP=$(heap_peak "$MIN_ELF") || FAILED+=("minimal program: no heap mark from QEMU's monitor")
    MIN_SPARES=n/a
    [ -n "$mgr" ] && { MIN_SPARES=$(node "$LOAD" peek "$QEMU_MON" "$((mgr + SPARES_OFF))" | sed -E 's/.*=//') || MIN_SPARES=n/a; }
    MIN_STACK=$(stack_used "$MIN_ELF") || MIN_STACK=n/a
  else
    FAILED+=("minimal program: $MIN_REQUESTS requests on $MIN_CONNS connections: $out")
  fi
  qemu_stop "$QEMU_PID"
fi
if [ "$MIN_HEAP" != n/a ] && [ "$MIN_SPARES" != n/a ]; then
  MIN_BUFFERS=$((MIN_CONNS * RINGS + MIN_SPARES * IOBUF + FRAMES))
  MIN_BEYOND=$((MIN_STATIC + MIN_HEAP - MIN_BUFFERS))
fi
text_goal=$(awk -v t="$MIN_TEXT" 'BEGIN { print (t != "" && t <= 38 * 1024) ? "PASS" : "MISS" }')
ram_goal=$(awk -v b="$MIN_BEYOND" 'BEGIN { print (b != "n/a" && b >= 0 && b <= 16 * 1024) ? "PASS" : "MISS" }')

# ---- 2 and 3 on the board: peak RAM after 8 + 4 clients, then REST reads through the forward
# The flash filesystem's RAM is the linker script's FILES region, outside every section
FW_FILES=$(($(addr "$FW_ELF" '^__files_size__$') + 0))
FW_STATIC=$(($(section "$FW_ELF" .data) + $(section "$FW_ELF" .bss) + FW_FILES))
FW_PEAK=n/a FW_HEAP=n/a FW_STACK=n/a BOARD_RPS=n/a BOARD_P99=n/a BOARD_US=n/a
if qemu_start "$FW_ELF" "$OUT/board-fw.log" 'ready: dashboard on'; then
  base=http://127.0.0.1:$QEMU_PORT
  if ! cookie=$(login "$base" 2>&1); then
    FAILED+=("board firmware: no session: $cookie")
  elif out=$(taskset -c $CLIENT_CPU node "$LOAD" dash "$base" "$cookie" 2>&1) &&
       [[ $out =~ ^memory_peak=([0-9]+)\ sockets=8\ ws=4\ pushes=4$ ]]; then
    FW_PEAK=${BASH_REMATCH[1]}
    FW_HEAP=$(heap_peak "$FW_ELF") || FW_HEAP=n/a
    FW_STACK=$(stack_used "$FW_ELF") || FW_STACK=n/a
    rest_rps board-sets-device "$base/api/sets/device" "$QEMU_PID" "$cookie"
    BOARD_RPS=$RPS BOARD_P99=$P99 BOARD_US=$US_PER_REQ
    kill -0 "$QEMU_PID" 2>/dev/null || FAILED+=("QEMU ended during the REST reads, see $OUT/board-fw.log")
  else
    FAILED+=("board firmware: 8 browser connections and 4 WebSocket clients: $out")
  fi
  qemu_stop "$QEMU_PID"
fi

# ---- 3. the host build behind a userspace proxy
HOST_RPS=n/a HOST_P99=n/a HOST_US=n/a
start_ours firmware/firmware "$OUT/board-host-fw.log" 'listening on http://127\.0\.0\.1:([0-9]+)' \
  -l http://127.0.0.1:0 -d "$TMP/host-data"
HOST_PID=$STARTED_PID HOST_PORT=$STARTED_PORT
taskset -c $SERVER_CPU node "$LOAD" proxy "$HOST_PORT" >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!; PIDS+=("$PROXY_PID")
PROXY_PORT=$(wait_for_port "$PROXY_PID" "$TMP/proxy.log" 'proxy on ([0-9]+)') || die "the proxy did not start: $(cat "$TMP/proxy.log")"
if cookie=$(login "http://127.0.0.1:$PROXY_PORT" 2>&1); then
  rest_rps host-sets-device "http://127.0.0.1:$PROXY_PORT/api/sets/device" "$HOST_PID" "$cookie"
  HOST_RPS=$RPS HOST_P99=$P99 HOST_US=$US_PER_REQ
else
  FAILED+=("host firmware: no session: $cookie")
fi
ratio=$(awk -v a="$BOARD_RPS" -v b="$HOST_RPS" 'BEGIN { if (a != "n/a" && b != "n/a" && b > 0) printf "%.3f", a / b; else print "n/a" }')

# ---- report
echo "board: QEMU mps2-an385 (a Cortex-M3 untimed: TCG runs the guest as fast as the host allows, not at 25 MHz), load average $LOAD_AT_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "1. minimal HTTP program ($MIN_ELF: stack + LAN9118 + HTTP, no TLS, no dashboard), -Os, newlib-nano:"
echo "  text $MIN_TEXT bytes; goal <= 38 KB (38912 bytes): $text_goal"
echo "  data + bss: $MIN_DATA + $MIN_BSS = $MIN_STATIC bytes, no buffers (the manager ${MIN_MGR:-?}, the interface ${MIN_IFP:-?}, newlib, the log and the board)"
echo "  heap high-water mark after $MIN_REQUESTS requests on $MIN_CONNS keep-alive connections at once, read in QEMU: $MIN_HEAP bytes"
echo "    of which buffers ${MIN_BUFFERS:-n/a}: $MIN_CONNS TCP rings of $RINGS, $MIN_SPARES iobufs of $IOBUF (the spares the idle manager holds), frames $FRAMES"
if [ "$MIN_BEYOND" != n/a ]; then
  echo "    the rest $((MIN_HEAP - MIN_BUFFERS)): the stack's state beyond its frames $((STATE - FRAMES)), $MIN_CONNS TCBs of $TCB," \
    "$((MIN_CONNS + 1)) struct mg_connection of $CONN (the listener's too), and $((MIN_HEAP - MIN_BUFFERS - STATE + FRAMES - MIN_CONNS * TCB - (MIN_CONNS + 1) * CONN))" \
    "of the allocator's headers, chunks freed and not reused (fragmentation) and the rest"
fi
echo "  RAM beyond buffers (data + bss + heap mark - buffers): $MIN_BEYOND bytes; goal <= 16 KB (16384 bytes): $ram_goal"
echo "  stack: $MIN_STACK bytes used of 65536 reserved (deepest non-zero word; not in the figures above)"
echo "2. dashboard firmware ($FW_ELF), by component (tools/arm-size.sh):"
"$TOP/tools/arm-size.sh" "$BUILD/arm/firmware.map" | sed 's/^/  /'
echo "  packed dashboard: the packed-dashboard row; web/dist holds $(find "$TOP/web/dist" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}') bytes unpacked"
echo "  peak RAM after 8 browser connections (page, assets, /api/auth, /api/sets on each) and 4 WebSocket clients of /api/ws (each saw a push), all open at once:"
echo "    memory_peak (GET /api/sets/device): $FW_PEAK bytes of the heap arena; QEMU's monitor reads the heap's high-water mark: $FW_HEAP bytes"
echo "    with data + bss + FILES (the flash filesystem's RAM, outside the ELF) $FW_STATIC: $(awk -v a="$FW_HEAP" -v b="$FW_STATIC" 'BEGIN { print (a == "n/a") ? "n/a" : a + b }') bytes; stack $FW_STACK bytes used of 65536"
echo "3. GET /api/sets/device with a session, wrk -t1 -c$WRK_CONNS -d${SECS}s keep-alive:"
fmt='  %-58s %9s %9s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" "" "req/s" "p99 ms" "us/rq"
# shellcheck disable=SC2059
printf "$fmt" "board in QEMU, through its user-mode forward (slirp)" "$BOARD_RPS" "$BOARD_P99" "$BOARD_US"
# shellcheck disable=SC2059
printf "$fmt" "host build, through a node userspace proxy" "$HOST_RPS" "$HOST_P99" "$HOST_US"
echo "  board / host: ${ratio}x"
echo "  (board: QEMU's one process emulates the Cortex-M3 and runs slirp, which ends the host's TCP"
echo "  connection and makes its own to the guest's stack; us/rq: QEMU's CPU. host: the same firmware on"
echo "  sockets behind a node process that accepts each connection and opens one to it; us/rq: the"
echo "  firmware's CPU only. Both on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU.)"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
[ "${#FAILED[@]}" -eq 0 ]
