/*
 * ccca.c: cloud-init's ca_certs (docs/cloud-config.md) as one write_files
 * entry for /etc/ssl/certs/ca-certificates.crt, the bundle containerd-lite
 * verifies registries and the updater's https:// downloads with.
 *
 * cloud-init on Debian drops each trusted certificate into
 * /usr/local/share/ca-certificates and runs update-ca-certificates, whose
 * result is that file: the defaults (unless remove_defaults) and then the
 * trusted ones. /usr is read-only here and there is no update-ca-certificates,
 * so the entry is made directly: appended to the image's bundle, or replacing
 * it with remove_defaults. /etc is rebuilt from ROOT at every boot, so an
 * append never stacks up across boots; a later part's entry comes after an
 * earlier one's, as cloud-init merges its lists.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

void cc_ca_bundle(struct cloudcfg *c, char *const *trusted, bool remove_defaults)
{
	size_t len = 0, off = 0, n = strv_len((char **)trusted);
	char *text;

	if (!n && !remove_defaults)
		return;
	for (size_t i = 0; i < n; i++)
		len += strlen(trusted[i]) + 1;
	if (!(text = malloc(len + 1)))
		return;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(trusted[i]);
		memcpy(text + off, trusted[i], l);
		off += l;
		if (!l || trusted[i][l - 1] != '\n') /* PEM blocks on lines of their own */
			text[off++] = '\n';
	}
	text[off] = 0; /* as every content: text too */
	cc_file_add(c, (struct cc_file){.path = strdup(CA_BUNDLE),
					.content = (unsigned char *)text,
					.len = off,
					.mode = 0644,
					.append = !remove_defaults});
}
