#!/usr/bin/env bash
# Runs every test suite of `make test` and ends with one line summing them all:
#   N passed, N failed[, N skipped (reasons)]
# Suites: unit tests (plain, ASan+UBSan and clang), out-of-memory runs, the HTTP,
# WebSocket, TLS connection and mg_wakeup tests on the mock backend, the built-in TCP/IP
# stack's tests on its mock Ethernet driver and against the kernel over a TAP, UDP and mg_wakeup with
# 512-byte buffers, integration tests against the examples and
# the firmware (plain, ASan+UBSan, poll() and chaos-filter builds), the HTTP and WebSocket
# suites again over HTTPS/WSS (plain and chaos-filter builds), the dashboard in
# Chromium (plain and ASan+UBSan firmware), the amalgamated distribution (dist/meerkat.c,
# meerkat.h, mongoose.h) built with gcc and clang, and the fuzz harnesses replaying
# their seed corpora.
set -u
BUILD=${BUILD:-build}
export CERTS=${CERTS:-$BUILD/certs}  # tools/make-certs.sh: the TLS tests' certificates
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
passed=0 failed=0 skipped=0
skip_reasons=()
failures=()

add() { passed=$((passed + $1)); failed=$((failed + $2)); [ "$2" -gt 0 ] && failures+=("$3"); return 0; }
skip() { skipped=$((skipped + $1)); skip_reasons+=("$2"); }
sanitizer_reports() { grep -cE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$1"; }

# Criterion binaries: count from the Synthesis line; a crash or a sanitizer report fails the suite
run_criterion() {  # flavour binary...
  local flavour=$1; shift
  for bin in "$@"; do
    local name log
    name=$(basename "$bin"); log="$LOGS/$flavour-$name.log"
    "$bin" -j2 >"$log" 2>&1
    local rc=$? line
    line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
    echo "$flavour $name: ${line#*Synthesis: }"
    local t p f c
    t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line"); p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
    f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line"); c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
    if [ -z "$line" ]; then add 0 1 "$flavour $name: no Synthesis line (exit $rc), see $log"; continue; fi
    add "${p:-0}" "$(( ${f:-0} ))" "$flavour $name: failing tests, see $log"
    local reports; reports=$(sanitizer_reports "$log")
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then add 0 1 "$flavour $name: exit $rc, see $log"; fi
    if [ "$reports" -gt 0 ]; then add 0 1 "$flavour $name: $reports sanitizer report(s), see $log"; fi
    : "$t" "$c"
  done
}

# node --test with the TAP reporter: count from "# pass N" / "# fail N"
run_node() {  # label log files...
  local label=$1 log=$2; shift 2
  node --test --test-reporter=tap "$@" >"$log" 2>&1
  local rc=$? p f s
  p=$(grep -E '^# pass [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
  s=$(grep -E '^# skipped [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
  echo "$label: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
  grep -E '^not ok|^# Subtest' "$log" | grep -B1 '^not ok' | head -n 20
  if [ -z "$p" ]; then add 0 1 "$label: no TAP summary (exit $rc), see $log"; return; fi
  add "$p" "$f" "$label: see $log"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then add 0 1 "$label: exit $rc, see $log"; fi
  [ "${s:-0}" -gt 0 ] && skip "$s" "$label: $(grep -E '# SKIP' "$log" | sed 's/.*# SKIP *//' | sort -u | tr '\n' ';')"
}

echo "== unit tests"
run_criterion unit "$BUILD"/test/unit/test_*
echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_criterion asan "$BUILD"/asan/test/unit/test_*

echo "== unit tests built with clang"
run_criterion clang "$BUILD"/clang/test/unit/test_*

echo "== Mongoose compatibility, built against dist/mongoose.h"
run_criterion compat "$BUILD"/compat/test_*

echo "== event loop and HTTP connection tests on the poll() backend"
run_criterion poll "$BUILD"/poll/test/unit/test_net "$BUILD"/poll/test/unit/test_http_conn "$BUILD"/poll/test/unit/test_event

echo "== HTTP, WebSocket, TLS, MQTT and mg_wakeup tests on the mock backend (fake clock, no sockets)"
run_criterion mock "$BUILD"/mock/test/unit/test_http_conn "$BUILD"/mock/test/unit/test_timer "$BUILD"/mock/test/unit/test_ws \
  "$BUILD"/mock/test/unit/test_wakeup "$BUILD"/mock/test/unit/test_tls "$BUILD"/mock/test/unit/test_mqtt

echo "== the built-in TCP/IP stack on the mock Ethernet driver (fake clock): plain, ASan+UBSan, clang"
run_criterion tcpip "$BUILD"/tcpip/test/unit/test_tcpip_* "$BUILD"/tcpip/test/unit/test_tcp
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_criterion tcpip-asan "$BUILD"/tcpip/asan/test/unit/test_tcpip_* "$BUILD"/tcpip/asan/test/unit/test_tcp
run_criterion tcpip-clang "$BUILD"/tcpip/clang/test/unit/test_tcpip_* "$BUILD"/tcpip/clang/test/unit/test_tcp

echo "== UDP and mg_wakeup with MG_IO_SIZE=512: datagrams larger than the buffers arrive whole"
run_criterion io512 "$BUILD"/io512/test/unit/test_net "$BUILD"/io512/test/unit/test_wakeup

# An out-of-memory runner (test/alloc): its summary line "NAME: N of N ... 0 failures"
# counts as one pass when it exits 0 with no sanitizer report
run_alloc() {  # name program [flavour, default alloc]
  local log="$LOGS/$1.log" rc line
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$BUILD/${3:-alloc}/test/alloc/$2" >"$log" 2>&1
  rc=$?
  line=$(grep -a "^$1: [0-9]* of" "$log" | tail -n 1)
  echo "${line:-$1: no summary line (exit $rc), see $log}"
  if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ "$(sanitizer_reports "$log")" -eq 0 ]; then
    add 1 0 ""
  else
    grep -a "^$1: N=" "$log" | head -n 10
    add 0 1 "$1: exit $rc, see $log"
  fi
}
echo "== out of memory: every allocation of an HTTP script fails once (ASan+UBSan)"
run_alloc alloc-faults alloc_faults
echo "== out of memory: every allocation of a WebSocket and field-set script fails once (ASan+UBSan)"
run_alloc alloc-faults-ws alloc_faults_ws
echo "== out of memory: every allocation site of an HTTPS server and client in one process fails once, mbedTLS's too"
run_alloc alloc-faults-tls alloc_faults_tls
echo "== out of memory: every allocation of an OTA upload (HTTP, updater, signature check) fails once; no slot pending without its 200"
run_alloc alloc-faults-ota alloc_faults_ota
echo "== out of memory: every allocation of a TCP exchange on the built-in stack (server and client, mock driver) fails once"
run_alloc alloc-faults-tcpip alloc_faults_tcpip tcpip/asan

# Every flavour runs these; the TAP and board files run once, below (the tap build's
# binaries, the board images in QEMU: no flavour of their own)
ONCE=(test/integration/tcpip.test.mjs test/integration/board-tap.test.mjs test/integration/board-tls.test.mjs)
INTEGRATION=()
for f in test/integration/*.test.mjs; do [[ " ${ONCE[*]} " == *" $f "* ]] || INTEGRATION+=("$f"); done
echo "== integration tests"
BIN=$BUILD/examples run_node integration "$LOGS/integration.log" "${INTEGRATION[@]}"
echo "== integration tests against the ASan+UBSan build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SANITIZED=1 \
  PACKER=$BUILD/asan/packer/packer BIN=$BUILD/asan/examples run_node integration-asan "$LOGS/integration-asan.log" "${INTEGRATION[@]}"

echo "== integration tests against the poll() backend build"
BIN=$BUILD/poll/examples run_node integration-poll "$LOGS/integration-poll.log" "${INTEGRATION[@]}"

echo "== the built-in TCP/IP stack over a TAP in a network namespace: firmware-tap, http-server and http-client on it, the board in QEMU"
TCPIP_BUILD=$BUILD run_node integration-tcpip "$LOGS/integration-tcpip.log" "${ONCE[@]}"

echo "== integration tests through the chaos filter (every read and write split and delayed, beneath TLS too)"
BIN=$BUILD/chaos/examples run_node integration-chaos "$LOGS/integration-chaos.log" \
  test/integration/http-server.test.mjs test/integration/examples.test.mjs test/integration/firmware.test.mjs \
  test/integration/websocket.test.mjs test/integration/dash.test.mjs test/integration/auth.test.mjs \
  test/integration/tls.test.mjs test/integration/firmware-tls.test.mjs

# MG_TEST_TLS=1: the servers listen on https:// with the development certificate, and
# curl, node and ws trust $CERTS/ca.pem (test/integration/lib.mjs)
TLS_SUITES=(test/integration/http-server.test.mjs test/integration/websocket.test.mjs)
echo "== HTTP and WebSocket integration tests over HTTPS and WSS"
MG_TEST_TLS=1 BIN=$BUILD/examples run_node integration-tls "$LOGS/integration-tls.log" "${TLS_SUITES[@]}"
echo "== the same over TLS through the chaos filter (every read and write beneath TLS cut short)"
MG_TEST_TLS=1 BIN=$BUILD/chaos/examples run_node integration-tls-chaos "$LOGS/integration-tls-chaos.log" "${TLS_SUITES[@]}"

echo "== dashboard in Chromium against the firmware"
FIRMWARE=$BUILD/firmware/firmware run_node e2e "$LOGS/e2e.log" test/e2e/*.test.mjs
echo "== dashboard in Chromium against the ASan+UBSan firmware"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SANITIZED=1 \
  FIRMWARE=$BUILD/asan/firmware/firmware run_node e2e-asan "$LOGS/e2e-asan.log" test/e2e/*.test.mjs

echo "== the amalgamated distribution (dist/meerkat.c, meerkat.h, mongoose.h)"
for cc in gcc clang; do
  for ex in examples/*/; do
    [ -d "$ex/web" ] && continue  # A dashboard device: it links the firmware's files too
    name=$(basename "$ex") dir=$BUILD/dist-check/$cc/$name
    mkdir -p "$dir" && cp dist/meerkat.c dist/meerkat.h dist/mongoose.h "$ex/main.c" "$dir/"
    if (cd "$dir" && $cc -std=c99 -Wall -Wextra -Werror -O1 -o app main.c meerkat.c) >"$LOGS/dist-$cc-$name.log" 2>&1; then
      add 1 0 ""
    else
      add 0 1 "dist: $name with $cc, see $LOGS/dist-$cc-$name.log"
    fi
  done
done
echo "dist: examples built from dist/meerkat.c + meerkat.h with gcc and clang"

echo "== Cortex-M3: the bare-metal program (mock backend, packed fs, HTTP; HTTPS in arm/tls) in QEMU mps2-an385"
for flavour in arm arm/tls; do
  log="$LOGS/${flavour//\//-}-qemu.log" elf="$BUILD/$flavour/selftest.elf"
  if [ ! -f "$elf" ]; then
    add 0 1 "$flavour: no $elf"
  elif ! command -v qemu-system-arm >/dev/null; then
    add 0 1 "$flavour: qemu-system-arm is not installed (.ci/run installs it)"
  else
    timeout 30 qemu-system-arm -M mps2-an385 -nographic -semihosting -nic none -kernel "$elf" >"$log" 2>&1 </dev/null
    rc=$?
    line=$(grep -a 'GET /index.html:' "$log" | tail -n 1)
    echo "$flavour: ${line#*main: } (exit $rc)"
    if [ "$rc" -eq 0 ] && grep -q 'status 200' <<<"$line"; then add 1 0 ""; else add 0 1 "$flavour: QEMU run, see $log"; fi
  fi
done

echo "== fuzz harnesses replaying their seed corpora"
if out=$(test/fuzz/run.sh "$BUILD/fuzz" 0 regress 2>&1); then
  echo "$out" | tail -n 1
  n=$(echo "$out" | sed -n 's/^fuzz: \([0-9]*\) passed.*/\1/p'); add "${n:-0}" 0 ""
else
  echo "$out"
  n=$(echo "$out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p'); add 0 "${n:-1}" "fuzz regression"
fi

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
for r in "${skip_reasons[@]}"; do echo "SKIPPED: $r"; done
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
