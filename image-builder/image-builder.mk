# image-builder/image-builder.mk: rules for this component (see docs/build.md)
