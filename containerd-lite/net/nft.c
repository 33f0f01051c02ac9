/*
 * net/nft.c: nf_tables messages for the container networks' rules
 * (net/nat.c), built with libnl's nl_msg over NETLINK_NETFILTER: Debian's
 * libnftnl and nftables sources cannot be fetched on the build machines,
 * and the kernel's uapi nf_tables.h names every attribute. A batch is
 * applied by the kernel atomically, or not at all.
 *
 * Expressions work on register 1 (and 2 for a NAT's port), as nft's own
 * code does: a load (payload, meta, fib, ct), then a compare. The values
 * compared are in the register's byte order: network order for packet
 * fields, host order for what the kernel computes (fib type, ct status).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct nft_batch {
	int family; /* of the next messages: NFPROTO_IPV4 ("ip"), _IPV6, _INET, _BRIDGE */
	char *buf;
	size_t len, cap;
	unsigned nacks;
	int err; /* a message could not be made */
};

struct nft_batch *nft_batch_new(int family)
{
	struct nft_batch *b = calloc(1, sizeof(struct nft_batch));

	if (b)
		b->family = family;
	return b;
}

void nft_batch_family(struct nft_batch *b, int family)
{
	b->family = family;
}

void nft_batch_free(struct nft_batch *b)
{
	if (b)
		free(b->buf);
	free(b);
}

/* Appends MSG (its own sequence number) to the batch, and frees it. */
static void add(struct nft_batch *b, struct nl_msg *msg)
{
	struct nlmsghdr *h = msg ? nlmsg_hdr(msg) : NULL;
	size_t n = h ? NLMSG_ALIGN(h->nlmsg_len) : 0;

	if (!h) {
		b->err = 1;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 8192) + n;
		char *p = realloc(b->buf, cap);
		if (!p) {
			b->err = 1;
			nlmsg_free(msg);
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	h->nlmsg_seq = (uint32_t)(b->len + 1);
	memcpy(b->buf + b->len, h, h->nlmsg_len);
	memset(b->buf + b->len + h->nlmsg_len, 0, n - h->nlmsg_len);
	b->len += n;
	b->nacks += (h->nlmsg_flags & NLM_F_ACK) != 0;
	nlmsg_free(msg);
}

/* A message of TYPE with the nfnetlink header every nf_tables message has. */
static struct nl_msg *msg_new(int type, int flags, int family, int subsys)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nfgenmsg *g;

	if (!msg ||
	    !nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, sizeof(*g), NLM_F_REQUEST | flags)) {
		nlmsg_free(msg);
		return NULL;
	}
	g = nlmsg_data(nlmsg_hdr(msg));
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	g->res_id = htons((uint16_t)subsys);
	return msg;
}

static struct nl_msg *nft_new(const struct nft_batch *b, int op, int flags)
{
	return msg_new((NFNL_SUBSYS_NFTABLES << 8) | op, flags | NLM_F_ACK, b->family, 0);
}

