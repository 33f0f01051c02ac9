#!/bin/sh
# check.sh FINAL_CONFIG SRCDIR FRAGMENT...
#
# kconfig silently drops what it cannot satisfy: an option whose
# dependencies are off, a misspelt name, a value another fragment or a
# `select` overrides. So every request of every fragment is looked up in
# the final .config, and the build stops on the first merge that lost one.
#
#   CONFIG_X=value         the final .config must have exactly that line
#   # CONFIG_X is not set  the final .config must not set X (an option
#                          whose dependencies are off is absent: fine)
set -eu

# Print one line per unmet request: "NAME<TAB>request<TAB>fragment<TAB>found",
# and one per malformed fragment line: "!<TAB>line<TAB>fragment<TAB>lineno".
unmet() {
	awk '
	FNR == NR {
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/))
			have[substr($0, 1, RLENGTH - 1)] = $0
		next
	}
	{ sub(/[ \t]+$/, "") }
	/^$/ { next }
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ {
		name = $2
		if (name in have && have[name] !~ /=n$/)
			print name "\t" $0 "\t" FILENAME "\t" have[name]
		next
	}
	/^#/ { next }
	/^CONFIG_[A-Za-z0-9_]+=[^ \t]/ {
		name = $0; sub(/=.*/, "", name)
		if (!(name in have) || have[name] != $0)
			print name "\t" $0 "\t" FILENAME "\t" \
			    (name in have ? have[name] : "")
		next
	}
	{ print "!\t" $0 "\t" FILENAME "\t" FNR }
	' "$@"
}

# Does the kernel know this option at all? Tells a typo from a dependency.
known() {
	grep -rqsE "^[[:space:]]*(menu)?config $1\$" --include='Kconfig*' "$2"
}

explain() {
	src=$1
	status=0
	while IFS='	' read -r name req frag found; do
		status=1
		frag=${frag##*/}
		if [ "$name" = "!" ]; then
			echo "kernel-config: $frag:$found: not an option line: $req" >&2
		elif ! known "${name#CONFIG_}" "$src"; then
			echo "kernel-config: $req ($frag): no such option in this kernel" >&2
		elif [ "${req#\# }" != "$req" ]; then
			echo "kernel-config: $req ($frag) but the final .config has $found; another fragment or a select turns it on" >&2
		elif [ -n "$found" ]; then
			echo "kernel-config: $req ($frag) is not in the final .config (it has $found); check its dependencies and the other fragments" >&2
		else
			echo "kernel-config: $req ($frag) is not in the final .config; check its dependencies" >&2
		fi
	done
	return $status
}

main() {
	[ $# -ge 3 ] || { echo "usage: $0 FINAL_CONFIG SRCDIR FRAGMENT..." >&2; exit 2; }
	final=$1 src=$2
	shift 2
	unmet "$final" "$@" | explain "$src"
}

main "$@"
