/* Unit tests: init/lib/proto.c, the control protocol's encoder and decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/proto.h"

#include <errno.h>
#include <string.h>

/* Decode and check a request; returns proto_decode/proto_request's result. */
static int req(const void *buf, size_t len, struct preq *r, struct err *e)
{
	struct pview m;

	if (proto_decode(buf, len, &m, e) < 0)
		return -1;
	return proto_request(&m, r, e);
}

static void start_named(struct pmsg *p, unsigned type, const char *name)
{
	pmsg_start(p, type);
	pmsg_str(p, PT_NAME, name);
}

static void test_roundtrip(void **state)
{
	struct pmsg p;
	struct preq r;
	struct err e;

	(void)state;
	pmsg_start(&p, P_PS);
	assert_int_equal(pmsg_end(&p), 0);
	assert_int_equal(p.len, PROTO_HDR);
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
	assert_int_equal(r.op, P_PS);

	for (unsigned op = P_STATUS; op <= P_RESTART; op++) {
		if (op == P_LOGS)
			continue;
		start_named(&p, op, "web-1.x_y");
		assert_int_equal(pmsg_end(&p), 0);
		assert_int_equal(req(p.b, p.len, &r, &e), 0);
		assert_int_equal(r.op, op);
		assert_string_equal(r.name, "web-1.x_y");
	}

	start_named(&p, P_LOGS, "web");
	pmsg_u32(&p, PT_LINES, 500);
	pmsg_bytes(&p, PT_FOLLOW, "\1", 1);
	assert_int_equal(pmsg_end(&p), 0);
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
	assert_int_equal(r.lines, 500);
	assert_true(r.follow);

	/* Defaults: 10 lines, no follow. */
	start_named(&p, P_LOGS, "web");
	pmsg_end(&p);
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
	assert_int_equal(r.lines, PROTO_DEFAULT_LINES);
	assert_false(r.follow);

	pmsg_start(&p, P_POWEROFF);
	pmsg_end(&p);
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
	assert_string_equal(proto_op_name(r.op), "poweroff");

	/* BOOT takes no record; a name is refused. */
	pmsg_start(&p, P_BOOT);
	pmsg_end(&p);
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
	assert_string_equal(proto_op_name(r.op), "boot");
	start_named(&p, P_BOOT, "web");
	pmsg_end(&p);
	assert_int_equal(req(p.b, p.len, &r, &e), -1);
}

static void expect_bad(const void *buf, size_t len, const char *what)
{
	struct preq r;
	struct err e;

	assert_int_equal(req(buf, len, &r, &e), -1);
	if (!strstr(e.msg, what))
		fail_msg("\"%s\" does not say \"%s\"", e.msg, what);
}

static void test_header(void **state)
{
	unsigned char buf[PROTO_MAX_MSG + 16] = {0};
	struct pmsg p;
	struct pview m;
	struct err e;

	(void)state;
	for (size_t n = 0; n < PROTO_HDR; n++)
		expect_bad("WP\1\1\0\0\0\0", n, "shorter than a header");
	expect_bad("XP\1\1\0\0\0\0", 8, "bad magic");
	expect_bad("wp\1\1\0\0\0\0", 8, "bad magic");

	/* Another version: a clear error naming both versions. */
	assert_int_equal(proto_decode("WP\2\1\0\0\0\0", 8, &m, &e), -1);
	assert_int_equal(e.num, EPROTONOSUPPORT);
	assert_non_null(strstr(e.msg, "version 2"));
	assert_int_equal(proto_decode("WP\0\1\0\0\0\0", 8, &m, &e), -1);
	assert_int_equal(e.num, EPROTONOSUPPORT);

	/* Length field against what arrived: cut, padded, huge. */
	start_named(&p, P_STATUS, "web");
	pmsg_end(&p);
	expect_bad(p.b, p.len - 1, "length field");
	memcpy(buf, p.b, p.len);
	expect_bad(buf, p.len + 1, "length field");
	memcpy(buf, "WP\1\1\xff\xff\xff\xff", 8);
	expect_bad(buf, 8, "length field");

	/* Oversized. */
	memset(buf, 0, sizeof(buf));
	expect_bad(buf, PROTO_MAX_MSG + 1, "longer than the maximum");
	assert_int_equal(proto_decode(buf, PROTO_MAX_MSG + 1, &m, &e), -1);
	assert_int_equal(e.num, EBADMSG);
}

