# rootfs/rootfs.mk: rules for this component (see docs/build.md)
