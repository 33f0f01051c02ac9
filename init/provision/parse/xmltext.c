/*
 * xmltext.c: the text of a few chosen elements of an XML document, read in
 * the parser child: Azure's goal state (meta.c). Not a general parser: the
 * subset such documents use, which no library in the child reads (libyaml
 * does not, and expat would be a second library for three values). Tags,
 * attributes (skipped), comments, processing instructions, text with the
 * five predefined entities. Refused whole, with the line: a DOCTYPE (so no
 * entity is ever defined: no expansion bomb), a CDATA section, a character
 * or other entity reference, an end tag that does not close what opened,
 * more than XML_DEPTH levels, a second root, text outside the root, a
 * document cut short. Every bound is the caller's buffer or a constant.
 * Also Azure's ovf-env.xml (meta.c), whose repeated elements (PublicKey)
 * are handed one by one to the want's each(), and whose properties are
 * each wanted once: a second HostName refuses the file, as cloud-init's
 * OvfEnvXml refuses "multiple configuration matches".
 */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define XML_DEPTH   32
#define XML_PATH    512
#define XML_NAME    128
#define XML_WANTMAX 16

struct xr {
	const char *p, *end;
	int line;
	char *why;
	const struct xml_want *want;
	size_t n;
	char path[XML_PATH];	/* local names from the root, '/'-separated */
	size_t plen[XML_DEPTH]; /* path's length before each open element */
	int depth, roots;
	int cur;	/* the want whose text is being read, or -1 */
	size_t curlen;	/* its length so far */
	unsigned found; /* a bit per want filled */
};

static int fail(struct xr *x, const char *msg)
{
	snprintf(x->why, 128, "%s", msg);
	return -1;
}

static void adv(struct xr *x, size_t k)
{
	for (; k && x->p < x->end; k--, x->p++)
		x->line += *x->p == '\n';
}

static bool at(const struct xr *x, const char *s)
{
	size_t k = strlen(s);
	return (size_t)(x->end - x->p) >= k && !memcmp(x->p, s, k);
}

/* not strchr: it finds a NUL byte too, which is no blank */
static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct xr *x)
{
	while (x->p < x->end && blank(*x->p))
		adv(x, 1);
}

/* Past the next occurrence of s (the end of a comment or an instruction). */
static int skip_past(struct xr *x, const char *s)
{
	while (x->p < x->end && !at(x, s))
		adv(x, 1);
	if (x->p >= x->end)
		return fail(x, "cut short inside a comment or a processing instruction");
	adv(x, strlen(s));
	return 0;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (unsigned char)c >= 0x80 ||
	       (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

/* A name into buf; *local: what follows its last ':' (the prefix is a namespace's). */
static int read_name(struct xr *x, char *buf, const char **local)
{
	size_t k = 0;

	while (x->p < x->end && name_char(*x->p, k == 0)) {
		if (k + 1 >= XML_NAME)
			return fail(x, "a name longer than 127 bytes");
		buf[k++] = *x->p;
		adv(x, 1);
	}
	buf[k] = '\0';
	if (!k)
		return fail(x, "expected a name");
	*local = strrchr(buf, ':') ? strrchr(buf, ':') + 1 : buf;
	return **local ? 0 : fail(x, "a name with nothing after its prefix");
}

/* Attributes are skipped: NAME = "..." or '...', each checked for its form. */
static int skip_attrs(struct xr *x)
{
	char name[XML_NAME];
	const char *local, *q;

	for (skip_space(x); x->p < x->end && *x->p != '>' && *x->p != '/'; skip_space(x)) {
		if (read_name(x, name, &local) < 0)
			return -1;
		skip_space(x);
		if (x->p >= x->end || *x->p != '=')
			return fail(x, "an attribute without '='");
		adv(x, 1);
		skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return fail(x, "an attribute value without quotes");
		if (!(q = memchr(x->p + 1, *x->p, (size_t)(x->end - x->p - 1))) ||
		    memchr(x->p + 1, '<', (size_t)(q - x->p - 1)))
			return fail(x, "an attribute value not closed");
		adv(x, (size_t)(q - x->p) + 1);
	}
	return x->p < x->end ? 0 : fail(x, "cut short inside a tag");
}

/* An element opens: the want of its path starts reading (the first of its kind, or
 * each one), or a second of a once want refuses the document. */
static int open_want(struct xr *x, const char *local)
{
	char msg[128];

	x->cur = -1;
	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->path, x->want[i].path))
			continue;
		if (!(x->found & (1u << i))) {
			x->cur = (int)i, x->curlen = 0;
			x->want[i].out[0] = '\0';
			return 0;
		}
		if (x->want[i].once) {
			snprintf(msg, sizeof(msg), "a second %.110s", local);
			return fail(x, msg);
		}
	}
	return 0;
}