/* A raw message: header for payload of len bytes, then payload. */
static size_t raw(unsigned char *buf, unsigned type, const void *payload, size_t len)
{
	memcpy(buf, "WP\1", 3);
	buf[3] = (unsigned char)type;
	buf[4] = (unsigned char)(len >> 24);
	buf[5] = (unsigned char)(len >> 16);
	buf[6] = (unsigned char)(len >> 8);
	buf[7] = (unsigned char)len;
	memcpy(buf + 8, payload, len);
	return 8 + len;
}

static void test_records(void **state)
{
	unsigned char buf[PROTO_MAX_MSG], pay[PROTO_MAX_MSG];
	struct pview m;
	struct err e;
	size_t n;

	(void)state;
	n = raw(buf, P_STATUS, "\1", 1);
	expect_bad(buf, n, "record header cut short");
	n = raw(buf, P_STATUS, "\1\0", 2);
	expect_bad(buf, n, "record header cut short");
	n = raw(buf, P_STATUS, "\1\0\4web", 6);
	expect_bad(buf, n, "record longer than the message");
	n = raw(buf, P_STATUS, "\1\xff\xffweb", 6);
	expect_bad(buf, n, "record longer than the message");
	n = raw(buf, P_STATUS, "\0\0\3web", 6);
	expect_bad(buf, n, "tag 0");
	n = raw(buf, P_STATUS, "\1\0\3web\1\0\3web", 12);
	expect_bad(buf, n, "given twice");

	/* More records than a message may carry (a reply type: decode only). */
	for (size_t i = 0; i <= PROTO_MAX_RECS; i++) {
		pay[3 * i] = (unsigned char)(i + 1);
		pay[3 * i + 1] = pay[3 * i + 2] = 0;
	}
	n = raw(buf, P_UNIT, pay, 3 * (PROTO_MAX_RECS + 1));
	assert_int_equal(proto_decode(buf, n, &m, &e), -1);
	assert_non_null(strstr(e.msg, "too many records"));
	n = raw(buf, P_UNIT, pay, 3 * PROTO_MAX_RECS);
	assert_int_equal(proto_decode(buf, n, &m, &e), 0);
	assert_int_equal(m.n, PROTO_MAX_RECS);

	/* Empty values are records too. */
	n = raw(buf, P_OK, "\x0b\0\0", 3);
	assert_int_equal(proto_decode(buf, n, &m, &e), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.rec[0].len, 0);
}

static void test_request_meaning(void **state)
{
	unsigned char buf[PROTO_MAX_MSG];
	struct pmsg p;
	char longname[DECL_NAME_MAX + 2];
	size_t n;

	(void)state;
	n = raw(buf, 0, "", 0);
	expect_bad(buf, n, "unknown request type");
	n = raw(buf, 99, "", 0);
	expect_bad(buf, n, "unknown request type");
	n = raw(buf, P_OK, "", 0); /* a reply is not a request */
	expect_bad(buf, n, "unknown request type");

	/* Records a request does not take are refused, not ignored. */
	start_named(&p, P_PS, "web");
	pmsg_end(&p);
	expect_bad(p.b, p.len, "not valid in this request");
	start_named(&p, P_STOP, "web");
	pmsg_u32(&p, PT_LINES, 3);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "not valid in this request");
	n = raw(buf, P_STOP, "\x40\0\0", 3);
	expect_bad(buf, n, "not valid in this request");

	/* Names. */
	pmsg_start(&p, P_START);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name missing");
	n = raw(buf, P_START, "\1\0\3w\0b", 6);
	expect_bad(buf, n, "unit name is not");
	start_named(&p, P_START, "");
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name is not");
	start_named(&p, P_START, "Web");
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name is not");
	start_named(&p, P_START, "../etc");
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name is not");
	start_named(&p, P_START, "a b");
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name is not");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	start_named(&p, P_START, longname);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name is not");
	longname[DECL_NAME_MAX] = '\0';
	start_named(&p, P_START, longname);
	pmsg_end(&p);
	struct preq r;
	struct err e;
	assert_int_equal(req(p.b, p.len, &r, &e), 0);
}

