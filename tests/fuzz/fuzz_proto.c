/*
 * Fuzz target: the control protocol decoder (init/lib/proto.c), as init's
 * server runs it on every message a client sends: decode, then check the
 * request; then the client's view helpers on whatever decoded.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinit \
 *     tests/fuzz/fuzz_proto.c init/lib/proto.c init/lib/err.c init/lib/util.c -o fuzz_proto
 */
#include "lib/proto.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[PROTO_MAX_MSG];
	struct pview m;
	struct preq r;
	struct err e;
	uint64_t v;

	if (proto_decode(data, size, &m, &e) < 0)
		return 0;
	if (proto_request(&m, &r, &e) == 0 && r.name[0])
		(void)strlen(r.name);
	for (unsigned tag = 0; tag < 256; tag++) {
		pview_str(&m, tag, s, sizeof(s));
		pview_uint(&m, tag, 4, &v);
		pview_uint(&m, tag, 8, &v);
	}
	return 0;
}
