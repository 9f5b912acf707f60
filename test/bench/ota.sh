#!/usr/bin/env bash
# OTA upload benchmark (part of `make bench`, also runs alone): a 32 MiB signed image (the
# firmware padded with zeros, version 9.0.0: $BUILD/bench/ota-32m.img, a Makefile rule) is
# POSTed with curl to the firmware's /api/ota over loopback, hashed, written to slot 1, synced
# and its signature checked (the time until the 200), beside the same file PUT with curl to
# nginx (DAV: the body goes to client_body_temp, then becomes the file). Servers on CPU 0,
# curl on CPU 1, turn about, each upload after a `sync` so no earlier one's writeback runs
# beside it; every firmware upload on a fresh process and data directory, after its login.
# The goal compares the best of REPS uploads each (the run least disturbed by others on a
# shared machine); medians and the servers' CPU time are printed beside. Memory, from start
# and login to the answer (ota-upload.mjs samples /proc every 2 ms while curl runs: after
# answering, the firmware execs into the new image, which resets VmHWM): the growth of VmHWM,
# which on the host also counts the program's code mapped in for the first time (on a device:
# flash), and of anonymous memory (heap, stack, data: the RAM an upload takes), the goal's.
# Env: BUILD (build), BENCH_OTA_REPS (5), BENCH_OTA_IMG (the image). Exit status 1 only if
# something failed to run.
set -u
BUILD=${BUILD:-build}
REPS=${BENCH_OTA_REPS:-5}
NGINX=${NGINX:-/usr/sbin/nginx}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$BUILD/bench" && cd "$BUILD/bench" && pwd)
IMG=${BENCH_OTA_IMG:-$OUT/ota-32m.img}
SERVER_CPU=0 CLIENT_CPU=1
MEM_GOAL_KB=64
PIDS=() FAILED=()
cleanup() {
  stop_pids
  [ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "ota-bench: $*" >&2; exit 1; }
note() { echo "ota-bench: $*" >&2; }
# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"
for tool in taskset node curl "$NGINX"; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$BUILD/firmware/firmware" ] || die "build first (make)"
[ -f "$IMG" ] || die "no image $IMG (make $BUILD/bench/ota-32m.img)"
IMG_BYTES=$(stat -L -c %s "$IMG")
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

ROOT=$(mktemp -d "$OUT/ota-root.XXXXXX")  # nginx's files and the firmware's data, one file system
mkdir -p "$ROOT/upload"
NGX=$OUT/nginx-ota
mkdir -p "$NGX/tmp"
NGX_SERVER_EXTRA="    location /upload/ { root $ROOT; dav_methods PUT; client_max_body_size 0; }"
start_nginx http

SAMPLER=(taskset -c "$CLIENT_CPU" node "$HERE/ota-upload.mjs")
# -T streams the file; no Expect: 100-continue (a round trip before the body) for either
CURL_OPTS=(-s -S -o "$ROOT/reply" -w '%{http_code} %{time_total}' -H 'Expect:' -T "$IMG")

# One upload and what it cost the server: sets SECS, CPU_MS and the growth of VmHWM and of
# anonymous memory (HWM_KB, ANON_KB), or says why not and returns 1
measure() {  # label pid log curl-arg...
  local label=$1 out code
  shift
  if ! out=$("${SAMPLER[@]}" "$@" 2>&1); then
    FAILED+=("$label: $out"); return 1
  fi
  note "$label: $out"
  code=$(field code "$out")
  if [ "${code:0:1}" != 2 ]; then
    FAILED+=("$label: HTTP $code: $(head -c 300 "$ROOT/reply")"); return 1
  fi
  SECS=$(field secs "$out") CPU_MS=$(field cpu_ms "$out")
  HWM_KB=$(($(field hwm_peak_kb "$out") - $(field hwm_before_kb "$out")))
  ANON_KB=$(($(field anon_peak_kb "$out") - $(field anon_before_kb "$out")))
}
field() { sed -nE "s/^(.* )?$1=([0-9.]+).*/\2/p" <<<"$2"; }  # name line

# The firmware on a fresh data directory: start, log in (the first user), upload, stop
FW_SECS=() FW_CPU=() FW_HWM=() FW_ANON=()
upload_firmware() {  # rep
  local log=$OUT/ota-firmware.log data=$ROOT/data cookie
  rm -rf "$data"
  : >"$log"  # Truncated here, not in the background child: no stale port read
  start_ours firmware/firmware "$log" 'listening on http://127\.0\.0\.1:([0-9]+)' -l http://127.0.0.1:0 -d "$data"
  cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data '{"password":"ota-bench-password"}' \
    "http://127.0.0.1:$STARTED_PORT/api/auth/setup" | sed -nE 's/^set-cookie: ([^;]*).*/\1/ip')
  if [ -z "$cookie" ]; then
    FAILED+=("firmware upload $1: no session from POST /api/auth/setup, see $log")
  else
    sync
    if measure "firmware upload $1" "$STARTED_PID" "$log" "${CURL_OPTS[@]}" -X POST \
      -H 'Content-Type: application/octet-stream' -H 'X-Requested-With: meerkat' -H "Cookie: $cookie" \
      "http://127.0.0.1:$STARTED_PORT/api/ota"; then
      grep -q '"ok":true' "$ROOT/reply" || FAILED+=("firmware upload $1: $(head -c 300 "$ROOT/reply")")
      FW_SECS+=("$SECS") FW_CPU+=("$CPU_MS") FW_HWM+=("$HWM_KB") FW_ANON+=("$ANON_KB")
    fi
  fi
  kill -KILL "$STARTED_PID" 2>/dev/null  # It is checking and unpacking the new image to exec it
  wait "$STARTED_PID" 2>/dev/null
  forget_pid "$STARTED_PID"
}

