/*
 * proto.c: the control protocol's messages (docs/control-protocol.md),
 * shared by init's server (control.c) and the client (wispctl.c).
 *
 * A message is one SOCK_SEQPACKET record: an 8-byte header (magic "WP",
 * version, type, payload length) and records of tag, length, value. The
 * kernel keeps message boundaries; the length field still has to match,
 * so that a cut or padded message is caught rather than half-read. The
 * decoder never trusts a length before checking it against what arrived.
 */
#include "proto.h"

#include <errno.h>
#include <string.h>

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void pmsg_start(struct pmsg *p, unsigned type)
{
	memset(p->b, 0, PROTO_HDR);
	p->b[0] = 'W';
	p->b[1] = 'P';
	p->b[2] = PROTO_VERSION;
	p->b[3] = (unsigned char)type;
	p->len = PROTO_HDR;
	p->over = false;
}

void pmsg_bytes(struct pmsg *p, unsigned tag, const void *val, size_t len)
{
	if (p->over || len > UINT16_MAX || p->len + 3 + len > PROTO_MAX_MSG) {
		p->over = true;
		return;
	}
	p->b[p->len] = (unsigned char)tag;
	put_be(p->b + p->len + 1, len, 2);
	if (len)
		memcpy(p->b + p->len + 3, val, len);
	p->len += 3 + len;
}

void pmsg_str(struct pmsg *p, unsigned tag, const char *s)
{
	pmsg_bytes(p, tag, s, strlen(s));
}

void pmsg_u64(struct pmsg *p, unsigned tag, uint64_t v)
{
	unsigned char b[8];

	put_be(b, v, 8);
	pmsg_bytes(p, tag, b, 8);
}

void pmsg_u32(struct pmsg *p, unsigned tag, uint32_t v)
{
	unsigned char b[4];

	put_be(b, v, 4);
	pmsg_bytes(p, tag, b, 4);
}

int pmsg_end(struct pmsg *p)
{
	if (p->over)
		return -1;
	put_be(p->b + 4, p->len - PROTO_HDR, 4);
	return 0;
}

static int bad(struct err *e, const char *what)
{
	err_set(e, 0, "malformed message: %s", what);
	e->num = EBADMSG;
	return -1;
}

/* The records of a payload: each fits, none repeats. */
static int decode_records(const unsigned char *b, size_t len, struct pview *m, struct err *e)
{
	size_t off = 0;

	while (off < len) {
		unsigned tag;
		size_t vlen;

		if (len - off < 3)
			return bad(e, "record header cut short");
		tag = b[off];
		vlen = (size_t)get_be(b + off + 1, 2);
		if (tag == 0)
			return bad(e, "record tag 0");
		if (vlen > len - off - 3)
			return bad(e, "record longer than the message");
		if (pview_find(m, tag))
			return bad(e, "record tag given twice");
		if (m->n == PROTO_MAX_RECS)
			return bad(e, "too many records");
		m->rec[m->n++] = (struct precord){tag, vlen, b + off + 3};
		off += 3 + vlen;
	}
	return 0;
}

int proto_decode(const void *buf, size_t len, struct pview *m, struct err *e)
{
	const unsigned char *b = buf;
	uint64_t plen;

	memset(m, 0, sizeof(*m));
	if (len > PROTO_MAX_MSG)
		return bad(e, "longer than the maximum message size");
	if (len < PROTO_HDR)
		return bad(e, "shorter than a header");
	if (b[0] != 'W' || b[1] != 'P')
		return bad(e, "bad magic (not a Wisp control message)");
	m->version = b[2];
	m->type = b[3];
	if (m->version != PROTO_VERSION) {
		err_set(e, 0, "protocol version %u is not supported (this side speaks %u)",
			m->version, PROTO_VERSION);
		e->num = EPROTONOSUPPORT;
		return -1;
	}
	plen = get_be(b + 4, 4);
	if (plen != len - PROTO_HDR)
		return bad(e, "length field does not match the message (cut or padded)");
	return decode_records(b + PROTO_HDR, len - PROTO_HDR, m, e);
}

const struct precord *pview_find(const struct pview *m, unsigned tag)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->rec[i].tag == tag)
			return &m->rec[i];
	return NULL;
}

int pview_str(const struct pview *m, unsigned tag, char *buf, size_t size)
{
	const struct precord *r = pview_find(m, tag);

	if (!r)
		return 0;
	if (r->len >= size || memchr(r->val, '\0', r->len))
		return -1;
	memcpy(buf, r->val, r->len);
	buf[r->len] = '\0';
	return 1;
}

int pview_uint(const struct pview *m, unsigned tag, size_t width, uint64_t *v)
{
	const struct precord *r = pview_find(m, tag);

	if (!r)
		return 0;
	if (r->len != width)
		return -1;
	*v = get_be(r->val, width);
	return 1;
}

/* Which records each request takes; anything else is refused, not ignored. */
static int check_tags(const struct pview *m, unsigned allowed, struct err *e)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->rec[i].tag >= 32 || !(allowed & 1u << m->rec[i].tag))
			return bad(e, "record not valid in this request");
	return 0;
}

static int req_name(const struct pview *m, struct preq *r, struct err *e)
{
	int got = pview_str(m, PT_NAME, r->name, sizeof(r->name));

	if (got == 0)
		return bad(e, "unit name missing");
	if (got < 0 || !unit_name_valid(r->name))
		return bad(e, "unit name is not [a-z0-9][a-z0-9_.-]* (at most 64 characters)");
	return 0;
}

static int req_logs(const struct pview *m, struct preq *r, struct err *e)
{
	uint64_t v = 0;
	int got;

	if (req_name(m, r, e) < 0)
		return -1;
	got = pview_uint(m, PT_LINES, 4, &v);
	if (got < 0 || v > PROTO_MAX_LINES)
		return bad(e, "line count is not a 4-byte number up to 10000");
	r->lines = got ? (uint32_t)v : PROTO_DEFAULT_LINES;
	v = 0;
	got = pview_uint(m, PT_FOLLOW, 1, &v);
	if (got < 0 || v > 1)
		return bad(e, "follow flag is not one byte 0 or 1");
	r->follow = got && v;
	return 0;
}

int proto_request(const struct pview *m, struct preq *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->op = m->type;
	switch (m->type) {
	case P_PS:
	case P_REBOOT:
	case P_POWEROFF:
	case P_CONFIG:
	case P_IMAGES:
	case P_BOOT:
		return check_tags(m, 0, e);
	case P_STATUS:
	case P_START:
	case P_STOP:
	case P_RESTART:
		if (check_tags(m, 1u << PT_NAME, e) < 0)
			return -1;
		return req_name(m, r, e);
	case P_LOGS:
		if (check_tags(m, 1u << PT_NAME | 1u << PT_LINES | 1u << PT_FOLLOW, e) < 0)
			return -1;
		return req_logs(m, r, e);
	default:
		return bad(e, "unknown request type");
	}
}

const char *proto_op_name(unsigned op)
{
	static const char *const names[] = {
	    [P_PS] = "ps",	   [P_STATUS] = "status",     [P_LOGS] = "logs",
	    [P_START] = "start",   [P_STOP] = "stop",	      [P_RESTART] = "restart",
	    [P_REBOOT] = "reboot", [P_POWEROFF] = "poweroff", [P_CONFIG] = "config",
	    [P_IMAGES] = "images", [P_BOOT] = "boot",
	};

	return op < ARRAY_LEN(names) && names[op] ? names[op] : NULL;
}
