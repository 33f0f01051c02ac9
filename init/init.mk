# init/init.mk: rules for this component (see docs/build.md)
