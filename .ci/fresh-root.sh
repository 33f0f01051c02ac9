#!/bin/sh
# .ci/fresh-root.sh COMMAND [ARG...]
#
# Runs COMMAND in the checkout, inside a fresh Debian 12 root made for this
# run: `debootstrap --variant=minbase bookworm` from this machine's own apt
# sources (no mirror is named here), entered with pivot_root in a private
# mount namespace. Inside, nothing is installed but the minbase set, so a
# missing install step, or a package this machine happens to have, fails.
#
# Shared with the host, and nothing else:
#   the checkout            /wisp (read-write: build/ is the checkout's)
#   apt's download cache    /var/cache/apt/archives (debootstrap's cache too)
#   the kernel build cache  /root/.cache/wisp (kernel-config/kernel.mk)
#   /dev, /sys, the network, the kernel and its limits
# The root is deleted at the end, whatever COMMAND's status, which is ours.
#
# Environment: WISP_CI_ROOT (the root's directory, default a new
# /var/tmp/wisp-ci.XXXXXX), WISP_* and FUZZ_* are passed inside.
set -eu

die() { echo "fresh-root: $*" >&2; exit 1; }

[ $# -gt 0 ] || die "usage: fresh-root.sh COMMAND [ARG...]"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mounts, pivot_root)"
here=$(cd "$(dirname "$0")/.." && pwd)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
suite=bookworm
archives=/var/cache/apt/archives
kcache=${HOME:-/root}/.cache/wisp

# The host needs only these to make the root; everything else is installed
# inside by the checkout's own `make`.
for t in debootstrap unshare pivot_root; do
	command -v $t >/dev/null 2>&1 && continue
	apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends debootstrap util-linux || die "cannot install $t"
	break
done

# The first URI of this machine's deb sources that serves $suite (deb822
# .sources first, then one-line .list entries).
mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
		{
			t = ""; u = ""; s = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/) t = " " substr($i, 7) " "
				if ($i ~ /^URIs:/) { u = substr($i, 6); sub(/^[ \t]+/, "", u); sub(/[ \t].*/, "", u) }
				if ($i ~ /^Suites:/) s = " " substr($i, 8) " "
			}
			if (t ~ /[ \t]deb[ \t]/ && s ~ ("[ \t]" suite "[ \t]") && u != "") { print u; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] || continue
		sed 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
	done
}
uri=$(mirror | head -n 1)
[ -n "$uri" ] || die "no deb source for $suite in /etc/apt: cannot make a Debian root"

root=${WISP_CI_ROOT:-$(mktemp -d /var/tmp/wisp-ci.XXXXXX)}
mkdir -p "$root"
# It becomes "/": mktemp's 0700 would shut out every uid but root's (a
# container's mapped uids, runc's and ours, were refused "/" itself).
chmod 0755 "$root"
# Deleted only when nothing of the host is mounted under it (the mounts
# below live in a private namespace that ends with the command).
cleanup() {
	if grep -q " $root[/ ]" /proc/self/mountinfo; then
		echo "fresh-root: $root still has mounts; left in place" >&2
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$archives" "$kcache"
start=$(date +%s)
echo "fresh-root: debootstrap --variant=minbase $suite into $root (log: $root.debootstrap.log)"
if ! debootstrap --variant=minbase --cache-dir="$archives" "$suite" "$root" "$uri" \
	>"$root.debootstrap.log" 2>&1; then
	tail -n 20 "$root.debootstrap.log" >&2
	die "debootstrap failed: see $root.debootstrap.log"
fi
rm -f "$root.debootstrap.log"
# The machine's apt sources and settings, as a fresh machine of this kind has
# them; name resolution as the host's.
rm -f "$root/etc/apt/sources.list"
for d in sources.list sources.list.d apt.conf.d trusted.gpg.d keyrings; do
	[ -e "/etc/apt/$d" ] && cp -a "/etc/apt/$d" "$root/etc/apt/"
done
cat /etc/resolv.conf >"$root/etc/resolv.conf"
cat /etc/hosts >"$root/etc/hosts"
echo "fresh-root: root made in $(($(date +%s) - start)) s"

mkdir -p "$root/wisp" "$root/root/.cache/wisp" "$root/.old"
# Variables the command is given, as a sourced file of quoted exports: a
# clean environment, and the caller's WISP_* and FUZZ_* settings.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	for v in $(env | sed -n 's/^\(\(WISP\|FUZZ\)_[A-Za-z0-9_]*\)=.*/\1/p'); do
		[ "$v" = WISP_CI_ROOT ] && continue
		eval "val=\${$v}"
		echo "export $v=$(quote "$val")"
	done
	echo "export HOME=/root PATH=$PATH LANG=C.UTF-8 TERM=dumb"
} >"$root/.ci-env"

# In a private mount namespace: the root as a mount of its own (pivot_root
# and the container runtime's own pivot_root need it), the host's /dev and
# /sys, a new /proc and /run, the shared pieces; then the root becomes /.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private sh -eu -c '
	root=$1 here=$2 archives=$3 kcache=$4; shift 4
	mount --bind "$root" "$root"
	mount --rbind /dev "$root/dev"
	mount --rbind /sys "$root/sys"
	mount -t proc proc "$root/proc"
	mount -t tmpfs -o mode=755 tmpfs "$root/run"
	mount --bind "$here" "$root/wisp"
	mount --bind "$archives" "$root/var/cache/apt/archives"
	mount --bind "$kcache" "$root/root/.cache/wisp"
	cd "$root"
	pivot_root . .old
	umount -l /.old
	rmdir /.old
	cd /wisp
	exec /usr/bin/env -i /bin/sh -c ". /.ci-env; exec \"\$@\"" sh "$@"
' fresh-root "$root" "$here" "$archives" "$kcache" "$@"
