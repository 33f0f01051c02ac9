# tests/escape/escape.mk: the container escape suite's probe (static musl,
# like the image's programs). The escape system test puts it into a
# container image and into the test image's ROOT (docs/escape-suite.md).
#
#   make escape-probe    build/tests/escape/escape-probe

.PHONY: escape-probe

ESCAPE_SRCS := $(wildcard tests/escape/*.c)
ESCAPE_PROBE := $(B)/tests/escape/escape-probe

escape-probe: $(ESCAPE_PROBE)

$(ESCAPE_PROBE): $(ESCAPE_SRCS) tests/escape/probe.h tests/escape/escape.mk \
		$(B)/sysroot/.headers-ok $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) -o $@ $(ESCAPE_SRCS) $(MUSL_LDFLAGS)
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

system-test: $(ESCAPE_PROBE)