static void test_logs_fields(void **state)
{
	struct pmsg p;

	(void)state;
	start_named(&p, P_LOGS, "web");
	pmsg_u64(&p, PT_LINES, 5); /* 8 bytes, not 4 */
	pmsg_end(&p);
	expect_bad(p.b, p.len, "line count");
	start_named(&p, P_LOGS, "web");
	pmsg_u32(&p, PT_LINES, PROTO_MAX_LINES + 1);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "line count");
	start_named(&p, P_LOGS, "web");
	pmsg_bytes(&p, PT_FOLLOW, "\2", 1);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "follow flag");
	start_named(&p, P_LOGS, "web");
	pmsg_bytes(&p, PT_FOLLOW, "\0\1", 2);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "follow flag");
	pmsg_start(&p, P_LOGS);
	pmsg_end(&p);
	expect_bad(p.b, p.len, "unit name missing");
}

static void test_builder_and_view(void **state)
{
	static char big[PROTO_MAX_MSG];
	struct pmsg p;
	struct pview m;
	struct err e;
	char s[8];
	uint64_t v;

	(void)state;
	/* A record that does not fit fails the message, never cuts it. */
	memset(big, 'x', sizeof(big) - 1);
	pmsg_start(&p, P_LINES);
	pmsg_str(&p, PT_TEXT, big);
	assert_true(p.over);
	assert_int_equal(pmsg_end(&p), -1);
	pmsg_start(&p, P_LINES);
	pmsg_bytes(&p, PT_TEXT, big, PROTO_MAX_MSG - PROTO_HDR - 3);
	assert_int_equal(pmsg_end(&p), 0);
	assert_int_equal(p.len, PROTO_MAX_MSG);
	assert_int_equal(proto_decode(p.b, p.len, &m, &e), 0);

	pmsg_start(&p, P_UNIT);
	pmsg_str(&p, PT_NAME, "web");
	pmsg_u32(&p, PT_PID, 4242);
	pmsg_u64(&p, PT_UPTIME, 1ull << 40);
	pmsg_bytes(&p, PT_HEALTH, "a\0b", 3);
	assert_int_equal(pmsg_end(&p), 0);
	assert_int_equal(proto_decode(p.b, p.len, &m, &e), 0);
	assert_int_equal(pview_str(&m, PT_NAME, s, sizeof(s)), 1);
	assert_string_equal(s, "web");
	assert_int_equal(pview_str(&m, PT_NAME, s, 3), -1);	      /* does not fit */
	assert_int_equal(pview_str(&m, PT_HEALTH, s, sizeof(s)), -1); /* holds a NUL */
	assert_int_equal(pview_str(&m, PT_STATE, s, sizeof(s)), 0);
	assert_int_equal(pview_uint(&m, PT_PID, 4, &v), 1);
	assert_int_equal(v, 4242);
	assert_int_equal(pview_uint(&m, PT_PID, 8, &v), -1);
	assert_int_equal(pview_uint(&m, PT_UPTIME, 8, &v), 1);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(pview_uint(&m, PT_RESTARTS, 4, &v), 0);
	assert_null(proto_op_name(0));
	assert_null(proto_op_name(P_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),	cmocka_unit_test(test_header),
	    cmocka_unit_test(test_records),	cmocka_unit_test(test_request_meaning),
	    cmocka_unit_test(test_logs_fields), cmocka_unit_test(test_builder_and_view),
	};

	return cmocka_run_group_tests_name("init_proto", tests, NULL, NULL);
}
