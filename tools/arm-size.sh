#!/bin/sh
# The Cortex-M firmware's size per component, from its linker map: text (code and
# constants), data and bss of each input section, grouped by where its source lives;
# with mbedTLS linked, the text of each of its modules too.
#   tools/arm-size.sh build/arm/firmware.map
set -e
map=$1
# Each core object's folder (object names are unique across core/)
dirs=$(for f in core/*/*.c; do d=${f#core/}; echo "${f##*/}" "${d%%/*}"; done | sed 's/\.c / /')
awk -v dirs="$dirs" '
  BEGIN {
    n = split(dirs, a, "\n")
    for (i = 1; i <= n; i++) { split(a[i], p, " "); folder[p[1]] = p[2] }
    name["core"] = "core"; name["tcpip"] = "stack"; name["drivers"] = "driver"; name["http"] = "http"
    name["ws"] = "ws"; name["dash"] = "dash/auth"; name["ota"] = "ota"; name["tls"] = "tls"
    order = "core stack driver http ws dash/auth ota tls mbedtls firmware board packed-dashboard packed-certs libc"
  }
  function hex(s,   v, i) {  # "0x1f4" (mawk has no strtonum)
    v = 0
    for (i = 3; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
    return v
  }
  function component(file,   obj) {
    if (file ~ /web_fs\.o$/) return "packed-dashboard"
    if (file ~ /certs_fs\.o$/) return "packed-certs"
    # OTA: the firmware and board parts and the key; the crypto under it counts as mbedtls
    if (file ~ /obj\/(firmware\/ota|firmware\/boot_slots|firmware\/arm\/boot_ram|keys\/ota_pubkey)\.o$/) return "ota"
    if (match(file, /obj\/core\/[a-z0-9_]+\//)) return name[substr(file, RSTART + 9, RLENGTH - 10)]
    if (file ~ /libmbedtls\.a\(/) return "mbedtls"
    if (file ~ /obj\/firmware\/arm\//) return "board"
    if (file ~ /obj\/firmware\//) return "firmware"
    if (match(file, /libmeerkat\.a\(([^)]*)\.o\)/)) {
      obj = substr(file, RSTART + 13, RLENGTH - 16)
      return obj in folder && folder[obj] in name ? name[folder[obj]] : "core"
    }
    return "libc"
  }
  function add(size, file,   k) {
    if (out == "") return
    k = component(file)
    total[k, out] += hex(size)
    total["total", out] += hex(size)
    if (k == "mbedtls" && out == "text" && match(file, /\([^)]*\.o\)/)) module[substr(file, RSTART + 1, RLENGTH - 4)] += hex(size)
  }
  /^Linker script and memory map/ { in_map = 1; next }
  !in_map { next }
  /^\.text|^\.ARM\.exidx/ { out = "text"; next }
  /^\.data/ { out = "data"; next }
  /^\.bss/ { out = "bss"; next }
  /^\.heap/ { heap = hex($3); out = ""; next }
  /^[^ ]/ { out = ""; next }
  /^ [^ *]+$/ { pending = 1; next }  # A long section name: its address, size and file follow
  pending && /^ +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]+$/ { add($2, $3); pending = 0; next }
  /^ [^ *][^ ]* +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]+$/ { add($3, $4) }
  { pending = 0 }
  END {
    printf "%-18s %8s %8s %8s\n", "component", "text", "data", "bss"
    n = split(order " total", keys, " ")
    for (i = 1; i <= n; i++) {
      k = keys[i]
      if (k == "total") print "------------------------------------------"
      printf "%-18s %8d %8d %8d\n", k, total[k, "text"], total[k, "data"], total[k, "bss"]
    }
    printf "heap arena %d bytes (HEAP_SIZE), besides the bss\n", heap
    if (total["mbedtls", "text"] == 0) exit
    print "mbedtls modules linked (text, largest first):"
    for (m in module) printf "  %-24s %8d\n", m, module[m] | "sort -k2 -nr"
  }' "$map"
