# tests/tests.mk: rules for this component (see docs/build.md)
