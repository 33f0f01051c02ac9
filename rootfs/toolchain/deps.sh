#!/bin/sh
# deps.sh [--check] PACKAGES_LIST
#
# Installs the Debian packages of PACKAGES_LIST that are missing, then checks
# that every tool or file the list names is there. With --check nothing is
# installed: missing packages are only reported. Exit status 1 when anything
# is missing.
set -eu

# Root's tools (mkfs.*, sfdisk) live in sbin, which a user's PATH may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

die() { echo "deps: $*" >&2; exit 1; }

# The package names of the list, comments and blank lines dropped.
packages() { sed 's/#.*//' "$list" | awk 'NF { print $1 }'; }

# Packages of the list that dpkg does not know as installed. One dpkg-query
# for all of them: an unknown package is simply absent from its output.
# shellcheck disable=SC2046 # package names are words, split on purpose
missing_packages() {
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' \
		$(packages) 2>/dev/null | awk '$2 == "ii" { print $1 }' |
		tr '\n' ' ') || true
	for p in $(packages); do
		case " $installed " in *" $p "*) ;; *) echo "$p" ;; esac
	done
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $*"
	fi
}

install_packages() {
	echo "deps: installing:" "$@"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$@"
}

# A tool is a command name, or an absolute path for packages whose payload
# is files (headers, firmware, bootloader modules) rather than commands.
have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

check_tools() {
	bad=0
	sed 's/#.*//' "$list" | {
		while read -r pkg tools; do
			for t in $tools; do
				have "$t" && continue
				echo "deps: $t not found: install Debian package $pkg" >&2
				bad=1
			done
		done
		exit $bad
	}
}

check_only=0
if [ "${1:-}" = --check ]; then check_only=1; shift; fi
[ $# = 1 ] || die "usage: deps.sh [--check] PACKAGES_LIST"
list=$1
[ -r "$list" ] || die "$list: cannot read package list"

missing=$(missing_packages)
if [ -n "$missing" ]; then
	if [ $check_only = 1 ]; then
		for p in $missing; do
			echo "deps: Debian package $p not installed: run make deps" >&2
		done
		exit 1
	fi
	# shellcheck disable=SC2086 # one argument per package
	install_packages $missing
fi
check_tools
echo "deps: $(packages | wc -l) packages ok"
