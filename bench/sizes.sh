#!/bin/sh
# Print the size of every artefact the build makes (busybox: size is a feature).
B=${1:-build}
printf '%-28s %10s  %s\n' artefact bytes budget
row() { [ -e "$2" ] && printf '%-28s %10d  %s\n' "$1" "$(stat -c %s "$2")" "$3"; }
row bzImage "$B/kernel/bzImage" "3 MiB (3145728)"
row init "$B/init/init" "160 KiB (163840)"
row provision "$B/init/provision" ""
row wispctl "$B/init/wispctl" ""
row update "$B/init/update" ""
row initramfs-init "$B/init/initramfs-init" ""
row containerd-lite "$B/containerd-lite/containerd-lite" ""
row busybox "$B/busybox/busybox" ""
[ -e "$B/busybox/busybox.manifest" ] &&
	printf '%-28s %10d\n' "busybox applet links" "$(grep -c '^slink' "$B/busybox/busybox.manifest")"
row e2fsck "$B/e2fsprogs/e2fsck" ""
row resize2fs "$B/e2fsprogs/resize2fs" ""
row dropbear "$B/dropbear/dropbearmulti" ""
row "demo image (OCI tar)" "$B/images/demo.tar" ""
row "update bundle" "$B/wisp-update.bundle" ""
# ROOT-A's erofs size, read from its superblock inside the disk image
# (blocks at byte 36, log2 block size at byte 12 of the superblock at 1024).
if [ -e "$B/wisp.img" ]; then
	start=$(sfdisk -d "$B/wisp.img" 2>/dev/null | sed -n 's/.*start= *\([0-9]*\),.*name="ROOT-A".*/\1/p')
	sb=$((start * 512 + 1024))
	blocks=$(od -An -tu4 -j $((sb + 36)) -N4 "$B/wisp.img" | tr -d ' ')
	bits=$(od -An -tu1 -j $((sb + 12)) -N1 "$B/wisp.img" | tr -d ' ')
	# 2.5 MiB since the updater (issue 14: libsodium's signature checks, 37 KiB of its ~110);
	# the build enforces it (image-builder/image-builder.mk, ROOT_BUDGET), plus the size of
	# the demo archive, which ROOT carries for the live media (image-builder/live.c)
	printf '%-28s %10d  %s\n' "ROOT erofs" $((blocks << bits)) \
		"2.5 MiB (2621440) + the demo archive ($(stat -c %s "$B/images/demo.tar" 2>/dev/null))"
fi
row "ROOT with its verity tree" "$B/wisp.root" ""
row "disk image (apparent)" "$B/wisp.img" ""
[ -e "$B/wisp.img" ] && printf '%-28s %10d\n' "disk image (allocated)" $(( $(stat -c %b "$B/wisp.img") * 512 ))
# the cloud formats (image-builder convert): what a user uploads
row "qcow2" "$B/cloud/wisp.qcow2" ""
row "VHD (fixed)" "$B/cloud/wisp.vhd" ""
row "VMDK (streamOptimized)" "$B/cloud/wisp.vmdk" ""
row "GCE tar.gz" "$B/cloud/wisp-gce.tar.gz" ""
row "ISO (live CD)" "$B/cloud/wisp.iso" ""
row "netboot initrd.img" "$B/cloud/pxe/initrd.img" ""
row "netboot grubx64.efi" "$B/cloud/pxe/grubx64.efi" ""
exit 0
