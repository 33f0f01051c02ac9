/* fuzz_ib_spec.c: libFuzzer target for image-builder's image spec parser
 * (image-builder/spec.c with the registries' table, init/lib/regcfg.c):
 * any input gives a spec or one error line naming the file, never a
 * crash, a leak or undefined behaviour. Paths the spec names are checked
 * against the working directory, as image-builder does. */
#include "../image-builder/image-builder.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ib_spec s;
	struct ib_err err = {0};

	if (ib_spec_parse(&s, "fuzz.yaml", (const char *)data, size, &err) == 0)
		ib_spec_free(&s);
	else if (strncmp(err.msg, "fuzz.yaml", 9) != 0 || strchr(err.msg, '\n'))
		abort(); /* every error is one line naming the spec */
	return 0;
}
