/* fuzz_tar.c: the tar reader, end to end. The input is a tar stream
 * extracted (each whiteout mode, small limits) beneath a scratch directory
 * that is emptied after each run; its first bytes also go to the header,
 * pax and path parsers directly. Nothing may escape the directory: the
 * sanitizers catch memory errors, and a file planted next to the scratch
 * root must survive. */
#include "image/image.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64], root[96], canary[96];

static void setup(void)
{
	FILE *f;

	strcpy(base, "/tmp/fuzz_tar.XXXXXX");
	if (!mkdtemp(base))
		abort();
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(canary, sizeof(canary), "%s/canary", base);
	f = fopen(canary, "w");
	if (!f)
		abort();
	fputs("canary\n", f);
	fclose(f);
}

static void parsers(const uint8_t *data, size_t size)
{
	struct tar_entry e = {0};
	struct cl_err err;
	char out[256];

	if (size >= 512 && tar_header_parse(data, &e, &err) == 0 && e.path)
		tar_path_clean(e.path, out, sizeof(out), &err);
	tar_entry_clear(&e);
	tar_pax_parse((const char *)data, size, &e, &err);
	tar_entry_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_limits l = {.max_entries = 64,
			       .max_total = 1 << 20,
			       .max_path = 255,
			       .whiteouts = (enum tar_wh)(size % 3)};
	struct cl_err err;
	struct stream *s;
	struct stat st;
	int fd, dfd;

	if (!base[0])
		setup();
	parsers(data, size);
	fd = memfd_create("tar", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	mkdir(root, 0755);
	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	s = stream_open(fd, COMP_NONE, &err);
	if (dfd < 0 || !s)
		abort();
	tar_extract(s, dfd, &l, &err);
	stream_close(s);
	close(fd);
	close(dfd);
	chmod(root, 0755);
	img_rm_tree(root, &err);
	if (stat(canary, &st) < 0 || st.st_size != 7)
		abort();
	/* only root and canary may exist in base */
	return 0;
}
