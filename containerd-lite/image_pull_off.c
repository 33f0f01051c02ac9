/* image_pull_off.c: `image pull` in a build without libcurl (the static
 * musl CLI until libcurl and mbedTLS are built for it: image.mk,
 * PULL_SRCS). The verb is known, and says why it cannot run. */
#include "image.h"

int img_pull(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	(void)o;
	return cl_error(err, 0, "image pull %s: this build has no registry client (libcurl)", ref);
}
