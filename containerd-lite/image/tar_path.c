/* image/tar_path.c: the path sanitiser. Entries must stay beneath the layer
 * root: absolute paths and ".." components are rejected, not rewritten,
 * because a layer that contains them is hostile or broken; so are paths
 * deeper than TAR_MAX_DEPTH, whose entries can each cost that many opens. */
#include "image.h"
#include <errno.h>
#include <string.h>

int tar_path_clean(const char *in, char *out, size_t outsz, struct cl_err *err)
{
	size_t o = 0, depth = 0;
	const char *p = in;

	if (in[0] == '/')
		return cl_error(err, 0, "entry %s: absolute path", in);
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return cl_error(err, 0, "entry %s: '..' in path", in);
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (++depth > TAR_MAX_DEPTH)
				return cl_error(err, 0,
						"entry %.64s...: more than %d path components", in,
						TAR_MAX_DEPTH);
			if (o + n + 2 > outsz)
				return cl_error(err, ENAMETOOLONG, "entry %.64s...: path", in);
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (outsz == 0)
		return cl_error(err, ENAMETOOLONG, "entry path");
	out[o] = 0;
	return 0;
}

const char *img_abs_clean(const char *in, char *out, size_t n)
{
	struct cl_err ignored;

	if (!in || in[0] != '/' || n < 2)
		return NULL;
	while (*in == '/')
		in++;
	out[0] = '/';
	/* the rest, relative: ".." refused, "." and empty components dropped */
	return tar_path_clean(in, out + 1, n - 1, &ignored) < 0 ? NULL : out;
}

const char *img_kernel_path(const char *clean)
{
	static const char *const kernel[] = {"/dev", "/proc", "/sys"};

	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++) {
		size_t n = strlen(kernel[i]);
		if (strncmp(clean, kernel[i], n) == 0 && (clean[n] == 0 || clean[n] == '/'))
			return kernel[i];
	}
	return NULL;
}
