#!/bin/sh
# Fetches mbedTLS 3.6.6 LTS, the source Debian 13 (trixie) ships, into DIR and
# unpacks it there, checked against a known SHA-256. The system's apt configuration
# stays untouched: a private state folder holds the sources list, lists and cache.
# Usage: tools/fetch-mbedtls.sh DIR   (leaves DIR/mbedtls-3.6.6)
set -eu
dir=${1:?usage: $0 DIR}
version=3.6.6
tarball=mbedtls_$version.orig.tar.bz2
sha256=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# The machine's own Debian mirror, from its deb822 sources file
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
state=$dir/apt-state
if [ ! -f "$dir/$tarball" ]; then
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
  echo "deb-src [signed-by=$keyring] $mirror trixie main" >"$state/sources.list"
  apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null \
      -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" "$@"
  }
  echo "fetching mbedTLS $version source from $mirror (trixie)"
  apt_private update >"$state/update.log" 2>&1 || { cat "$state/update.log" >&2; exit 1; }
  (cd "$dir" && apt_private source --download-only mbedtls >"$state/source.log" 2>&1) ||
    { cat "$state/source.log" >&2; exit 1; }
fi
if [ ! -f "$dir/$tarball" ]; then
  echo "fetch-mbedtls: apt fetched no $tarball (Debian may have moved past $version); see $state/source.log" >&2
  exit 1
fi
got=$(sha256sum "$dir/$tarball" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "fetch-mbedtls: $dir/$tarball has SHA-256 $got, expected $sha256: refusing to build it" >&2
  exit 1
fi
rm -rf "$dir/mbedtls-$version.tmp"
mkdir "$dir/mbedtls-$version.tmp"
tar -xjf "$dir/$tarball" -C "$dir/mbedtls-$version.tmp" --strip-components=1
rm -rf "$dir/mbedtls-$version"
mv "$dir/mbedtls-$version.tmp" "$dir/mbedtls-$version"
echo "mbedTLS $version unpacked in $dir/mbedtls-$version"