forget_pid() {  # pid: stopped and waited for, so cleanup must not signal the number again
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

NGX_SECS=() NGX_CPU=() NGX_HWM=() NGX_ANON=()
upload_nginx() {  # rep
  rm -f "$ROOT/upload/ota.img"
  sync
  if measure "nginx upload $1" "$NGX_WORKER" - "${CURL_OPTS[@]}" "http://127.0.0.1:$NGX_PORT/upload/ota.img"; then
    cmp -s "$IMG" "$ROOT/upload/ota.img" || FAILED+=("nginx upload $1: the file it wrote is not the image")
    NGX_SECS+=("$SECS") NGX_CPU+=("$CPU_MS") NGX_HWM+=("$HWM_KB") NGX_ANON+=("$ANON_KB")
  fi
}

for rep in $(seq "$REPS"); do
  upload_firmware "$rep"
  upload_nginx "$rep"
done
kill -0 "$NGX_PID" 2>/dev/null || FAILED+=("nginx died during the OTA benchmark")

# Of a list of numbers: the least, the median or the largest
pick() {  # min|median|max number...
  local how=$1
  shift
  [ $# -gt 0 ] || { echo n/a; return; }
  printf '%s\n' "$@" | sort -g | awk -v how="$how" '{ v[NR] = $1 }
    END { print how == "min" ? v[1] : how == "max" ? v[NR] : (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
mbps() { awk -v b="$IMG_BYTES" -v t="$1" 'BEGIN { if (t + 0 > 0) printf "%.0f", b / t / 1e6; else print "n/a" }'; }
FW_BEST=$(mbps "$(pick min "${FW_SECS[@]}")") FW_MEDIAN=$(mbps "$(pick median "${FW_SECS[@]}")")
NGX_BEST=$(mbps "$(pick min "${NGX_SECS[@]}")") NGX_MEDIAN=$(mbps "$(pick median "${NGX_SECS[@]}")")
FW_ANON_MAX=$(pick max "${FW_ANON[@]}")
RATIO=$(awk -v a="$FW_BEST" -v b="$NGX_BEST" 'BEGIN { if (a != "n/a" && b != "n/a" && b > 0) printf "%.2f", a / b; else print "n/a" }')
RATE_GOAL=$(awk -v r="$RATIO" 'BEGIN { print (r != "n/a" && r >= 1.0) ? "PASS" : "MISS" }')
MEM_GOAL=$(awk -v k="$FW_ANON_MAX" -v g="$MEM_GOAL_KB" 'BEGIN { print (k != "n/a" && k < g) ? "PASS" : "MISS" }')

echo "OTA upload of a $((IMG_BYTES / 1048576)) MiB image over loopback, curl on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU," \
  "$REPS each, turn about; load average $LOAD_AT_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "  firmware: POST /api/ota until its 200 (hashed, written to slot 1, synced, signature checked); nginx: PUT, DAV, client_body_temp"
fmt='  %-9s %9s %11s %8s %12s %12s\n'
# shellcheck disable=SC2059
printf "$fmt" "" "best MB/s" "median MB/s" "CPU ms" "VmHWM +KiB" "anon +KiB"
# shellcheck disable=SC2059
printf "$fmt" firmware "$FW_BEST" "$FW_MEDIAN" "$(pick median "${FW_CPU[@]}")" "$(pick max "${FW_HWM[@]}")" "$FW_ANON_MAX"
# shellcheck disable=SC2059
printf "$fmt" nginx "$NGX_BEST" "$NGX_MEDIAN" "$(pick median "${NGX_CPU[@]}")" "$(pick max "${NGX_HWM[@]}")" \
  "$(pick max "${NGX_ANON[@]}")"
echo "  (CPU ms: the server's CPU time per upload, median. Growth during an upload, the largest of the $REPS: VmHWM, the"
echo "  peak resident memory, also counts the program's code mapped in for the first time, which a device runs from flash;"
echo "  anon: heap, stack and data, as sampled every 2 ms. nginx: its worker.)"
echo "  goal: at least nginx's throughput (best of $REPS each): $RATE_GOAL (${RATIO}x)"
# What the goal asks of one core: nginx's work plus hashing every byte, which nginx does not
# (with the hash switched off, the firmware's upload costs what nginx's does)
SHA_MBS=$("$BUILD/bench/sha256_bench" 2>/dev/null | sed -nE 's/.*(SHA-NI|portable) ([0-9]+) MB\/s.*/\2/p' | tail -1)
if [ -n "$SHA_MBS" ] && [ "$NGX_BEST" != n/a ]; then
  awk -v b="$IMG_BYTES" -v r="$SHA_MBS" -v t="$(pick min "${NGX_SECS[@]}")" 'BEGIN {
    h = b / (r * 1e6); printf "  bound: SHA-256 of the image at this core'"'"'s best rate (%d MB/s) takes %.1f ms beside nginx'"'"'s %.1f ms\n", r, h * 1e3, t * 1e3
    printf "  for the whole upload, so one core doing both reaches at most %.2fx nginx'"'"'s throughput\n", t / (t + h) }'
fi
echo "  goal: firmware memory growth during the upload < $MEM_GOAL_KB KiB (anon: the RAM it takes): $MEM_GOAL ($FW_ANON_MAX KiB)"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
[ "${#FAILED[@]}" -eq 0 ]
