#!/bin/sh
# Run every libFuzzer harness in DIR for SECONDS each, starting from its seed
# corpus in test/fuzz/corpus/NAME (new inputs go to build/, not into git).
# Usage: run.sh DIR SECONDS [regress]  -- "regress" only replays the seeds.
set -u
dir=$1 secs=$2 mode=${3:-fuzz}
fail=0 pass=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  seeds="test/fuzz/corpus/$name"
  work="$dir/corpus/$name"
  mkdir -p "$work" "$seeds"
  if [ "$mode" = regress ]; then
    "$f" -runs=0 "$seeds" >"$dir/$name.log" 2>&1
  else
    "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/$name-" "$work" "$seeds" >"$dir/$name.log" 2>&1
  fi
  rc=$?
  summary=$(grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$dir/$name.log" | tr '\n' ' ')
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "ok   $name: $summary"
  else fail=$((fail + 1)); echo "FAIL $name (exit $rc), log: $dir/$name.log"; tail -n 30 "$dir/$name.log"; fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