/* The want being read ends with its element: its text, trimmed of blanks. */
static void close_want(struct xr *x)
{
	char *s = x->want[x->cur].out;
	size_t b = strspn(s, " \t\r\n"), n = strlen(s + b);

	memmove(s, s + b, n + 1);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	if (x->want[x->cur].each) /* one of many: handed over, the next one read too */
		x->want[x->cur].each(x->want[x->cur].ctx, s);
	else
		x->found |= 1u << x->cur;
	x->cur = -1;
}

static int start_tag(struct xr *x)
{
	char name[XML_NAME];
	const char *local;
	size_t len = strlen(x->path);

	if (x->depth == 0 && x->roots++)
		return fail(x, "a second root element");
	if (x->depth >= XML_DEPTH)
		return fail(x, "more than 32 levels of elements");
	if (read_name(x, name, &local) < 0 || skip_attrs(x) < 0)
		return -1;
	if (len + 1 + strlen(local) >= XML_PATH)
		return fail(x, "elements nested too long a path");
	x->plen[x->depth++] = len;
	snprintf(x->path + len, XML_PATH - len, "%s%s", len ? "/" : "", local);
	if (x->cur < 0 && open_want(x, local) < 0)
		return -1;
	if (*x->p == '/') { /* <name/>: opened and closed */
		adv(x, 1);
		if (x->p >= x->end || *x->p != '>')
			return fail(x, "'/' not followed by '>' in a tag");
		if (x->cur >= 0 && !strcmp(x->path, x->want[x->cur].path))
			close_want(x);
		x->path[x->plen[--x->depth]] = '\0';
	}
	adv(x, 1);
	return 0;
}

static int end_tag(struct xr *x)
{
	char name[XML_NAME];
	const char *local, *open;

	if (read_name(x, name, &local) < 0)
		return -1;
	skip_space(x);
	if (x->p >= x->end || *x->p != '>')
		return fail(x, "an end tag not closed by '>'");
	adv(x, 1);
	if (!x->depth)
		return fail(x, "an end tag with no element open");
	open = x->path + x->plen[x->depth - 1] + (x->depth > 1);
	if (strcmp(open, local))
		return fail(x, "an end tag that does not match the element open");
	if (x->cur >= 0 && !strcmp(x->path, x->want[x->cur].path))
		close_want(x);
	x->path[x->plen[--x->depth]] = '\0';
	return 0;
}

/* One character of text: kept when a want's own element is open. */
static int text_char(struct xr *x, char c)
{
	const struct xml_want *w;
	bool own;

	if (!x->depth)
		return blank(c) ? 0 : fail(x, "text outside the root element");
	if (x->cur < 0)
		return 0;
	w = &x->want[x->cur];
	own = !strcmp(x->path, w->path);
	if (own && x->curlen + 1 >= w->size)
		return fail(x, "an element's text longer than its value may be");
	if (own)
		w->out[x->curlen++] = c, w->out[x->curlen] = '\0';
	return 0;
}

static const struct {
	const char *ref;
	char c;
} entities[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};

static int text(struct xr *x)
{
	if (*x->p != '&') {
		char c = *x->p;
		adv(x, 1);
		return text_char(x, c);
	}
	for (size_t i = 0; i < ARRAY_LEN(entities); i++)
		if (at(x, entities[i].ref)) {
			adv(x, strlen(entities[i].ref));
			return text_char(x, entities[i].c);
		}
	return fail(x, "a reference other than &lt; &gt; &amp; &quot; &apos;");
}

/* What starts with '<': a comment, an instruction, an end tag or a start tag. */
static int markup(struct xr *x)
{
	if (at(x, "<!--"))
		return adv(x, 4), skip_past(x, "-->");
	if (at(x, "<?"))
		return adv(x, 2), skip_past(x, "?>");
	if (at(x, "<!"))
		return fail(x, "a DOCTYPE or CDATA section (not read)");
	adv(x, 1);
	if (x->p < x->end && *x->p == '/')
		return adv(x, 1), end_tag(x);
	return start_tag(x);
}

int xml_texts(const char *buf, size_t len, const struct xml_want *want, size_t n, char *why,
	      int *line)
{
	struct xr x = {.p = buf, .end = buf + len, .line = 1, .why = why, .want = want, .n = n};
	int r = 0;

	x.cur = -1;
	if (n > XML_WANTMAX)
		return fail(&x, "too many elements wanted");
	for (size_t i = 0; i < n; i++)
		want[i].out[0] = '\0';
	while (r == 0 && x.p < x.end)
		r = *x.p == '<' ? markup(&x) : text(&x);
	if (r == 0 && (x.depth || !x.roots))
		r = fail(&x, x.roots ? "cut short (an element not closed)" : "no element");
	*line = x.line;
	for (size_t i = 0; r < 0 && i < n; i++)
		want[i].out[0] = '\0';
	return r;
}
