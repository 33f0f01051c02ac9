# kernel-config/kernel.mk: rules for this component (see docs/build.md)
