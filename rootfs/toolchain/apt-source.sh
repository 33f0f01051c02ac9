#!/bin/sh
# apt-source.sh [--binary] [--update]
#
# Writes a private apt configuration under $B/apt whose only sources are the
# deb-src twins of this machine's own deb sources, and prints the path of its
# APT_CONFIG file. The package lists are fetched when the derived sources
# changed or were never fetched, or always with --update.
#
# --binary: the same for binary packages, under $B/apt-deb: the machine's
# deb sources themselves, and an empty dpkg status and no preferences of
# the host, so that apt resolves and downloads a whole system (the Debian
# image of tests/images/debian-minbase.sh) whatever the host has installed.
#
# Why private: the build needs Debian source packages, and a build must not
# edit /etc/apt. Why derived: the mirror is the machine's business, so no
# host name is ever written into the repository.
set -eu

die() { echo "apt-source: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
type=deb-src name=apt
if [ "${1:-}" = --binary ]; then type=deb name=apt-deb; shift; fi
case $B in /*) dir=$B/$name ;; *) dir=$root/$B/$name ;; esac
etc=${WISP_APT_ETC:-/etc/apt}

# deb822 stanzas with "deb" among their Types, as $type stanzas. Comments
# go; every other field (URIs, Suites, Components, Signed-By...) is kept.
derive_deb822() {
	awk -v type="$type" 'BEGIN { RS = ""; FS = "\n" }
	{
		out = ""; types = ""; enabled = 1
		for (i = 1; i <= NF; i++) {
			line = $i
			if (line ~ /^#/) continue
			key = tolower(line); sub(/:.*/, "", key)
			val = line; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") { types = val; continue }
			if (key == "enabled" && tolower(val) ~ /^no/) enabled = 0
			out = out line "\n"
		}
		if (enabled && (" " types " ") ~ /[ \t]deb[ \t]/)
			printf "Types: %s\n%s\n", type, out
	}' "$@"
}

# One-line "deb [options] uri suite components" entries, as $type.
derive_oneline() {
	sed -n "s/^[[:space:]]*deb[[:space:]]\{1,\}/$type /p" "$@"
}

# apt itself reads only *.list and *.sources: other names (*.disabled,
# *.save) are switched off, so they are skipped here too.
derive() {
	rm -f "$dir/new.sources" "$dir/new.list"
	set -- "$etc"/sources.list.d/*.sources
	if [ -e "$1" ]; then derive_deb822 "$@" >"$dir/new.sources"; fi
	for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
		if [ -e "$f" ]; then derive_oneline "$f"; fi
	done >"$dir/new.list"
}

write_config() {
	cat >"$dir/new.conf" <<-EOF
	// Written by rootfs/toolchain/apt-source.sh: $type only, private state.
	Dir::Etc::SourceList "/dev/null";
	Dir::Etc::SourceParts "$dir/sources.list.d";
	Dir::State::Lists "$dir/lists";
	Dir::Cache "$dir/cache";
	Dir::Cache::pkgcache "";
	Dir::Cache::srcpkgcache "";
	// The build tree belongs to whoever builds; _apt may not write into it.
	APT::Sandbox::User "root";
	EOF
	[ $type = deb ] || return 0
	# A system of its own: nothing installed, no host pins, amd64 only.
	cat >>"$dir/new.conf" <<-EOF
	Dir::State "$dir/state";
	Dir::State::status "$dir/state/status";
	Dir::Etc::Preferences "/dev/null";
	Dir::Etc::PreferencesParts "$dir/preferences.d";
	APT::Architecture "amd64";
	APT::Architectures { "amd64"; };
	EOF
}

# Replace $2 by $1 (an empty $1 removes $2), only when they differ: a
# change of sources or configuration means the lists must be fetched again.
install_if_changed() {
	if [ ! -s "$1" ]; then
		rm -f "$1"
		[ -e "$2" ] || return 0
		rm -f "$2"
	elif cmp -s "$1" "$2"; then
		rm -f "$1"
		return 0
	else
		mv "$1" "$2"
	fi
	rm -f "$dir/lists/.updated"
}

update() {
	APT_CONFIG=$dir/apt.conf apt-get -q update >"$dir/update.log" 2>&1 ||
		die "apt-get update failed with $dir/apt.conf: see $dir/update.log"
	touch "$dir/lists/.updated"
}

mkdir -p "$dir/sources.list.d" "$dir/lists/partial" \
	"$dir/cache/archives/partial" "$dir/source"
if [ $type = deb ]; then
	mkdir -p "$dir/state" "$dir/preferences.d"
	[ -e "$dir/state/status" ] || : >"$dir/state/status"
fi
derive
write_config
install_if_changed "$dir/new.sources" "$dir/sources.list.d/machine.sources"
install_if_changed "$dir/new.list" "$dir/sources.list.d/machine.list"
install_if_changed "$dir/new.conf" "$dir/apt.conf"
ls "$dir"/sources.list.d/machine.* >/dev/null 2>&1 ||
	die "no enabled deb entries in $etc/sources.list{,.d/*.list,.d/*.sources}"
if [ "${1:-}" = --update ] || [ ! -e "$dir/lists/.updated" ]; then
	update
fi
echo "$dir/apt.conf"
