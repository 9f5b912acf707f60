#!/usr/bin/env bash
# TLS benchmark (part of `make bench`, also runs alone): ours beside nginx with the same
# ECDSA P-256 certificate and key (build/certs/server.pem), servers on CPU 0, clients on CPU 1:
#   - full handshakes per second, TLS 1.3 and 1.2, x25519: examples/hello (and the firmware,
#     with GET /api/auth, for TLS 1.3 full and resumed), with
#     tls_handshakes (OpenSSL, test/bench/tls_handshakes.c): CONNS in parallel, each a new
#     connection, a handshake, GET /hello and its reply, close_notify
#   - resumed handshakes per second, the same with the newest session ticket offered
#   - requests per second over kept-alive TLS connections for a 1 KiB file: wrk against
#     examples/http-server's HTTPS listener
#   - bytes per idle TLS connection (one request each), on fresh processes (idle-conns.mjs)
# Server CPU per handshake or request is printed beside the rates: steadier when others
# load the machine. Env: BUILD (build), BENCH_TLS_SECONDS (5) per run, BENCH_TLS_CONNS (16)
# parallel handshakes, BENCH_IDLE_CONNS (1000). Exit status 1 only if something failed to run.
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_TLS_SECONDS:-5}
HS_CONNS=${BENCH_TLS_CONNS:-16}
IDLE_N=${BENCH_IDLE_CONNS:-1000}
NGINX=${NGINX:-/usr/sbin/nginx}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
CERTS=$(cd "$BUILD/certs" 2>/dev/null && pwd)
SERVER_CPU=0 CLIENT_CPU=1
PIDS=() FAILED=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  [ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "tls-bench: $*" >&2; exit 1; }
note() { echo "tls-bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
for ex in examples/hello examples/http-server firmware/firmware bench/tls_handshakes; do
  [ -x "$BUILD/$ex" ] || die "build first (make all $BUILD/bench/tls_handshakes)"
done
[ -f "$CERTS/server.pem" ] || die "no $BUILD/certs/server.pem (make certs)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

ROOT=$(mktemp -d "$OUT/tls-root.XXXXXX")
head -c 1024 /dev/urandom >"$ROOT/file.bin"
CERT=$CERTS/server.pem KEY=$CERTS/server.key

start_ours examples/hello "$OUT/tls-hello.log" 'listening on https://127\.0\.0\.1:([0-9]+)' \
  http://127.0.0.1:0 https://127.0.0.1:0 "$CERT" "$KEY"
HELLO_PID=$STARTED_PID HELLO_PORT=$STARTED_PORT
start_ours examples/http-server "$OUT/tls-http-server.log" 'on https://127\.0\.0\.1:([0-9]+)' \
  -d "$ROOT" -l https://127.0.0.1:0 -c "$CERT" -k "$KEY"
HS_PID=$STARTED_PID HS_PORT=$STARTED_PORT
start_ours firmware/firmware "$OUT/tls-firmware.log" 'listening on https://127\.0\.0\.1:([0-9]+)' \
  -l https://127.0.0.1:0 -c "$CERT" -k "$KEY" -d "$ROOT/data"
FW_PID=$STARTED_PID FW_PORT=$STARTED_PORT

# nginx with OpenSSL: tickets only (no session cache), as ours resume; x25519 first
NGX=$OUT/nginx-tls
mkdir -p "$NGX/tmp"
NGX_HTTP_EXTRA="  ssl_certificate $CERT;
  ssl_certificate_key $KEY;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ecdh_curve X25519:prime256v1:secp384r1;
  ssl_session_tickets on;
  ssl_session_cache off;"
NGX_LISTEN_OPTS=ssl
start_nginx https

for port in "$HELLO_PORT" "$NGX_PORT"; do
  [ "$(curl -s --cacert "$CERTS/ca.pem" "https://localhost:$port/hello")" = "Hello, world!" ] ||
    die "https://localhost:$port/hello does not answer Hello, world!"
done
for port in "$HS_PORT" "$NGX_PORT"; do
  curl -s --cacert "$CERTS/ca.pem" "https://localhost:$port/file.bin" | cmp -s - "$ROOT/file.bin" ||
    die "https://localhost:$port/file.bin does not serve the 1 KiB file"
done

# ---- bytes per idle TLS connection first, on fresh processes
idle_tls() {  # label pid port -> IDLE_BYTES
  local out
  IDLE_BYTES=n/a
  if out=$(taskset -c $CLIENT_CPU node "$HERE/idle-conns.mjs" "$2" "$3" /file.bin "$IDLE_N" tls 2>&1); then
    note "idle TLS, $1: $out"
    IDLE_BYTES=$(sed -nE 's/.*bytes_per_conn=(-?[0-9]+).*/\1/p' <<<"$out")
  fi
  if [ -z "$IDLE_BYTES" ] || [ "$IDLE_BYTES" = n/a ]; then IDLE_BYTES=n/a; FAILED+=("idle TLS connections to $1: $out"); fi
}
idle_tls http-server "$HS_PID" "$HS_PORT"; IDLE_OURS=$IDLE_BYTES
idle_tls "nginx worker" "$NGX_WORKER" "$NGX_PORT"; IDLE_NGX=$IDLE_BYTES

# ---- handshakes: sets RATE, US (server CPU per handshake), RESUMED, WHAT (version, cipher)
run_handshakes() {  # tag pid port tls_handshakes-option...
  local tag=$1 pid=$2 port=$3 out t0 t1 n
  shift 3
  note "tls_handshakes $* -c $HS_CONNS -s $SECS ($tag)"
  RATE=0 US='?' RESUMED='?' WHAT='?'
  t0=$(cpu_ticks "$pid")
  if ! out=$(taskset -c $CLIENT_CPU "$BUILD/bench/tls_handshakes" -p /hello "$@" -c "$HS_CONNS" -s "$SECS" \
    127.0.0.1 "$port" 2>&1); then
    FAILED+=("tls_handshakes $tag: $out"); return
  fi
  t1=$(cpu_ticks "$pid")
  echo "$tag: $out" >>"$OUT/tls-handshakes.txt"
  RATE=$(sed -nE 's/.* per_s=([0-9]+).*/\1/p' <<<"$out")
  n=$(sed -nE 's/^handshakes=([0-9]+).*/\1/p' <<<"$out")
  RESUMED=$(sed -nE 's/.* resumed=([0-9]+).*/\1/p' <<<"$out")
  WHAT=$(sed -nE 's/.* version=([^ ]+) cipher=([^ ]+).*/\1 \2/p' <<<"$out")
  US=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$TICKS_PER_S" \
    'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else print "?" }')
}

ROWS=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
goal() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b && b > 0) ? "PASS" : "MISS" }'; }  # ours ref
handshake_pair() {  # label goal_kind (ssl_server2|nginx|-) tls_handshakes-option...
  local label=$1 kind=$2 ours ours_us ours_res ours_what ngx ngx_us ngx_res g=''
  shift 2
  run_handshakes "ours $label" "$HELLO_PID" "$HELLO_PORT" "$@"
  ours=$RATE ours_us=$US ours_res=$RESUMED ours_what=$WHAT
  run_handshakes "nginx $label" "$NGX_WORKER" "$NGX_PORT" "$@"
  ngx=$RATE ngx_us=$US ngx_res=$RESUMED
  [ "$kind" = ssl_server2 ] && g="$(goal "$ours" 323) (>= 323/s, mbedTLS ssl_server2)"
  [ "$kind" = nginx ] && g="$(goal "$ours" "$ngx") (>= nginx)"
  ROWS+=("$label|$ours|$ngx|$(ratio "$ours" "$ngx")x|$ours_us|$ngx_us|$ours_res/$ngx_res|$ours_what|$g")
  NGX_RATE=$ngx NGX_US=$ngx_us NGX_RES=$ngx_res
}
firmware_row() {  # label goal_kind tls_handshakes-option... (after the handshake_pair of that kind)
  local label=$1 kind=$2 g=''
  shift 2
  run_handshakes "firmware $label" "$FW_PID" "$FW_PORT" -p /api/auth "$@"
  [ "$kind" = ssl_server2 ] && g="$(goal "$RATE" 323) (>= 323/s, mbedTLS ssl_server2)"
  [ "$kind" = nginx ] && g="$(goal "$RATE" "$NGX_RATE") (>= nginx)"
  ROWS+=("firmware ${label#full }|$RATE|$NGX_RATE|$(ratio "$RATE" "$NGX_RATE")x|$US|$NGX_US|$RESUMED/$NGX_RES|$WHAT|$g")
}
rm -f "$OUT/tls-handshakes.txt"
handshake_pair "full TLS 1.3" ssl_server2 -v 1.3
firmware_row "full TLS 1.3" ssl_server2 -v 1.3
handshake_pair "full TLS 1.2" - -v 1.2
handshake_pair "resumed TLS 1.3" nginx -v 1.3 -r
firmware_row "resumed TLS 1.3" nginx -v 1.3 -r
handshake_pair "resumed TLS 1.2" nginx -v 1.2 -r

