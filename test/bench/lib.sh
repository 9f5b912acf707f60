# shellcheck shell=bash
# shellcheck disable=SC2034  # the helpers set variables (STARTED_PORT, RPS, ...) for their callers
# Helpers shared by the benchmark scripts (run.sh, tls.sh), sourced by them. They expect
# BUILD, OUT, SECS, SERVER_CPU, CLIENT_CPU, NGINX, the arrays PIDS (stopped on exit) and
# FAILED, and die / note from the caller.

# A port that was free a moment ago, for nginx (our servers bind port 0 and log theirs).
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

vmrss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
vmhwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }  # peak RSS so far

# Wait until LOG shows PATTERN (a sed -E regex with one group: the port); prints the port.
wait_for_port() {  # pid log pattern
  local port
  for _ in $(seq 100); do
    port=$(sed -nE "s|.*$3.*|\1|p" "$2" | head -n 1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- our servers, on SERVER_CPU
start_ours() {  # name log pattern args... -> sets STARTED_PID, STARTED_PORT
  local name=$1 log=$2 pattern=$3; shift 3
  taskset -c "$SERVER_CPU" "$BUILD/$name" "$@" >"$log" 2>&1 &
  STARTED_PID=$!; PIDS+=("$STARTED_PID")
  STARTED_PORT=$(wait_for_port "$STARTED_PID" "$log" "$pattern") || die "$name did not start, see $log"
}

# nginx on SERVER_CPU with its files under NGX; write_nginx_conf PORT (the caller's) writes
# NGX/nginx.conf. Sets NGX_PID, NGX_PORT and NGX_WORKER (its one worker process).
start_nginx() {  # scheme (http or https: how to ask it for /hello)
  NGX_PID='' NGX_PORT=''
  for attempt in 1 2 3; do  # the port can be taken between free_port and nginx's bind
    NGX_PORT=$(free_port) || die "cannot find a free port"
    write_nginx_conf "$NGX_PORT"
    taskset -c "$SERVER_CPU" "$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" -g 'daemon off;' \
      >"$NGX/stdout.log" 2>&1 &
    NGX_PID=$!; PIDS+=("$NGX_PID")
    for _ in $(seq 100); do
      curl -sk -o /dev/null --max-time 1 "$1://127.0.0.1:$NGX_PORT/hello" && break
      kill -0 "$NGX_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$NGX_PID" 2>/dev/null && break
    note "nginx did not start on port $NGX_PORT (attempt $attempt), see $NGX/error.log"
    NGX_PID=
  done
  [ -n "$NGX_PID" ] || die "nginx did not start, see $NGX/error.log"
  NGX_WORKER=$(pgrep -P "$NGX_PID" | head -n 1)
  [ -n "$NGX_WORKER" ] || die "no nginx worker process under $NGX_PID"
  PIDS+=("$NGX_WORKER")  # normally gone with its master; stopped here if it lingers
}

# p99 from "99%  1.23ms" in wrk's latency distribution, in milliseconds
p99_ms() {
  awk '$1 == "99%" {
    v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f > 0) printf "%.2f", v * f; else print "?" }' "$1"
}
# Server CPU time (user + system, in clock ticks) from /proc/PID/stat: CPU per request
# varies much less than req/s when others load the machine. (Fields counted after the
# ")" that ends the command name, which may itself hold spaces.)
cpu_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
TICKS_PER_S=$(getconf CLK_TCK)

# Run wrk against the server PID; sets RPS, P99 (ms), US_PER_REQ (server CPU
# microseconds per request) and ERRS (socket errors + non-2xx/3xx replies, "" if none)
run_wrk() {  # tag url conns pid [wrk option...]
  local log=$OUT/wrk-$1.txt t0 t1 reqs tag=$1 url=$2 conns=$3 pid=$4
  shift 4
  note "wrk -c$conns -d${SECS}s $* $url ($tag)"
  RPS=0 P99='?' US_PER_REQ='?' ERRS=''
  t0=$(cpu_ticks "$pid")
  # In the background so that a TERM stops the run at once (bash runs traps only between commands)
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${SECS}s" --timeout 5s --latency "$@" "$url" >"$log" 2>&1 &
  PIDS+=("$!")
  if ! wait "$!"; then
    FAILED+=("wrk $tag, see $log"); return
  fi
  t1=$(cpu_ticks "$pid")
  RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$log")
  P99=$(p99_ms "$log")
  reqs=$(awk '/requests in/ {print $1}' "$log")
  US_PER_REQ=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$TICKS_PER_S" \
    'BEGIN { if (n > 0 && a != "" && b != "") printf "%.1f", (b - a) * 1e6 / hz / n; else print "?" }')
  local sock non2xx
  sock=$(awk -F'[ ,]+' '/Socket errors:/ {print $4 + $6 + $8 + $10}' "$log")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$log")
  [ "${sock:-0}" -gt 0 ] && ERRS="${sock} socket errors"
  [ "${non2xx:-0}" -gt 0 ] && ERRS="${ERRS:+$ERRS, }$non2xx non-2xx"
  [ -n "$RPS" ] || { FAILED+=("wrk $tag: no Requests/sec, see $log"); RPS=0; }
}
warm_up() {  # url
  taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d1s "$1" >/dev/null 2>&1 || FAILED+=("warm-up of $1")
}
