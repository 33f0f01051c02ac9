#!/bin/sh
# ca-bundle.sh SRC OUT
#
# ROOT's /etc/ssl/certs/ca-certificates.crt from the Debian source package
# ca-certificates unpacked in SRC: what the package's build and its
# update-ca-certificates would make with every Mozilla CA enabled (the
# package's default). mozilla/certdata2pem.py turns Mozilla's certdata.txt
# into one PEM file per CA trusted for TLS servers (blacklist.txt left
# out), the Makefile adds extra/*.crt, and the bundle is their
# concatenation in name order, each ending in a newline. Byte order is C
# collation, so the host's locale cannot reorder it.
set -eu

die() { echo "ca-bundle: $*" >&2; exit 1; }

[ $# = 2 ] || die "usage: ca-bundle.sh SRC OUT"
src=$1 out=$2
work=$out.tmp
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
cp "$src"/mozilla/certdata.txt "$src"/mozilla/blacklist.txt "$src"/mozilla/certdata2pem.py "$work"/
# Its output names the skipped and expired certificates: kept as the log.
(cd "$work" && python3 certdata2pem.py) >"$out.log" 2>&1 ||
	die "certdata2pem.py failed: see $out.log"
cp "$src"/mozilla/extra/*.crt "$work"/
n=0
for crt in $(cd "$work" && ls *.crt | LC_ALL=C sort); do
	sed -e '$a\' "$work/$crt"
	n=$((n + 1))
done >"$work/bundle"
[ "$n" -gt 100 ] || die "only $n certificates from $src/mozilla"
mv "$work/bundle" "$out"
echo "ca-bundle: $n certificates -> $out"
