/* fuzz_cl_spec.c: libFuzzer target for containerd-lite's config.json
 * decoder. Any input must give a spec or a one-line error, never a crash,
 * a leak or undefined behaviour. */
#include "containerd-lite.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_spec *s = NULL;
	struct cl_err e = {0};

	if (cl_spec_parse((const char *)data, size, "/bundle", &s, &e) == 0)
		cl_spec_free(s);
	else if (!e.msg[0] || strchr(e.msg, '\n'))
		__builtin_trap(); /* every error is one non-empty line */
	return 0;
}
