#!/bin/sh
# debian-minbase.sh OUTDIR
#
# A Debian bookworm minbase image, made by debootstrap from a local file://
# repository, as an OCI image (umoci, one layer, Cmd cat /etc/debian_version):
#
#   OUTDIR/debian-minbase.oci       OCI image layout directory (tag bookworm)
#   OUTDIR/debian-minbase.oci.tar   the same layout as a tar
#   OUTDIR/debian-minbase.docker.tar  docker-archive (wisp/debian-minbase:bookworm)
#
# The packages are debootstrap's minbase set: every Priority: required
# package of the archive, apt and usr-is-merged, with their dependencies
# resolved by apt through the private binary configuration of
# rootfs/toolchain/apt-source.sh --binary (the machine's own deb sources;
# no mirror is named here). They are downloaded once into $B/debian/debs,
# indexed as a local repository, and debootstrap installs from that
# (--no-check-gpg: the repository is ours, apt verified every .deb it
# downloaded against the signed archive).
#
# Cached: the image is made once per set of package versions (and version
# of this script) in $B/debian/KEY; OUTDIR's names are symlinks to it. A
# cached image needs no network (the lists are kept); making one needs
# root (debootstrap chroots). Timestamps are clamped to the newest .deb's own
# date, so the same package versions give the same image digest.
set -eu

die() { echo "debian-minbase: $*" >&2; exit 1; }

[ $# = 1 ] || die "usage: debian-minbase.sh OUTDIR"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$root/$B ;; esac
export B
case $1 in /*) out=$1 ;; *) out=$(pwd)/$1 ;; esac
suite=bookworm
tag=bookworm
dref=wisp/debian-minbase:bookworm
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

mkdir -p "$B/debian" "$out"
# One builder at a time (make -j, two checkouts sharing nothing else).
exec 9>"$B/debian/.lock"
flock 9

export APT_CONFIG
APT_CONFIG=$("$root/rootfs/toolchain/apt-source.sh" --binary) ||
	die "private apt configuration failed"

# debootstrap's minbase set (scripts/debian-common): Priority required,
# apt, and for bookworm usr-is-merged. Sets the positional parameters.
minbase_set() {
	required=$(apt-cache dumpavail | awk 'BEGIN { RS = ""; FS = "\n" }
		{
			p = ""; pr = ""; a = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Package: /) p = substr($i, 10)
				if ($i ~ /^Priority: /) pr = substr($i, 11)
				if ($i ~ /^Architecture: /) a = substr($i, 15)
			}
			if (pr == "required" && (a == "amd64" || a == "all")) print p
		}' | sort -u | tr '\n' ' ')
	[ -n "$required" ] || die "no Priority: required packages in the lists of $APT_CONFIG"
}

# What apt would install on an empty system, "name version arch" sorted,
# in set.new; the cache key from it.
resolve() {
	# shellcheck disable=SC2086 # package names are words
	apt-get -s -q -o Debug::NoLocking=1 install --no-install-recommends \
		$required apt usr-is-merged >"$B/debian/resolve.log" 2>&1 ||
		die "apt cannot resolve the minbase set: see $B/debian/resolve.log"
	sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) [^[]*\[\([a-z0-9]*\)\]).*/\1 \2 \3/p' \
		"$B/debian/resolve.log" | sort >"$B/debian/set.new"
	[ -s "$B/debian/set.new" ] || die "apt resolved no packages: see $B/debian/resolve.log"
	key=$( (cat "$B/debian/set.new" "$0") | sha256sum | cut -c1-16)
	cache=$B/debian/$key
}

link_outputs() {
	rel=$(realpath --relative-to="$out" "$cache")
	for f in oci oci.tar docker.tar; do
		ln -sfn "$rel/$f" "$out/debian-minbase.$f.new"
		mv -T "$out/debian-minbase.$f.new" "$out/debian-minbase.$f"
	done
}

# Download what is missing (kept across keys: a new set reuses the rest).
download() {
	mkdir -p "$debs/partial"
	# shellcheck disable=SC2086 # package names are words
	apt-get -q -y -o Debug::NoLocking=1 -o Dir::Cache::archives="$debs" install \
		--download-only --no-install-recommends $required apt usr-is-merged \
		>"$B/debian/download.log" 2>&1
}

debs=$B/debian/debs
minbase_set
resolve
if [ -e "$cache/done" ]; then
	link_outputs
	exit 0
fi
[ "$(id -u)" = 0 ] || die "making the image needs root (debootstrap chroots); run as root"
if ! download; then
	# Lists older than the mirror (a version gone from it): fetch them
	# once more, resolve again (a new set may be cached already).
	APT_CONFIG=$("$root/rootfs/toolchain/apt-source.sh" --binary --update) ||
		die "private apt configuration failed"
	minbase_set
	resolve
	if [ -e "$cache/done" ]; then
		link_outputs
		exit 0
	fi
	download || die "downloading the minbase set failed: see $B/debian/download.log"
fi
echo "debian-minbase: $(wc -l <"$B/debian/set.new") packages, key $key"

