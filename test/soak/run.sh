#!/usr/bin/env bash
# `make soak`: the soak (test/soak/soak.mjs) against the release firmware, then against its
# ASan build; SOAK_SECONDS each (default 1800). Exit status 1 if either fails a verdict.
# Env: BUILD (build), SOAK_SECONDS, SOAK_WS_CLIENTS (1000), SOAK_ONLY (release or asan: one run).
set -u
BUILD=${BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOAK_OUT=${SOAK_OUT:-$BUILD/soak}
# 1000+ WebSocket clients need descriptors on both ends; the firmware inherits this limit
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || { echo "soak: descriptor limit $(ulimit -n) is too low" >&2; exit 1; }

status=0 ran=()
run() {  # label firmware [--asan]
  [ -z "${SOAK_ONLY:-}" ] || [ "$SOAK_ONLY" = "$1" ] || return 0
  [ -x "$2" ] || { echo "soak: $2 missing (make $2)" >&2; status=1; return; }
  rm -f "$SOAK_OUT/$1-summary.txt"
  ran+=("$1")
  node "$HERE/soak.mjs" "$2" "$1" "${@:3}" || status=1
  echo
}
run release "$BUILD/firmware/firmware"
run asan "$BUILD/asan/firmware/firmware" --asan
for label in "${ran[@]}"; do
  [ -f "$SOAK_OUT/$label-summary.txt" ] && grep -E "^soak $label: (PASS|FAIL)" "$SOAK_OUT/$label-summary.txt"
done
exit $status
