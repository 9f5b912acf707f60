#!/usr/bin/env bash
# The built-in TCP/IP stack (part of `make bench`, also runs alone), issue 23's four goals:
#   - a 100 MiB download with curl from examples/http-server on the stack ($BUILD/tap) over a
#     TAP, beside the same from the sockets build over a veth pair between two namespaces
#     (the same kind of link: the kernel's on both ends of it), best of RUNS each: MB/s and
#     the ratio (goal >= 0.5)
#   - the same on the stack with 1% of frames lost each way (the TAP driver's test loss,
#     MEERKAT_TAP_LOSS), its time beside the kernel's with 1% of frames lost each way on its
#     veth pair (goal within 2x): by netem where the kernel has it, else by nftables (`numgen
#     random` at each end's ingress; this kernel lacks sch_netem). Both drop whole packets, and
#     a veth carries GSO packets of up to 64 KiB, so the pair sends frame-sized packets for
#     this run (gso_max_segs 1): 1% of Ethernet frames, as on the TAP. Without either, the
#     kernel's lossless time is the reference, and the report says so
#   - RAM per TCP connection beyond its buffers: the TCB and struct mg_connection, sizes
#     read with nm -S from test/bench/tcpip_conn_size.c compiled for the host with the tap
#     flavour's flags and for Cortex-M (goal < 2 KiB)
#   - the linked text of the smallest HTTP program on the stack for Cortex-M at -Os
#     ($BUILD/arm/tcpip/min_http.elf, test/bench/tcpip_min_arm.c) (goal <= 38 KB)
# Servers on CPU 0, curl on CPU 1. Needs root (namespaces, TAP), ip, curl, taskset; nft or tc netem.
# Env: BUILD (build), BENCH_TCPIP_RUNS (3) per download, BENCH_TCPIP_MIB (100),
# BENCH_TCPIP_SERVER (the stack's http-server: another build of it, e.g. other buffer sizes).
# Exit status 1 only if something failed to run.
set -u
BUILD=${BUILD:-build}
RUNS=${BENCH_TCPIP_RUNS:-3}
MIB=${BENCH_TCPIP_MIB:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
SERVER_CPU=0 CLIENT_CPU=1
PIDS=() FAILED=() NAMESPACES=()
NS_TAP=mkb-$$-tap NS_SRV=mkb-$$-srv NS_CLI=mkb-$$-cli
TAP=mkbtap0 KERNEL_IP=10.9.0.1 STACK_IP=10.9.0.2 VETH_SRV_IP=10.9.1.2 VETH_CLI_IP=10.9.1.1

cleanup() {
  local ns
  stop_pids
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "tcpip-bench: $*" >&2; exit 1; }
note() { echo "tcpip-bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- sizes first: they need no privileges
# Bytes of SYMBOL in an object (nm -S prints its size in hex)
sym_size() {  # nm object symbol
  local hex
  hex=$("$1" -S "$2" 2>/dev/null | awk -v s="$3" '$4 == s {print $2}')
  [ -n "$hex" ] && echo $((16#$hex))
}
conn_ram() {  # label nm object -> sets CONN_LINE (for the report) and CONN_BYTES
  local tcb conn engine
  tcb=$(sym_size "$2" "$3" tcpip_size_tcb) conn=$(sym_size "$2" "$3" tcpip_size_conn)
  engine=$(sym_size "$2" "$3" tcpip_size_engine)
  if [ -z "$tcb" ] || [ -z "$conn" ]; then
    FAILED+=("no connection sizes in $3 (make $3)"); CONN_BYTES=n/a CONN_LINE="  $1: n/a"; return
  fi
  CONN_BYTES=$((tcb + conn))
  CONN_LINE="  $1: $CONN_BYTES bytes = TCB $tcb (of which the TCP engine $engine) + struct mg_connection $conn"
}
conn_ram "host (x86-64), tap flavour" nm "$OUT/tcpip_conn_size.o"; HOST_BYTES=$CONN_BYTES RAM_HOST=$CONN_LINE
conn_ram "Cortex-M3" arm-none-eabi-nm "$BUILD/arm/tcpip/tcpip_conn_size.o"; ARM_BYTES=$CONN_BYTES RAM_ARM=$CONN_LINE
ram_goal=$(awk -v a="$HOST_BYTES" -v b="$ARM_BYTES" \
  'BEGIN { print (a != "n/a" && b != "n/a" && a < 2048 && b < 2048) ? "PASS" : "MISS" }')

MIN_ELF=$BUILD/arm/tcpip/min_http.elf
MIN_TEXT=$(arm-none-eabi-size "$MIN_ELF" 2>/dev/null | awk 'NR == 2 {print $1}')
# data and bss without the heap's arena (.heap, the linker script's HEAP_SIZE): what the
# program holds of it is counted below, as allocations
MIN_SECTIONS=$(arm-none-eabi-size -A "$MIN_ELF" 2>/dev/null | awk '$1 == ".data" {d = $2} $1 == ".bss" {b = $2} END {print d + 0, b + 0}')
MIN_DATA=$(echo "$MIN_SECTIONS" | awk '{print $1 " data, " $2 " bss (the heap arena apart)"}')
MIN_STATIC=$(echo "$MIN_SECTIONS" | awk '{print $1 + $2}')
MIN_FLAGS=$(cat "${MIN_ELF%.elf}.flags" 2>/dev/null)
[ -n "$MIN_TEXT" ] || { FAILED+=("no $MIN_ELF (make $MIN_ELF)"); MIN_TEXT=n/a; }
text_goal=$(awk -v t="$MIN_TEXT" 'BEGIN { print (t != "n/a" && t <= 38 * 1024) ? "PASS" : "MISS" }')
# Its RAM besides the buffers (issue 24: at most 16 KB): data and bss, the interface's one
# allocation (state, ARP cache, its receive and transmit frames) and one connection's state
IFACE=$(sym_size arm-none-eabi-nm "$BUILD/arm/tcpip/tcpip_conn_size.o" tcpip_size_iface)
MIN_RAM=$(awk -v s="${MIN_STATIC:-x}" -v i="${IFACE:-x}" -v c="$ARM_BYTES" \
  'BEGIN { if (s == "x" || i == "x" || c == "n/a") print "n/a"; else print s + i + c }')
ram16_goal=$(awk -v r="$MIN_RAM" 'BEGIN { print (r != "n/a" && r <= 16 * 1024) ? "PASS" : "MISS" }')

# ---- the downloads
ROOT=$(mktemp -d "$OUT/tcpip-root.XXXXXX")
SIZE=$((MIB << 20))
head -c "$SIZE" /dev/urandom >"$ROOT/big.bin"

# Best of RUNS downloads of URL with curl inside NS: sets MBPS (MB/s, 10^6 bytes) and SECS_BEST
download() {  # label ns url
  local i out code bytes speed secs
  MBPS=n/a SECS_BEST=n/a
  for i in $(seq "$RUNS"); do
    out=$(taskset -c $CLIENT_CPU ip netns exec "$2" curl -sS --max-time 600 -o /dev/null \
      -w '%{http_code} %{size_download} %{speed_download} %{time_total}' "$3" 2>&1)
    read -r code bytes speed secs <<<"$out"
    if [ "$code" != 200 ] || [ "$bytes" != "$SIZE" ]; then
      FAILED+=("$1, run $i: $out"); continue
    fi
    note "$1, run $i: $(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }') MB/s, $secs s"
    if [ "$MBPS" = n/a ] || awk -v a="$secs" -v b="$SECS_BEST" 'BEGIN { exit !(a < b) }'; then
      SECS_BEST=$secs MBPS=$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }')
    fi
  done
}

# A server inside NS on SERVER_CPU, ready once its log shows it serving
start_in_ns() {  # ns log env-assignment... -- program args...
  local ns=$1 log=$2 envs=()
  shift 2
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  taskset -c $SERVER_CPU ip netns exec "$ns" env "${envs[@]}" "$@" >"$log" 2>&1 &
  STARTED_PID=$!; PIDS+=("$STARTED_PID")
  wait_for_port "$STARTED_PID" "$log" 'serving .* on http://0\.0\.0\.0:([0-9]+)' >/dev/null
}
stop_server() {  # pid
  kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null
}

new_ns() {  # name
  ip netns add "$1" && NAMESPACES+=("$1") && ip -n "$1" link set lo up
}

# The kernel's side: a veth pair, the socket build's server in one namespace, curl in the other
veth_setup() {
  new_ns "$NS_SRV" && new_ns "$NS_CLI" &&
    ip link add mkbv0 netns "$NS_SRV" type veth peer name mkbv1 netns "$NS_CLI" &&
    ip -n "$NS_SRV" addr add "$VETH_SRV_IP/24" dev mkbv0 && ip -n "$NS_CLI" addr add "$VETH_CLI_IP/24" dev mkbv1 &&
    ip -n "$NS_SRV" link set mkbv0 up && ip -n "$NS_CLI" link set mkbv1 up
}
# The stack's side: a TAP with the kernel (and curl) at KERNEL_IP
tap_setup() {
  new_ns "$NS_TAP" && ip -n "$NS_TAP" tuntap add dev "$TAP" mode tap &&
    ip -n "$NS_TAP" addr add "$KERNEL_IP/24" dev "$TAP" && ip -n "$NS_TAP" link set "$TAP" up
}

# Loss on both ends of the veth pair: netem where the kernel has it, else nftables. LOSS_BY
# names the mechanism that worked (none: the kernel's lossy time cannot be measured here)
LOSS_BY=none
netem_loss() {  # percent
  ip netns exec "$NS_SRV" tc qdisc replace dev mkbv0 root netem loss "$1%" 2>/dev/null &&
    ip netns exec "$NS_CLI" tc qdisc replace dev mkbv1 root netem loss "$1%" 2>/dev/null
}
nft_loss() {  # percent: each end drops that share of what arrives (in 1/10000ths)
  local ns dev per10k
  per10k=$(awk -v p="$1" 'BEGIN { printf "%d", p * 100 + 0.5 }')
  for ns in "$NS_SRV:mkbv0" "$NS_CLI:mkbv1"; do
    dev=${ns#*:}
    printf 'table netdev mkb_loss {\n  chain ingress { type filter hook ingress device %s priority 0; numgen random mod 10000 < %d drop; }\n}\n' \
      "$dev" "$per10k" | ip netns exec "${ns%%:*}" nft -f - 2>/dev/null || return 1
  done
}
frame_sized() {  # segments per packet on the veth pair: 1 for the lossy run, 65535 as made
  ip -n "$NS_SRV" link set dev mkbv0 gso_max_segs "$1" && ip -n "$NS_CLI" link set dev mkbv1 gso_max_segs "$1"
}
loss_on() {  # percent -> LOSS_BY
  frame_sized 1 || return 1
  if netem_loss "$1"; then LOSS_BY=netem; return 0; fi
  if command -v nft >/dev/null && nft_loss "$1"; then LOSS_BY=nftables; return 0; fi
  LOSS_BY=none; loss_off; return 1
}
loss_off() {
  ip netns exec "$NS_SRV" tc qdisc del dev mkbv0 root 2>/dev/null
  ip netns exec "$NS_CLI" tc qdisc del dev mkbv1 root 2>/dev/null
  ip netns exec "$NS_SRV" nft delete table netdev mkb_loss 2>/dev/null
  ip netns exec "$NS_CLI" nft delete table netdev mkb_loss 2>/dev/null
  frame_sized 65535
}

STACK_MBPS=n/a KERNEL_MBPS=n/a LOSSY_MBPS=n/a KLOSSY_MBPS=n/a
STACK_S=n/a KERNEL_S=n/a LOSSY_S=n/a KLOSSY_S=n/a
STACK_SRV=${BENCH_TCPIP_SERVER:-$BUILD/tap/examples/http-server} SOCK_SRV=$BUILD/examples/http-server
if [ "$(id -u)" != 0 ]; then
  FAILED+=("the downloads need root (network namespaces and a TAP)")
elif [ ! -x "$STACK_SRV" ] || [ ! -x "$SOCK_SRV" ]; then
  FAILED+=("build first: make $STACK_SRV $SOCK_SRV")
elif ! veth_setup || ! tap_setup; then
  FAILED+=("cannot create the namespaces, the veth pair or the TAP")
else
  # The kernel's, over the veth pair
  if start_in_ns "$NS_SRV" "$OUT/tcpip-sock-server.log" -- "$SOCK_SRV" -d "$ROOT" -l http://0.0.0.0:8080; then
    SOCK_PID=$STARTED_PID
    download "sockets over veth" "$NS_CLI" "http://$VETH_SRV_IP:8080/big.bin"; KERNEL_MBPS=$MBPS KERNEL_S=$SECS_BEST
    if loss_on 1; then
      download "sockets over veth, 1% of frames lost each way ($LOSS_BY)" "$NS_CLI" "http://$VETH_SRV_IP:8080/big.bin"
      KLOSSY_MBPS=$MBPS KLOSSY_S=$SECS_BEST
      loss_off
    else
      note "neither netem nor nftables can drop frames here: the kernel's lossy time is not measured"
    fi
    stop_server "$SOCK_PID"
  else
    FAILED+=("the sockets http-server did not start, see $OUT/tcpip-sock-server.log")
  fi
  # The stack's, over the TAP: lossless, then with the driver's 1% test loss
  for loss in 0 1; do
    log=$OUT/tcpip-stack-server-loss$loss.log
    if start_in_ns "$NS_TAP" "$log" MEERKAT_TAP="$TAP" MEERKAT_IP="$STACK_IP/24" MEERKAT_TAP_LOSS="$loss" -- \
      "$STACK_SRV" -d "$ROOT" -l http://0.0.0.0:8080; then
      pid=$STARTED_PID
      if [ "$loss" = 0 ]; then
        download "stack over TAP" "$NS_TAP" "http://$STACK_IP:8080/big.bin"; STACK_MBPS=$MBPS STACK_S=$SECS_BEST
      else
        download "stack over TAP, 1% test loss each way" "$NS_TAP" "http://$STACK_IP:8080/big.bin"
        LOSSY_MBPS=$MBPS LOSSY_S=$SECS_BEST
      fi
      kill -0 "$pid" 2>/dev/null || FAILED+=("the stack's http-server died, see $log")
      stop_server "$pid"
    else
      FAILED+=("the stack's http-server did not start, see $log")
    fi
  done
fi

ratio() {  # a b -> a / b to two places, or n/a
  awk -v a="$1" -v b="$2" 'BEGIN { if (a != "n/a" && b != "n/a" && b > 0) printf "%.2f", a / b; else print "n/a" }'
}
ratio=$(ratio "$STACK_MBPS" "$KERNEL_MBPS")
ratio_goal=$(awk -v r="$ratio" 'BEGIN { print (r != "n/a" && r >= 0.5) ? "PASS" : "MISS" }')
if [ "$KLOSSY_S" != n/a ]; then LOSS_REF_S=$KLOSSY_S LOSS_REF="the kernel's with 1% of frames lost each way ($LOSS_BY)"
else LOSS_REF_S=$KERNEL_S LOSS_REF="the kernel's LOSSLESS time (neither netem nor nftables here: the kernel's side cannot lose frames)"; fi
loss_x=$(ratio "$LOSSY_S" "$LOSS_REF_S")
self_x=$(ratio "$LOSSY_S" "$STACK_S")
loss_goal=$(awk -v r="$loss_x" 'BEGIN { print (r != "n/a" && r <= 2.0) ? "PASS" : "MISS" }')

echo "built-in TCP/IP stack: $MIB MiB downloads with curl (best of $RUNS), servers on CPU $SERVER_CPU, curl on CPU $CLIENT_CPU;" \
  "load average $LOAD_AT_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; the kernel's loss: $LOSS_BY"
fmt='  %-44s %9s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" download "MB/s" seconds
# shellcheck disable=SC2059
{
  printf "$fmt" "stack (tap build) over a TAP" "$STACK_MBPS" "$STACK_S"
  printf "$fmt" "sockets build over a veth pair" "$KERNEL_MBPS" "$KERNEL_S"
  printf "$fmt" "stack over a TAP, 1% test loss each way" "$LOSSY_MBPS" "$LOSSY_S"
  [ "$LOSS_BY" != none ] && printf "$fmt" "sockets over veth, 1% of frames lost each way" "$KLOSSY_MBPS" "$KLOSSY_S"
}
echo "  goal: stack / sockets >= 0.5: $ratio_goal (${ratio}x)"
echo "  goal: with 1% loss within 2x of the kernel's time: $loss_goal (${loss_x}x $LOSS_REF)"
echo "  1% loss costs the stack ${self_x}x its own lossless time"
echo "RAM per TCP connection beyond its buffers (MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX and the recv/send iobufs not counted; two allocations, plus the allocator's headers):"
echo "$RAM_HOST"
echo "$RAM_ARM"
echo "  goal: < 2048 bytes: $ram_goal"
echo "smallest HTTP program on the stack for Cortex-M3 at -Os (mg_http_listen + mg_http_reply, LAN9118, bare-metal port, newlib-nano, --gc-sections):"
echo "  options: ${MIN_FLAGS:-n/a}"
echo "  $MIN_ELF: text $MIN_TEXT bytes${MIN_DATA:+, $MIN_DATA}"
echo "  goal: text <= 38 KB (38912 bytes): $text_goal"
echo "  RAM besides buffers: $MIN_RAM bytes = data+bss ${MIN_STATIC:-n/a} + the interface's allocation ${IFACE:-n/a}" \
  "(frames in and out included) + one TCP connection's state $ARM_BYTES; the stack the program runs on not counted"
echo "  buffers: MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX (16384) per TCP connection, and its recv/send iobufs (MG_IO_SIZE blocks)"
echo "  goal: RAM <= 16 KB plus buffers: $ram16_goal"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
[ "${#FAILED[@]}" -eq 0 ]
