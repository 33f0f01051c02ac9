#!/bin/sh
# `make run`: boot the image on this terminal's serial console.
# WISP_FIRMWARE=uefi boots with OVMF instead of SeaBIOS; WISP_KVM=1 uses KVM.
# The image is not modified: writes go to a throw-away qcow2 overlay unless
# WISP_PERSIST=1, which keeps them in build/run.qcow2 across runs, and under
# UEFI the firmware's variables in build/run-vars.fd too.
set -eu
img=${1:-build/wisp.img}
dir=$(dirname "$img")
overlay=$dir/run.qcow2
if [ "${WISP_PERSIST:-0}" != 1 ] || [ ! -f "$overlay" ]; then
	qemu-img create -q -f qcow2 -F raw -b "$(realpath "$img")" "$overlay"
fi
set -- -m 512 -smp 2 -nographic -serial mon:stdio \
	-drive "file=$overlay,format=qcow2,if=virtio" \
	-nic user,model=virtio-net-pci -device i6300esb
if [ "${WISP_KVM:-0}" = 1 ]; then set -- "$@" -accel kvm -cpu host; else set -- "$@" -accel tcg; fi
if [ "${WISP_FIRMWARE:-bios}" = uefi ]; then
	if [ "${WISP_PERSIST:-0}" != 1 ] || [ ! -f "$dir/run-vars.fd" ]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$dir/run-vars.fd"
	fi
	set -- "$@" -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive "if=pflash,format=raw,file=$dir/run-vars.fd"
fi
echo "Booting $img under QEMU (${WISP_FIRMWARE:-bios}, $([ "${WISP_KVM:-0}" = 1 ] && echo KVM || echo TCG))."
echo "Quit: type 'poweroff' at the Wisp prompt, or press Ctrl-a then x."
exec qemu-system-x86_64 "$@"
