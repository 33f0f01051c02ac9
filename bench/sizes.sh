#!/bin/sh
# Print the size of every artefact the build makes (busybox: size is a feature).
B=${1:-build}
printf '%-28s %10s  %s\n' artefact bytes budget
row() { [ -e "$2" ] && printf '%-28s %10d  %s\n' "$1" "$(stat -c %s "$2")" "$3"; }
row bzImage "$B/kernel/bzImage" "3 MiB (3145728)"
row init "$B/init/init" ""
row busybox "$B/busybox/busybox" ""
row e2fsck "$B/e2fsprogs/e2fsck" ""
row resize2fs "$B/e2fsprogs/resize2fs" ""
row "ROOT erofs" "$B/wisp.root.erofs" "2 MiB (2097152)"
row "disk image (apparent)" "$B/wisp.img" ""
[ -e "$B/wisp.img" ] && printf '%-28s %10d\n' "disk image (allocated)" $(( $(stat -c %b "$B/wisp.img") * 512 ))
exit 0
