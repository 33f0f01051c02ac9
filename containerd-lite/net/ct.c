/*
 * net/ct.c: a detached container's connection-tracking entries deleted
 * (ctnetlink). Left alone, a UDP flow to a published port keeps its DNAT
 * mapping for as long as the client keeps sending (each packet renews it):
 * a container restarted at another address would never see that client,
 * and a TCP entry lives for days. conntrack(8) -D does the same: dump the
 * table, then delete each entry by its original tuple and id.
 *
 * The kernel of 6.1 flushes by mark only (its CTA_FILTER is for dumps), so
 * the entries are chosen here: any whose original or reply tuple has the
 * address as its source or destination (DNAT'd clients are in the reply's
 * source; what the container opened, in the original's): its IPv4 address
 * and, where the network has it, its IPv6 ULA.
 *
 * net_ct_limit: the host's conntrack table (nf_conntrack_max entries, 4096
 * on a 512 MiB host: the kernel sizes it by memory) is shared by the host's
 * own connections and every container's it forwards. A full table drops a
 * new connection's first packet unless an entry not yet assured can be
 * evicted, and a container's TCP connections to a server of its own are
 * assured, so one container could keep the host's SSH, its pulls and its
 * metadata service's connections from being made. Each container may open
 * a quarter of the table in each family (nat.c's ctlimit chain).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_doomed {
	uint32_t addr;	   /* network order */
	uint8_t addr6[16]; /* all zero: none */
	/* each: the family's byte, then copies of CTA_TUPLE_ORIG and CTA_ID */
	uint8_t **tuples;
	size_t n, cap;
	int err;
};

static struct nl_msg *ct_msg(int type, int flags, int family)
{
	struct nl_msg *m = nlmsg_alloc();
	struct nfgenmsg g = {.nfgen_family = (uint8_t)family, .version = NFNETLINK_V0};

	if (m && (!nlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, (NFNL_SUBSYS_CTNETLINK << 8) | type, 0,
			     NLM_F_REQUEST | flags) ||
		  nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* Does the tuple nest T (CTA_TUPLE_ORIG or _REPLY) name D's address either way? */
static bool names(const struct nlattr *t, const struct ct_doomed *d)
{
	static const uint8_t none[16];
	struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1];

	if (!t || nla_parse_nested(tb, CTA_TUPLE_MAX, (struct nlattr *)t, NULL) < 0 ||
	    !tb[CTA_TUPLE_IP] || nla_parse_nested(ip, CTA_IP_MAX, tb[CTA_TUPLE_IP], NULL) < 0)
		return false;
	for (int k = CTA_IP_V4_SRC; k <= CTA_IP_V6_DST; k++) {
		const void *want = k <= CTA_IP_V4_DST ? (const void *)&d->addr : d->addr6;
		int len = k <= CTA_IP_V4_DST ? 4 : 16;
		if (ip[k] && nla_len(ip[k]) == len && memcmp(nla_data(ip[k]), want, len) == 0 &&
		    memcmp(want, none, (size_t)len) != 0)
			return true;
	}
	return false;
}

/* Keeps the family, ORIG and ID, back to back, for the delete request. */
static void doom(struct ct_doomed *d, uint8_t family, const struct nlattr *orig,
		 const struct nlattr *id)
{
	size_t a = (size_t)nla_total_size(nla_len(orig)), b = (size_t)nla_total_size(nla_len(id));
	uint8_t *copy;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		uint8_t **v = realloc(d->tuples, cap * sizeof(*v));
		if (!v) {
			d->err = ENOMEM;
			return;
		}
		d->tuples = v;
		d->cap = cap;
	}
	if (!(copy = calloc(1, NLA_ALIGNTO + a + b))) {
		d->err = ENOMEM;
		return;
	}
	copy[0] = family;
	memcpy(copy + NLA_ALIGNTO, orig, (size_t)orig->nla_len);
	memcpy(copy + NLA_ALIGNTO + a, id, (size_t)id->nla_len);
	d->tuples[d->n++] = copy;
}

static int each_entry(struct nl_msg *m, void *arg)
{
	struct ct_doomed *d = arg;
	struct nlattr *tb[CTA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(m), sizeof(struct nfgenmsg), tb, CTA_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[CTA_TUPLE_ORIG] && tb[CTA_ID] &&
	    (names(tb[CTA_TUPLE_ORIG], d) || names(tb[CTA_TUPLE_REPLY], d)))
		doom(d, ((struct nfgenmsg *)nlmsg_data(nlmsg_hdr(m)))->nfgen_family,
		     tb[CTA_TUPLE_ORIG], tb[CTA_ID]);
	return NL_OK;
}

static int dump(struct nl_sock *sk, struct ct_doomed *d)
{
	struct nl_msg *m = ct_msg(IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC); /* both */
	int r;

	if (!m)
		return -NLE_NOMEM;
	r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r < 0)
		return r;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, each_entry, d);
	return nl_recvmsgs_default(sk);
}

/* One entry gone (what doom() kept); one that ended meanwhile is fine. */
static int forget(struct nl_sock *sk, const uint8_t *kept)
{
	const struct nlattr *orig = (const void *)(kept + NLA_ALIGNTO);
	const struct nlattr *id =
	    (const void *)((const char *)orig + nla_total_size(nla_len(orig)));
	struct nl_msg *m = ct_msg(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, kept[0]);
	int r;

	if (!m)
		return -NLE_NOMEM;
	nla_put(m, orig->nla_type, nla_len(orig), nla_data(orig));
	nla_put(m, id->nla_type, nla_len(id), nla_data(id));
	r = nl_send_sync(sk, m); /* frees m */
	return r == -NLE_OBJ_NOTFOUND ? 0 : r;
}

int net_ct_forget(const struct net_cfg *c, uint32_t addr, struct cl_err *e)
{
	struct ct_doomed d = {.addr = htonl(addr)};
	struct nl_sock *sk = nl_socket_alloc();
	char ip[16];
	int r = -NLE_NOMEM;

	if (c->v6)
		net_addr6(c, addr, d.addr6);
	if (sk && (r = nl_connect(sk, NETLINK_NETFILTER)) >= 0 && (r = dump(sk, &d)) >= 0) {
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
		for (size_t i = 0; i < d.n && r >= 0; i++)
			r = forget(sk, d.tuples[i]);
	}
	for (size_t i = 0; i < d.n; i++)
		free(d.tuples[i]);
	free(d.tuples);
	nl_socket_free(sk);
	net_ntoa(addr, ip);
	if (r < 0)
		return cl_error(e, 0, "conntrack entries of %s: %s", ip, nl_geterror(r));
	if (d.err)
		return cl_error(e, d.err, "conntrack entries of %s", ip);
	return 0;
}

uint32_t net_ct_limit(void)
{
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_max", "re");
	unsigned long max = 0;

	if (f && fscanf(f, "%lu", &max) != 1)
		max = 0;
	if (f)
		fclose(f);
	return max > UINT32_MAX ? UINT32_MAX / 4 : (uint32_t)(max / 4);
}