# ---- kept-alive requests for the 1 KiB file
warm_up "https://127.0.0.1:$HS_PORT/file.bin"; warm_up "https://127.0.0.1:$NGX_PORT/file.bin"
run_wrk tls-ours-file-c50 "https://127.0.0.1:$HS_PORT/file.bin" 50 "$HS_PID"
o_rps=$RPS o_p99=$P99 o_us=$US_PER_REQ
[ -n "$ERRS" ] && FAILED+=("wrk ours over TLS c50: $ERRS")
run_wrk tls-nginx-file-c50 "https://127.0.0.1:$NGX_PORT/file.bin" 50 "$NGX_WORKER"
[ -n "$ERRS" ] && FAILED+=("wrk nginx over TLS c50: $ERRS")
KA_ROW="file 1 KiB c50|$o_rps|$RPS|$(ratio "$o_rps" "$RPS")x|$o_p99|$P99|$o_us|$US_PER_REQ|$(goal "$o_rps" "$RPS") (>= nginx)"
for pid in "$HELLO_PID" "$HS_PID" "$FW_PID" "$NGX_PID"; do
  kill -0 "$pid" 2>/dev/null || FAILED+=("server pid $pid died during the TLS benchmark")
done

idle_goal=$(awk -v b="$IDLE_OURS" 'BEGIN { print (b != "n/a" && b <= 24576) ? "PASS" : "MISS" }')
echo "TLS, ECDSA P-256 certificate, x25519; servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; load average $LOAD_AT_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') with $(openssl version | cut -d' ' -f1-2), 1 worker, tickets only; client: OpenSSL, $HS_CONNS handshakes in parallel for ${SECS}s, each with GET /hello"
fmt='  %-16s %9s %9s %6s %9s %9s %13s  %-36s %s\n'
# shellcheck disable=SC2059
printf "$fmt" handshakes "ours /s" "nginx /s" ratio "ours us" "nginx us" "resumed o/n" "ours: version cipher" goal
for row in "${ROWS[@]}"; do
  IFS='|' read -r l o n r ou nu res w g <<<"$row"
  # shellcheck disable=SC2059
  printf "$fmt" "$l" "$o" "$n" "$r" "$ou" "$nu" "$res" "$w" "$g"
done
fmt='  %-16s %9s %9s %6s %9s %9s %9s %9s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" "kept-alive" "ours rq/s" "ngx rq/s" ratio "ours p99" "ngx p99" "ours us" "ngx us" goal
IFS='|' read -r l o n r op np ou nu g <<<"$KA_ROW"
# shellcheck disable=SC2059
printf "$fmt" "$l" "$o" "$n" "$r" "$op" "$np" "$ou" "$nu" "$g"
echo "  (us: server CPU time per handshake or request; p99 in ms; resumed: handshakes that resumed, ours/nginx)"
echo "  bytes per idle TLS connection ($IDLE_N, one request each): ours $IDLE_OURS, nginx worker $IDLE_NGX  $idle_goal (<= 24 KiB)"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
[ "${#FAILED[@]}" -eq 0 ]