void nft_begin(struct nft_batch *b)
{
	add(b, msg_new(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

void nft_table(struct nft_batch *b, int op, const char *table)
{
	struct nl_msg *m = nft_new(b, op, op == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);

	if (m)
		nla_put_string(m, NFTA_TABLE_NAME, table);
	add(b, m);
}

/* Only where there is none: a batch making one that is there fails (EEXIST). */
void nft_table_new(struct nft_batch *b, const char *table)
{
	struct nl_msg *m = nft_new(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);

	if (m)
		nla_put_string(m, NFTA_TABLE_NAME, table);
	add(b, m);
}

void nft_chain(struct nft_batch *b, const char *table, const char *chain, const char *type,
	       int hook, int prio, int policy)
{
	struct nl_msg *m = nft_new(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	struct nlattr *h;

	if (m) {
		nla_put_string(m, NFTA_CHAIN_TABLE, table);
		nla_put_string(m, NFTA_CHAIN_NAME, chain);
	}
	if (m && type) {
		h = nla_nest_start(m, NFTA_CHAIN_HOOK);
		nla_put_u32(m, NFTA_HOOK_HOOKNUM, htonl((uint32_t)hook));
		nla_put_u32(m, NFTA_HOOK_PRIORITY, htonl((uint32_t)prio));
		nla_nest_end(m, h);
		nla_put_string(m, NFTA_CHAIN_TYPE, type);
		if (policy >= 0)
			nla_put_u32(m, NFTA_CHAIN_POLICY, htonl((uint32_t)policy));
	}
	add(b, m);
}

void nft_rule_begin(const struct nft_batch *b, struct nft_rule *r, const char *table,
		    const char *chain)
{
	r->m = nft_new(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	r->list = NULL;
	if (r->m) {
		nla_put_string(r->m, NFTA_RULE_TABLE, table);
		nla_put_string(r->m, NFTA_RULE_CHAIN, chain);
		r->list = nla_nest_start(r->m, NFTA_RULE_EXPRESSIONS);
	}
}

void nft_rule_end(struct nft_batch *b, struct nft_rule *r)
{
	if (r->m && r->list)
		nla_nest_end(r->m, r->list);
	add(b, r->m);
	r->m = NULL;
}

void nft_end(struct nft_batch *b)
{
	add(b, msg_new(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

/* One expression: NAME and its u32 attributes, (type, value) pairs, big-endian
 * as the kernel reads them; VTYPE, when not 0, a data attribute of LEN bytes. */
/* ATTR holding V as an nft data value (NFTA_DATA_VALUE nested in it) */
static void data_value(struct nl_msg *m, int attr, const void *v, int len)
{
	struct nlattr *d = nla_nest_start(m, attr);

	nla_put(m, NFTA_DATA_VALUE, len, v);
	nla_nest_end(m, d);
}

static void expr(struct nl_msg *m, const char *name, const int *pairs, size_t n, int vtype,
		 const void *v, int len)
{
	struct nlattr *elem, *data;

	if (!m)
		return;
	elem = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, name);
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	for (size_t i = 0; i + 1 < n; i += 2)
		nla_put_u32(m, pairs[i], htonl((uint32_t)pairs[i + 1]));
	if (vtype)
		data_value(m, vtype, v, len);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

#define PAIRS(...) (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int)

void nft_payload(struct nl_msg *m, int base, int offset, int len)
{
	expr(m, "payload",
	     PAIRS(NFTA_PAYLOAD_DREG, NFT_REG_1, NFTA_PAYLOAD_BASE, base, NFTA_PAYLOAD_OFFSET,
		   offset, NFTA_PAYLOAD_LEN, len),
	     0, NULL, 0);
}

void nft_meta(struct nl_msg *m, int key)
{
	expr(m, "meta", PAIRS(NFTA_META_DREG, NFT_REG_1, NFTA_META_KEY, key), 0, NULL, 0);
}

void nft_fib_daddr_type(struct nl_msg *m)
{
	expr(m, "fib",
	     PAIRS(NFTA_FIB_DREG, NFT_REG_1, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE,
		   NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR),
	     0, NULL, 0);
}

void nft_ct(struct nl_msg *m, int key)
{
	expr(m, "ct", PAIRS(NFTA_CT_DREG, NFT_REG_1, NFTA_CT_KEY, key), 0, NULL, 0);
}

void nft_ct_count_over(struct nl_msg *m, uint32_t limit)
{
	expr(m, "connlimit",
	     PAIRS(NFTA_CONNLIMIT_COUNT, (int)limit, NFTA_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV), 0,
	     NULL, 0);
}

void nft_cmp(struct nl_msg *m, int op, const void *v, int len)
{
	expr(m, "cmp", PAIRS(NFTA_CMP_SREG, NFT_REG_1, NFTA_CMP_OP, op), NFTA_CMP_DATA, v, len);
}

/* meta KEY (an interface name) OP NAME: all of IFNAMSIZ, zero-padded as the kernel keeps it */
void nft_ifname(struct nl_msg *m, int key, const char *name, int op)
{
	char v[16] = {0};

	memcpy(v, name, strnlen(name, sizeof(v) - 1));
	nft_meta(m, key);
	nft_cmp(m, op, v, (int)sizeof(v));
}

/* ct KEY & BITS != 0 (ct state's or status's bits, in host order as the kernel keeps them) */
void nft_ct_any(struct nl_msg *m, int key, uint32_t bits)
{
	uint32_t zero = 0;

	nft_ct(m, key);
	nft_mask(m, &bits, 4);
	nft_cmp(m, NFT_CMP_NEQ, &zero, 4);
}

/* meta l4proto PROTO, then LEN bytes at OFFSET of its header == V: the ICMP
 * type (offset 0, 1 byte) or the destination port (2, 2, big-endian) */
void nft_l4(struct nl_msg *m, uint8_t proto, int offset, const void *v, int len)
{
	nft_meta(m, NFT_META_L4PROTO);
	nft_cmp(m, NFT_CMP_EQ, &proto, 1);
	nft_payload(m, NFT_PAYLOAD_TRANSPORT_HEADER, offset, len);
	nft_cmp(m, NFT_CMP_EQ, v, len);
}

/* register 1 compared with FROM..TO (LEN bytes each, big-endian: memcmp's order);
 * OP NFT_RANGE_EQ: within, NFT_RANGE_NEQ: outside */
void nft_range(struct nl_msg *m, int op, const void *from, const void *to, int len)
{
	struct nlattr *elem, *data;

	if (!m)
		return;
	elem = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "range");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_u32(m, NFTA_RANGE_SREG, htonl(NFT_REG_1));
	nla_put_u32(m, NFTA_RANGE_OP, htonl((uint32_t)op));
	data_value(m, NFTA_RANGE_FROM_DATA, from, len);
	data_value(m, NFTA_RANGE_TO_DATA, to, len);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

/* register 1 &= MASK (the xor a bitwise expression also needs is zero) */
void nft_mask(struct nl_msg *m, const void *mask, int len)
{
	static const char zero[16];
	struct nlattr *elem, *data;

	if (!m)
		return;
	elem = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "bitwise");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_u32(m, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	nla_put_u32(m, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	nla_put_u32(m, NFTA_BITWISE_LEN, htonl((uint32_t)len));
	data_value(m, NFTA_BITWISE_MASK, mask, len);
	data_value(m, NFTA_BITWISE_XOR, zero, len);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

void nft_imm(struct nl_msg *m, int reg, const void *v, int len)
{
	expr(m, "immediate", PAIRS(NFTA_IMMEDIATE_DREG, reg), NFTA_IMMEDIATE_DATA, v, len);
}

/* The verdict CODE; CHAIN: the chain it jumps to or goes to (NFT_JUMP, NFT_GOTO). */
static void verdict_data(struct nl_msg *m, int code, const char *chain)
{
	struct nlattr *v = nla_nest_start(m, NFTA_DATA_VERDICT);

	nla_put_u32(m, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain)
		nla_put_string(m, NFTA_VERDICT_CHAIN, chain);
	nla_nest_end(m, v);
}

/* An immediate verdict: CODE, and CHAIN as verdict_data's. */
static void verdict(struct nl_msg *m, int code, const char *chain)
{
	struct nlattr *elem, *data, *d;

	if (!m)
		return;
	elem = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "immediate");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_u32(m, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	d = nla_nest_start(m, NFTA_IMMEDIATE_DATA);
	verdict_data(m, code, chain);
	nla_nest_end(m, d);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

void nft_verdict(struct nl_msg *m, int code)
{
	verdict(m, code, NULL);
}

void nft_goto(struct nl_msg *m, const char *chain)
{
	verdict(m, NFT_GOTO, chain);
}

/* The anonymous map ID of the batch (nft's "vmap { ... }"): interface
 * names to verdicts, a hash (O(1) a lookup), filled with nft_vmap_goto
 * before a rule's nft_vmap binds it, which leaves it constant. The kernel
 * names it __mapN; this batch's messages find it by ID. */
#define VMAP_NAME   "__map%d"
#define TYPE_IFNAME 41 /* nft's type of the keys, for its listing */

void nft_vmap_new(struct nft_batch *b, const char *table, uint32_t id)
{
	struct nl_msg *m = nft_new(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	/* for nft alone, which reads keys big-endian unless told: libnftnl's
	 * user data, record 0 (the keys' byte order), 4 bytes, 1 (host's) */
	uint8_t udata[6] = {0, 4};
	uint32_t host = 1;

	memcpy(udata + 2, &host, sizeof(host));

	if (m) {
		nla_put_string(m, NFTA_SET_TABLE, table);
		nla_put_string(m, NFTA_SET_NAME, VMAP_NAME);
		nla_put_u32(m, NFTA_SET_FLAGS,
			    htonl(NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP));
		nla_put_u32(m, NFTA_SET_KEY_TYPE, htonl(TYPE_IFNAME));
		nla_put_u32(m, NFTA_SET_KEY_LEN, htonl(IFNAMSIZ));
		nla_put_u32(m, NFTA_SET_DATA_TYPE, htonl(NFT_DATA_VERDICT));
		nla_put_u32(m, NFTA_SET_ID, htonl(id));
		nla_put(m, NFTA_SET_USERDATA, sizeof(udata), udata);
	}
	add(b, m);
}

/* Map ID's element: interface IFNAME goes to CHAIN. */
void nft_vmap_goto(struct nft_batch *b, const char *table, uint32_t id, const char *ifname,
		   const char *chain)
{
	struct nl_msg *m = nft_new(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	struct nlattr *list, *elem, *d;
	char key[IFNAMSIZ] = {0};

	memcpy(key, ifname, strnlen(ifname, sizeof(key) - 1)); /* zero-padded, as the kernel's */
	if (m) {
		nla_put_string(m, NFTA_SET_ELEM_LIST_TABLE, table);
		nla_put_string(m, NFTA_SET_ELEM_LIST_SET, VMAP_NAME);
		nla_put_u32(m, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
		list = nla_nest_start(m, NFTA_SET_ELEM_LIST_ELEMENTS);
		elem = nla_nest_start(m, NFTA_LIST_ELEM);
		data_value(m, NFTA_SET_ELEM_KEY, key, sizeof(key));
		d = nla_nest_start(m, NFTA_SET_ELEM_DATA);
		verdict_data(m, NFT_GOTO, chain);
		nla_nest_end(m, d);
		nla_nest_end(m, elem);
		nla_nest_end(m, list);
	}
	add(b, m);
}

/* Register 1 looked up in map ID: the element's verdict is the rule's; none, the next rule. */
void nft_vmap(struct nl_msg *m, uint32_t id)
{
	struct nlattr *elem, *data;

	if (!m)
		return;
	elem = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "lookup");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_string(m, NFTA_LOOKUP_SET, VMAP_NAME);
	nla_put_u32(m, NFTA_LOOKUP_SET_ID, htonl(id));
	nla_put_u32(m, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	nla_put_u32(m, NFTA_LOOKUP_DREG, htonl(NFT_REG_VERDICT));
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

/* dnat to the address (of FAMILY) in register 1, the port in register 2 */
void nft_dnat(struct nl_msg *m, int family)
{
	expr(m, "nat",
	     PAIRS(NFTA_NAT_TYPE, NFT_NAT_DNAT, NFTA_NAT_FAMILY, family, NFTA_NAT_REG_ADDR_MIN,
		   NFT_REG_1, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2),
	     0, NULL, 0);
}

void nft_masq(struct nl_msg *m)
{
	expr(m, "masq", NULL, 0, 0, NULL, 0);
}

/* Room for every ack: the kernel queues them all while sendto() runs, and libnl's
 * 32 KiB receive buffer holds ~40 (each a small skb of ~800 bytes truesize); a
 * fuller queue drops the rest (ENOBUFS, libnl's "Out of memory") after the batch
 * was applied. Forced past rmem_max, as nft does, when the caller may (root). */
static void ack_room(struct nl_sock *sk, unsigned nacks)
{
	int fd = nl_socket_get_fd(sk), size = 32768 + (int)nacks * 1024;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Room for the whole batch, one sendto(): the kernel refuses a message past
 * the socket's send buffer (EMSGSIZE), which libnl leaves at 64 KiB, the
 * tables of about eight containers. Forced past wmem_max, as nft does. */
static void send_room(struct nl_sock *sk, size_t len)
{
	int fd = nl_socket_get_fd(sk), size = (int)len + 4096;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Sends the batch and reads one answer per message that asked for an ack. */
int nft_batch_send(struct nft_batch *b, struct cl_err *e)
{
	struct nl_sock *sk;
	int r = -NLE_NOMEM;

	if (b->err)
		return cl_error(e, ENOMEM, "nftables: a message could not be made");
	if ((sk = nl_socket_alloc()) && (r = nl_connect(sk, NETLINK_NETFILTER)) >= 0) {
		nl_socket_disable_seq_check(sk);
		ack_room(sk, b->nacks);
		send_room(sk, b->len);
		r = nl_sendto(sk, b->buf, b->len);
		for (unsigned i = 0; r >= 0 && i < b->nacks; i++)
			r = nl_wait_for_ack(sk);
	}
	if (sk)
		nl_socket_free(sk);
	if (r == -NLE_EXIST)
		return cl_error(e, EEXIST, "nftables");
	return r < 0 ? cl_error(e, 0, "nftables: %s", nl_geterror(r)) : 0;
}
