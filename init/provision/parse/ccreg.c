/*
 * ccreg.c: user-data's wisp.registries (docs/cloud-config.md) as the files
 * containerd-lite reads at every pull (docs/images.md), rendered by lib/regcfg.c as
 * the image builder renders the image spec's registries. They are made here, in the
 * parser child, and join write_files, which the root parent applies at every boot
 * (/etc is rebuilt at each, so they replace the image's files of the same names):
 * the parent gets no new kind of record to trust.
 */
#include "parse.h"

#include <stdlib.h>

void cc_registry_files(struct cloudcfg *c, const struct reg_cfg *regs, size_t n)
{
	struct reg_file *f;
	size_t nf;

	if (reg_render(regs, n, &f, &nf) < 0)
		return;
	for (size_t i = 0; i < nf; i++)
		cc_file_add(c, (struct cc_file){.path = f[i].path,
						.content = (unsigned char *)f[i].text,
						.len = f[i].len,
						.mode = f[i].mode});
	free(f); /* its strings now c's */
}
