# tests/images.mk: real images the image tests and benches use, made from
# Debian packages (see docs/images.md).
#
#   make debian-image   build/images/debian-minbase.{oci,oci.tar,docker.tar}:
#                       Debian bookworm minbase by debootstrap from a local
#                       repository of .debs fetched through the private apt
#                       configuration (rootfs/toolchain/apt-source.sh
#                       --binary); cached in build/debian by package
#                       versions. Making it needs root.

.PHONY: debian-image debian-image-always

DEBIAN_IMAGE := $(B)/images/debian-minbase.oci.tar

debian-image: $(DEBIAN_IMAGE)

# The script always runs: only it knows whether the archive's versions
# changed (a second or two when the cached image is current).
$(DEBIAN_IMAGE): tests/images/debian-minbase.sh debian-image-always | $(DEPS_STAMP)
	@B=$(B) tests/images/debian-minbase.sh $(B)/images

debian-image-always:

# The image tests import it (tests/containerd-lite/images.py); the
# containers system test bakes it into a disk image.
image-test: $(DEBIAN_IMAGE)
pull-test: $(DEBIAN_IMAGE)
system-test: $(DEBIAN_IMAGE)
# and containerd runs it with containerd-lite (tests/containerd-lite/ctr.py).
cl-test: $(DEBIAN_IMAGE)

# Numbers of issue 6 (bench/RESULTS.md): import+unpack against umoci,
# store disk use of images sharing the Debian layer. Root.
.PHONY: bench-images
bench-images: $(DEBIAN_IMAGE) $(CL_MUSL)
	B=$(B) python3 bench/images.py
