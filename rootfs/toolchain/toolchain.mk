# rootfs/toolchain/toolchain.mk: rules for this component (see docs/build.md)
