/*
 * userdata.c: what kind of user-data this is, and its MIME parts.
 *
 * cloud-init decides by content: "#cloud-config", "#!" (a script),
 * "Content-Type: multipart/..." (MIME, parts typed by their header), a
 * gzip magic (cloudinit.c has busybox gunzip it first). Each part found is handed to a callback;
 * anything else is one warning and nothing applied.
 */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && strncasecmp(s, prefix, n) == 0;
}

enum ud_kind ud_detect(const char *data, size_t len)
{
	if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		return UD_GZIP;
	if (starts(data, len, "#cloud-config"))
		return UD_CLOUD_CONFIG;
	if (starts(data, len, "#!"))
		return UD_SCRIPT;
	if (starts(data, len, "Content-Type:") || starts(data, len, "MIME-Version:"))
		return UD_MIME;
	if (len == 0)
		return UD_EMPTY;
	return UD_UNKNOWN;
}

const char *ud_kind_name(enum ud_kind k)
{
	static const char *const names[] = {
	    "empty",	      "cloud-config", "script",		 "MIME multipart",
	    "gzip",	      "unknown",      "per-boot script", "per-instance script",
	    "per-once script"};
	return names[k];
}

/* Value of header name in the header block [h, end), copied to val. */
static bool header(const char *h, const char *end, const char *name, char *val, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *p = h; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (ll > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vl = ll - nlen - 1;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= size)
				vl = size - 1;
			memcpy(val, v, vl);
			val[vl] = '\0';
			return true;
		}
		p += ll + 1;
	}
	return false;
}

/* The boundary="..." parameter of a Content-Type value. */
static bool boundary_of(const char *ctype, char *b, size_t size)
{
	const char *p = strcasestr(ctype, "boundary=");
	size_t n;

	if (!p)
		return false;
	p += 9;
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else {
		n = strcspn(p, "; \t");
	}
	if (n == 0 || n >= size)
		return false;
	memcpy(b, p, n);
	b[n] = '\0';
	return true;
}

/* End of the header block at h: the first empty line. Sets *body. */
static const char *headers_end(const char *h, const char *end, const char **body)
{
	for (const char *p = h; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			*body = eol + 1;
			return p;
		}
		p = eol + 1;
	}
	*body = end;
	return end;
}

static enum ud_kind mime_kind(const char *ctype)
{
	char t[128];
	size_t n = strcspn(ctype, "; \t");

	if (n >= sizeof(t))
		return UD_UNKNOWN;
	memcpy(t, ctype, n);
	t[n] = '\0';
	if (!strcasecmp(t, "text/cloud-config"))
		return UD_CLOUD_CONFIG;
	if (!strcasecmp(t, "text/x-shellscript"))
		return UD_SCRIPT;
	if (!strcasecmp(t, "text/x-shellscript-per-boot"))
		return UD_SCRIPT_BOOT;
	if (!strcasecmp(t, "text/x-shellscript-per-instance"))
		return UD_SCRIPT_INSTANCE;
	if (!strcasecmp(t, "text/x-shellscript-per-once"))
		return UD_SCRIPT_ONCE;
	return UD_UNKNOWN;
}

static void mime_part(const char *src, int idx, const char *p, const char *end, struct ud_sink *s)
{
	char ctype[256] = "text/plain", enc[64] = "", name[300];
	const char *body, *hend = headers_end(p, end, &body);
	size_t blen = (size_t)(end - body);
	enum ud_kind k;

	header(p, hend, "Content-Type", ctype, sizeof(ctype));
	header(p, hend, "Content-Transfer-Encoding", enc, sizeof(enc));
	snprintf(name, sizeof(name), "%s: MIME part %d (%.100s)", src, idx, ctype);
	k = mime_kind(ctype);
	if (k == UD_UNKNOWN) {
		s->warn(s->ctx, "%s: unsupported part type, ignored", name);
		return;
	}
	if (!strcasecmp(enc, "base64")) {
		unsigned char *dec = malloc(blen + 1);
		ssize_t dl = dec ? b64_decode(body, blen, dec, blen) : -1;
		if (dl < 0)
			s->warn(s->ctx, "%s: invalid base64, ignored", name);
		else
			s->part(s->ctx, k, name, (const char *)dec, (size_t)dl);
		free(dec);
		return;
	}
	s->part(s->ctx, k, name, body, blen);
}

static void mime_split(const char *src, const char *data, size_t len, struct ud_sink *s)
{
	const char *end = data + len, *body, *hend = headers_end(data, end, &body);
	char ctype[512] = "", b[200], delim[210];
	const char *p;
	int idx = 0;

	header(data, hend, "Content-Type", ctype, sizeof(ctype));
	if (strncasecmp(ctype, "multipart/", 10) != 0) {
		/* a single non-multipart MIME message: one part */
		mime_part(src, 1, data, end, s);
		return;
	}
	if (!boundary_of(ctype, b, sizeof(b))) {
		s->warn(s->ctx, "%s: MIME multipart without a boundary, nothing applied", src);
		return;
	}
	snprintf(delim, sizeof(delim), "--%s", b);
	p = memmem(body, (size_t)(end - body), delim, strlen(delim));
	while (p) {
		const char *start = p + strlen(delim), *next;
		if (start + 2 <= end && start[0] == '-' && start[1] == '-')
			break; /* closing delimiter */
		start = memchr(start, '\n', (size_t)(end - start));
		if (!start)
			break;
		start++;
		next = memmem(start, (size_t)(end - start), delim, strlen(delim));
		const char *pend = next ? next : end;
		/* the line break before a delimiter belongs to the delimiter */
		if (pend > start && pend[-1] == '\n')
			pend--;
		if (pend > start && pend[-1] == '\r')
			pend--;
		mime_part(src, ++idx, start, pend, s);
		p = next;
	}
	if (idx == 0)
		s->warn(s->ctx, "%s: MIME multipart with no parts", src);
}

void ud_split(const char *src, const char *data, size_t len, struct ud_sink *s)
{
	enum ud_kind k = ud_detect(data, len);

	switch (k) {
	case UD_CLOUD_CONFIG:
	case UD_SCRIPT:
	case UD_SCRIPT_BOOT: /* only MIME gives these */
	case UD_SCRIPT_INSTANCE:
	case UD_SCRIPT_ONCE:
		s->part(s->ctx, k, src, data, len);
		break;
	case UD_MIME:
		mime_split(src, data, len, s);
		break;
	case UD_GZIP:
		s->warn(s->ctx, "%s: gzip-compressed twice, nothing applied", src);
		break;
	case UD_EMPTY:
		break;
	case UD_UNKNOWN:
		s->warn(s->ctx,
			"%s: not #cloud-config, a #! script or MIME multipart; nothing applied",
			src);
		break;
	}
}