rm -rf "$cache" "$B/debian/work"
work=$B/debian/work
repo=$work/repo
mkdir -p "$repo/pool" "$repo/dists/$suite/main/binary-amd64"
# apt names a .deb NAME_VERSION_ARCH.deb, the epoch's ':' written %3a.
while read -r p v a; do
	f=${p}_$(echo "$v" | sed 's/:/%3a/g')_$a.deb
	[ -f "$debs/$f" ] || die "$f missing from $debs after the download"
	ln "$debs/$f" "$repo/pool/$f"
done <"$B/debian/set.new"

# The archive's priorities and sections (a .deb's control may differ), as
# an override file: debootstrap picks "required" from the Packages index.
apt-cache dumpavail | awk 'BEGIN { RS = ""; FS = "\n" }
	{
		p = ""; pr = "optional"; s = "misc"
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Package: /) p = substr($i, 10)
			if ($i ~ /^Priority: /) pr = substr($i, 11)
			if ($i ~ /^Section: /) s = substr($i, 10)
		}
		if (p != "") print p, pr, s
	}' | sort -u -k1,1 >"$work/override"
(cd "$repo" && dpkg-scanpackages -m pool "$work/override") \
	>"$repo/dists/$suite/main/binary-amd64/Packages" 2>"$work/scan.log" ||
	die "dpkg-scanpackages failed: see $work/scan.log"

# The newest .deb's own timestamp (its ar members' mtime, which dpkg-deb
# sets from the package's SOURCE_DATE_EPOCH): files, the image config and
# its history are clamped to it.
epoch=$(python3 - "$repo/pool" <<-'EOF'
	import os, sys
	m = 0
	for n in os.listdir(sys.argv[1]):
	    with open(os.path.join(sys.argv[1], n), "rb") as f:
	        h = f.read(8 + 60)
	    if h[:8] == b"!<arch>\n":
	        m = max(m, int(h[8 + 16:8 + 28]))
	print(m)
	EOF
)
[ "$epoch" -gt 0 ] || die "no timestamp in the .debs of $repo/pool"
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
export SOURCE_DATE_EPOCH="$epoch"

pk=dists/$suite/main/binary-amd64/Packages
{
	echo "Origin: Wisp"
	echo "Label: Wisp minbase"
	echo "Suite: $suite"
	echo "Codename: $suite"
	echo "Date: $(date -u -R -d "@$epoch")"
	echo "Architectures: amd64"
	echo "Components: main"
	echo "SHA256:"
	echo " $(sha256sum <"$repo/$pk" | cut -d' ' -f1) $(stat -c %s "$repo/$pk") main/binary-amd64/Packages"
} >"$repo/dists/$suite/Release"

lay=$work/oci
bundle=$work/bundle
umoci init --layout "$lay" >/dev/null
umoci new --image "$lay:$tag" >/dev/null
umoci unpack --image "$lay:$tag" "$bundle" >/dev/null
rootfs=$bundle/rootfs
echo "debian-minbase: debootstrap --variant=minbase $suite (log: ${work#"$root"/}/debootstrap.log)"
debootstrap --variant=minbase --merged-usr --no-check-gpg "$suite" "$rootfs" \
	"file://$repo" >"$work/debootstrap.log" 2>&1 ||
	die "debootstrap failed: see $work/debootstrap.log"

# What names the build machine or changes from run to run, or is only a
# cache: the local repository's sources.list, the .debs debootstrap leaves
# in apt's cache, logs, caches, backups of dpkg's database. And the device
# nodes debootstrap makes in /dev: a runtime mounts its own /dev, images
# (docker's debian ones too) ship it empty, and stores refuse devices.
rm -rf "${rootfs:?}"/dev/*
rm -f "$rootfs/etc/apt/sources.list" "$rootfs/var/cache/ldconfig/aux-cache" \
	"$rootfs"/var/cache/apt/archives/*.deb \
	"$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
	"$rootfs"/var/cache/apt/*.bin
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
mkdir -p "$rootfs/var/lib/apt/lists/partial"
find "$rootfs" -newermt "@$epoch" -exec touch -h -d "@$epoch" {} +

umoci repack --image "$lay:$tag" --history.created "$created" \
	--history.created_by "debootstrap --variant=minbase $suite" "$bundle" >/dev/null
umoci config --image "$lay:$tag" --no-history --created "$created" \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.cmd cat --config.cmd /etc/debian_version >/dev/null
umoci gc --layout "$lay"
# Directories' and files' mtimes inside the layout: clamped too, so the
# tar is the same bytes.
find "$lay" -exec touch -h -d "@$epoch" {} +
tar -C "$lay" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	-cf "$work/oci.tar" .
skopeo copy -q "oci:$lay:$tag" "docker-archive:$work/docker.tar:$dref" \
	>"$work/skopeo.log" 2>&1 || die "skopeo copy to docker-archive failed: see $work/skopeo.log"

mkdir -p "$cache"
mv "$lay" "$work/oci.tar" "$work/docker.tar" "$cache/"
cp "$B/debian/set.new" "$cache/packages"
echo "$epoch" >"$cache/epoch"
rm -rf "$work"
touch "$cache/done"
link_outputs
# Other keys' images: an older set, not needed any more.
for d in "$B"/debian/*/done; do
	[ "$d" = "$cache/done" ] || rm -rf "$(dirname "$d")"
done
for f in oci.tar docker.tar; do
	printf '%-40s %10d bytes\n' "${out#"$root"/}/debian-minbase.$f" "$(stat -L -c %s "$out/debian-minbase.$f")"
done
