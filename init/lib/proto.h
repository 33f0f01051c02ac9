/*
 * lib/proto.h: the control protocol (docs/control-protocol.md), shared by
 * PID 1's control socket and wispctl.
 */
#ifndef WISP_LIB_PROTO_H
#define WISP_LIB_PROTO_H

#include "base.h"

/* ---- proto.c: control protocol messages (docs/control-protocol.md) --- */

#define CONTROL_SOCK	    "/run/wisp/control.sock"
#define PROTO_VERSION	    1
#define PROTO_HDR	    8	 /* "WP", version, type, payload length (u32 big-endian) */
#define PROTO_MAX_MSG	    4096 /* whole message, header included */
#define PROTO_MAX_RECS	    16
#define PROTO_MAX_LINES	    10000u
#define PROTO_DEFAULT_LINES 10u

/* Message types: requests (client -> init), replies (init -> client). */
enum proto_type {
	P_PS = 1,
	P_STATUS = 2,
	P_LOGS = 3,
	P_START = 4,
	P_STOP = 5,
	P_RESTART = 6,
	P_REBOOT = 7,
	P_POWEROFF = 8,
	P_CONFIG = 9,  /* cloud-init's report of this boot, as P_LINES */
	P_IMAGES = 10, /* the image store's listing, as P_LINES */
	P_BOOT = 11,   /* the boot's timeline, as P_LINES */
	P_UNIT = 0x81, /* one unit's record (ps, status) */
	P_LINES,       /* PT_TEXT: whole log lines, each ending in \n */
	P_OK,	       /* the request is done */
	P_ERROR,       /* the request failed: PT_TEXT says why */
};

/* Record tags. */
enum proto_tag {
	PT_NAME = 1,
	PT_LINES = 2,
	PT_FOLLOW = 3,
	PT_KIND = 4,
	PT_STATE = 5,
	PT_PID = 6,
	PT_UPTIME = 7,
	PT_RESTARTS = 8,
	PT_STATUS = 9,
	PT_HEALTH = 10,
	PT_TEXT = 11,
	PT_USERNS = 12,
};

struct pmsg { /* a message being built */
	unsigned char b[PROTO_MAX_MSG];
	size_t len;
	bool over; /* a record did not fit: pmsg_end() fails */
};

struct precord {
	unsigned tag;
	size_t len;
	const unsigned char *val; /* points into the decoded buffer */
};

struct pview { /* a decoded message; valid while its buffer is */
	unsigned version, type;
	size_t n;
	struct precord rec[PROTO_MAX_RECS];
};

struct preq { /* a checked request */
	unsigned op;
	char name[DECL_NAME_MAX + 1];
	uint32_t lines;
	bool follow;
};

void pmsg_start(struct pmsg *p, unsigned type);
void pmsg_bytes(struct pmsg *p, unsigned tag, const void *val, size_t len);
void pmsg_str(struct pmsg *p, unsigned tag, const char *s);
void pmsg_u32(struct pmsg *p, unsigned tag, uint32_t v);
void pmsg_u64(struct pmsg *p, unsigned tag, uint64_t v);
/* Fill in the length. Returns -1 if the message overflowed PROTO_MAX_MSG. */
int pmsg_end(struct pmsg *p);
/* Structure: header, version, length, records. e->num: EBADMSG or EPROTONOSUPPORT. */
int proto_decode(const void *buf, size_t len, struct pview *m, struct err *e);
/* Meaning: a known request with exactly the records it takes, each valid. */
int proto_request(const struct pview *m, struct preq *r, struct err *e);
const struct precord *pview_find(const struct pview *m, unsigned tag);
/* 1 found (copied, NUL-terminated), 0 absent, -1 invalid (too long, or holds a NUL). */
int pview_str(const struct pview *m, unsigned tag, char *buf, size_t size);
/* 1 found, 0 absent, -1 not exactly width bytes. Big-endian. */
int pview_uint(const struct pview *m, unsigned tag, size_t width, uint64_t *v);
const char *proto_op_name(unsigned op);

#endif /* WISP_LIB_PROTO_H */
