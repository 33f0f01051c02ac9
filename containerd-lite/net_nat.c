/*
 * net_nat.c: a container network's way out (issue 13 point 2): IPv4
 * forwarding on, and an nftables table `wisp-NAME` (family ip) whose one
 * chain, of type nat on postrouting, masquerades what comes from the
 * subnet and leaves by an interface other than the bridge: Docker's
 * MASQUERADE rule, as nft would print it
 *     ip saddr 10.88.0.0/16 oifname != "wisp0" masquerade
 *
 * Debian's libnftnl and nftables sources cannot be fetched on the build
 * machines, so the nf_tables messages are built with libnl's nl_msg over
 * NETLINK_NETFILTER (the kernel's uapi nf_tables.h names every attribute).
 * They go in one batch, which the kernel applies atomically: add the
 * table, delete it (and whatever an earlier run put in it), add it again
 * with its chain and rule. So every attach leaves exactly one rule.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct batch {
	char buf[4096];
	size_t len;
	unsigned nacks;
	int err; /* a message did not fit */
};

/* Appends MSG (NLM_F_REQUEST, its own sequence number) to the batch. */
static void add(struct batch *b, struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (!msg || b->len + NLMSG_ALIGN(h->nlmsg_len) > sizeof(b->buf)) {
		b->err = -NLE_NOMEM;
	} else {
		h->nlmsg_seq = (uint32_t)(b->len + 1);
		memcpy(b->buf + b->len, h, h->nlmsg_len);
		b->len += NLMSG_ALIGN(h->nlmsg_len);
		b->nacks += (h->nlmsg_flags & NLM_F_ACK) != 0;
	}
	nlmsg_free(msg);
}

/* A message of TYPE with the nfnetlink header every nf_tables message has. */
static struct nl_msg *nft_msg(int type, int flags, int family, int subsys)
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

static struct nl_msg *table_msg(int op, int flags, const char *table)
{
	struct nl_msg *m =
	    nft_msg((NFNL_SUBSYS_NFTABLES << 8) | op, flags | NLM_F_ACK, NFPROTO_IPV4, 0);

	if (m)
		nla_put_string(m, NFTA_TABLE_NAME, table);
	return m;
}

static struct nl_msg *chain_msg(const char *table)
{
	struct nl_msg *m = nft_msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN,
				   NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4, 0);
	struct nlattr *hook;

	if (!m)
		return NULL;
	nla_put_string(m, NFTA_CHAIN_TABLE, table);
	nla_put_string(m, NFTA_CHAIN_NAME, "postrouting");
	hook = nla_nest_start(m, NFTA_CHAIN_HOOK);
	nla_put_u32(m, NFTA_HOOK_HOOKNUM, htonl(NF_INET_POST_ROUTING));
	nla_put_u32(m, NFTA_HOOK_PRIORITY, htonl(100)); /* srcnat */
	nla_nest_end(m, hook);
	nla_put_string(m, NFTA_CHAIN_TYPE, "nat");
	return m;
}

/* An expression: NAME, then its attributes as (type, big-endian u32) pairs. */
static struct nlattr *expr_begin(struct nl_msg *m, const char *name)
{
	struct nlattr *elem = nla_nest_start(m, NFTA_LIST_ELEM);

	nla_put_string(m, NFTA_EXPR_NAME, name);
	(void)elem;
	return elem;
}

static void put_u32s(struct nl_msg *m, const int *pairs, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		nla_put_u32(m, pairs[i], htonl((uint32_t)pairs[i + 1]));
}

/* A data attribute: nested NFTA_DATA_VALUE of LEN bytes. */
static void put_data(struct nl_msg *m, int type, const void *v, int len)
{
	struct nlattr *d = nla_nest_start(m, type);

	nla_put(m, NFTA_DATA_VALUE, len, v);
	nla_nest_end(m, d);
}

