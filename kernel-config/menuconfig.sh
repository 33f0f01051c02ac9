#!/bin/sh
# menuconfig.sh SRCDIR DIR FRAGMENT...
#
# Opens menuconfig on the merged configuration and, on exit, prints what
# was changed as fragment lines. Nothing is saved anywhere else: the
# fragments are the configuration, so paste the lines into one of them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# Lines of NEW that differ from OLD, in fragment syntax; options that
# disappeared (their dependencies went away) become "is not set".
changes() {
	awk '
	function name(l) {
		if (l ~ /^CONFIG_/) { sub(/=.*/, "", l); return l }
		if (l ~ /^# CONFIG_.* is not set$/) return substr(l, 3, index(l, " is") - 3)
		return ""
	}
	FNR == NR { n = name($0); if (n != "") old[n] = $0; next }
	{ n = name($0); if (n == "") next; seen[n] = 1
	  if (!(n in old) || old[n] != $0) print $0 }
	END { for (n in old) if (!(n in seen) && old[n] ~ /^CONFIG_/)
		print "# " n " is not set" }
	' "$1" "$2"
}

main() {
	[ $# -ge 3 ] || { echo "usage: $0 SRCDIR DIR FRAGMENT..." >&2; exit 2; }
	src=$1 dir=$2
	shift 2
	exec 8> "$(dirname "$src")/.$(basename "$src").lock"
	flock -s 8
	"$here/merge.sh" "$src" "$dir" "$@"
	cp "$dir/.config" "$dir/.config.merged"
	env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL \
	    make -C "$src" O="$(cd "$dir" && pwd)" ARCH=x86_64 menuconfig
	out=$(changes "$dir/.config.merged" "$dir/.config")
	if [ -z "$out" ]; then
		echo "kernel-config: no changes"
	else
		echo "kernel-config: add these lines to a fragment in kernel-config/:"
		echo "$out"
	fi
}

main "$@"