static void expr(struct nl_msg *m, const char *name, const int *pairs, size_t n)
{
	struct nlattr *elem = expr_begin(m, name), *data = nla_nest_start(m, NFTA_EXPR_DATA);

	put_u32s(m, pairs, n);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

/* ip saddr & mask == net */
static void saddr_in(struct nl_msg *m, const struct net_cfg *c)
{
	static const int load[] = {
	    NFTA_PAYLOAD_DREG,	 NFT_REG_1, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER,
	    NFTA_PAYLOAD_OFFSET, 12,	    NFTA_PAYLOAD_LEN,  4};
	static const int bw[] = {NFTA_BITWISE_SREG, NFT_REG_1,	      NFTA_BITWISE_DREG,
				 NFT_REG_1,	    NFTA_BITWISE_LEN, 4};
	static const int eq[] = {NFTA_CMP_SREG, NFT_REG_1, NFTA_CMP_OP, NFT_CMP_EQ};
	uint32_t mask = htonl(~0u << (32 - c->prefix)), zero = 0, net = htonl(c->net);
	struct nlattr *elem, *data;

	expr(m, "payload", load, sizeof(load) / sizeof(load[0]));
	elem = expr_begin(m, "bitwise");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	put_u32s(m, bw, sizeof(bw) / sizeof(bw[0]));
	put_data(m, NFTA_BITWISE_MASK, &mask, 4);
	put_data(m, NFTA_BITWISE_XOR, &zero, 4);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
	elem = expr_begin(m, "cmp");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	put_u32s(m, eq, sizeof(eq) / sizeof(eq[0]));
	put_data(m, NFTA_CMP_DATA, &net, 4);
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

/* oifname != the bridge */
static void not_bridge(struct nl_msg *m, const struct net_cfg *c)
{
	static const int load[] = {NFTA_META_DREG, NFT_REG_1, NFTA_META_KEY, NFT_META_OIFNAME};
	static const int ne[] = {NFTA_CMP_SREG, NFT_REG_1, NFTA_CMP_OP, NFT_CMP_NEQ};
	char name[16] = {0}; /* IFNAMSIZ, zero-padded as the kernel keeps names */
	struct nlattr *elem, *data;

	memcpy(name, c->name, strlen(c->name));
	expr(m, "meta", load, sizeof(load) / sizeof(load[0]));
	elem = expr_begin(m, "cmp");
	data = nla_nest_start(m, NFTA_EXPR_DATA);
	put_u32s(m, ne, sizeof(ne) / sizeof(ne[0]));
	put_data(m, NFTA_CMP_DATA, name, sizeof(name));
	nla_nest_end(m, data);
	nla_nest_end(m, elem);
}

static struct nl_msg *rule_msg(const char *table, const struct net_cfg *c)
{
	struct nl_msg *m = nft_msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE,
				   NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_IPV4, 0);
	struct nlattr *list;

	if (!m)
		return NULL;
	nla_put_string(m, NFTA_RULE_TABLE, table);
	nla_put_string(m, NFTA_RULE_CHAIN, "postrouting");
	list = nla_nest_start(m, NFTA_RULE_EXPRESSIONS);
	saddr_in(m, c);
	not_bridge(m, c);
	nla_nest_end(m, expr_begin(m, "masq"));
	nla_nest_end(m, list);
	return m;
}

/* Sends the batch and reads one answer per message that asked for an ack. */
static int send_batch(struct batch *b, struct cl_err *e)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r = -NLE_NOMEM;

	if (sk && (r = nl_connect(sk, NETLINK_NETFILTER)) >= 0) {
		nl_socket_disable_seq_check(sk);
		r = nl_sendto(sk, b->buf, b->len);
		for (unsigned i = 0; r >= 0 && i < b->nacks; i++)
			r = nl_wait_for_ack(sk);
	}
	if (sk)
		nl_socket_free(sk);
	return r < 0 ? cl_error(e, 0, "nftables: %s", nl_geterror(r)) : 0;
}

static int forwarding_on(struct cl_err *e)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1) {
		cl_error(e, errno, "IPv4 forwarding: /proc/sys/net/ipv4/ip_forward");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int net_nat_up(const struct net_cfg *c, struct cl_err *e)
{
	char table[32];
	struct batch *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return cl_error(e, ENOMEM, "network %s: NAT", c->name);
	snprintf(table, sizeof(table), "wisp-%s", c->name);
	add(b, nft_msg(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	add(b, table_msg(NFT_MSG_NEWTABLE, NLM_F_CREATE, table));
	add(b, table_msg(NFT_MSG_DELTABLE, 0, table));
	add(b, table_msg(NFT_MSG_NEWTABLE, NLM_F_CREATE, table));
	add(b, chain_msg(table));
	add(b, rule_msg(table, c));
	add(b, nft_msg(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	r = b->err ? cl_error(e, ENOMEM, "nftables: batch too large") : send_batch(b, e);
	free(b);
	if (r == 0)
		r = forwarding_on(e);
	return r < 0 ? cl_error_wrap(e, "network %s: NAT", c->name) : 0;
}
