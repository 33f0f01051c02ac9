/*
 * net_nat.c: a container network's nftables table, `wisp-NAME` (family
 * ip), made whole from the network's leases at every attach and detach
 * (under the lease lock), in one batch the kernel applies atomically:
 * add the table, delete it with whatever an earlier run left in it, add
 * it again with every chain and rule. So the rules always match the
 * running containers, and a container's start or stop is one batch. As
 * nft would print them (docs/network.md, "Container networks"):
 *
 *   chain raw         { type filter hook prerouting priority -300
 *     iifname "wisp0" ip daddr 127.0.0.0/8 drop }
 *   chain prerouting  { type nat hook prerouting priority -100
 *     [ip daddr HOST_IP | fib daddr type local] meta l4proto tcp th dport 8080
 *         dnat to 10.88.0.2:80 }                           (one per port)
 *   chain output      { type nat hook output priority -100      (the same) }
 *   chain postrouting { type nat hook postrouting priority 100
 *     ip saddr 10.88.0.0/16 oifname != "wisp0" masquerade
 *     ip saddr 127.0.0.0/8 oifname "wisp0" masquerade
 *     ip saddr 10.88.0.0/16 oifname "wisp0" ct status dnat masquerade }
 *
 * Published ports are docker's without its userland proxy: DNAT keeps the
 * client's address. The host's own connections to 127.0.0.1:PORT need
 * route_localnet on the bridge, which would let a container send to the
 * host's loopback services: the raw chain drops that first (the hole
 * kube-proxy had, CVE-2020-8558). A container reaching a published port
 * of the bridge ("hairpin") is masqueraded, or the answer would bypass
 * the NAT. With no lease left the table goes, and IPv4 forwarding is off.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ip_addr_in(struct nl_msg *m, int offset, uint32_t net, unsigned prefix)
{
	uint32_t mask = htonl(prefix ? ~0u << (32 - prefix) : 0), v = htonl(net);

	nft_payload(m, NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
	if (prefix < 32)
		nft_mask(m, &mask, 4);
	nft_cmp(m, NFT_CMP_EQ, &v, 4);
}

static void rule_raw(struct nft_batch *b, const char *t, const struct net_cfg *c)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, t, "raw");
	nft_ifname(r.m, NFT_META_IIFNAME, c->name, NFT_CMP_EQ, false);
	ip_addr_in(r.m, 16, 0x7f000000, 8);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(b, &r);
}

static void rule_dnat(struct nft_batch *b, const char *t, const char *chain, uint32_t addr,
		      const struct net_port *p)
{
	uint32_t local = RTN_LOCAL, to = htonl(addr);
	uint16_t dport = htons(p->host_port), port = htons(p->ctr_port);
	struct nft_rule r;

	nft_rule_begin(b, &r, t, chain);
	if (p->host_ip) {
		ip_addr_in(r.m, 16, p->host_ip, 32);
	} else {
		nft_fib_daddr_type(r.m);
		nft_cmp(r.m, NFT_CMP_EQ, &local, 4);
	}
	nft_l4(r.m, p->proto, 2, &dport, 2);
	nft_imm(r.m, NFT_REG_1, &to, 4);
	nft_imm(r.m, NFT_REG_2, &port, 2);
	nft_dnat(r.m);
	nft_rule_end(b, &r);
}

static void rules_masq(struct nft_batch *b, const char *t, const struct net_cfg *c)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, t, "postrouting");
	ip_addr_in(r.m, 12, c->net, c->prefix);
	nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_NEQ, false);
	nft_masq(r.m);
	nft_rule_end(b, &r);
	nft_rule_begin(b, &r, t, "postrouting");
	ip_addr_in(r.m, 12, 0x7f000000, 8);
	nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_EQ, false);
	nft_masq(r.m);
	nft_rule_end(b, &r);
	nft_rule_begin(b, &r, t, "postrouting");
	ip_addr_in(r.m, 12, c->net, c->prefix);
	nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_EQ, false);
	nft_ct_any(r.m, NFT_CT_STATUS, IPS_DST_NAT);
	nft_masq(r.m);
	nft_rule_end(b, &r);
}

struct sync {
	struct nft_batch *b;
	const char *table;
	unsigned leases;
};

static int lease_rules(const struct net_lease *l, void *arg)
{
	struct sync *s = arg;

	for (unsigned i = 0; i < l->nports; i++) {
		rule_dnat(s->b, s->table, "prerouting", l->addr, &l->ports[i]);
		rule_dnat(s->b, s->table, "output", l->addr, &l->ports[i]);
	}
	return 0;
}

static int sysctl(const char *path, const char *v, struct cl_err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v)) {
		cl_error(e, errno, "%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int count(const struct net_lease *l, void *arg)
{
	(void)l;
	++*(unsigned *)arg;
	return 0;
}

static void table_whole(struct sync *s, const struct net_cfg *c)
{
	nft_table(s->b, NFT_MSG_NEWTABLE, s->table);
	nft_chain(s->b, s->table, "raw", "filter", NF_INET_PRE_ROUTING, -300, -1);
	nft_chain(s->b, s->table, "prerouting", "nat", NF_INET_PRE_ROUTING, -100, -1);
	nft_chain(s->b, s->table, "output", "nat", NF_INET_LOCAL_OUT, -100, -1);
	nft_chain(s->b, s->table, "postrouting", "nat", NF_INET_POST_ROUTING, 100, -1);
	rule_raw(s->b, s->table, c);
	rules_masq(s->b, s->table, c);
}

int net_nat_sync(const struct net_cfg *c, int dfd, struct cl_err *e)
{
	char table[32], path[96];
	struct sync s = {.b = nft_batch_new(NFPROTO_IPV4), .table = table};
	int r = -1;

	snprintf(table, sizeof(table), "wisp-%s", c->name);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", c->name);
	if (!s.b) {
		cl_error(e, ENOMEM, "nftables");
		goto out;
	}
	nft_begin(s.b);
	nft_table(s.b, NFT_MSG_NEWTABLE, table);
	nft_table(s.b, NFT_MSG_DELTABLE, table);
	/* the chains first, then the leases' rules: counted, then made */
	if (net_each_lease(dfd, count, &s.leases) < 0 ||
	    (s.leases && (table_whole(&s, c), net_each_lease(dfd, lease_rules, &s) < 0))) {
		cl_error(e, errno, "read leases");
		goto out;
	}
	nft_end(s.b);
	/* forwarding only with the masquerade in place, off before it goes */
	if ((!s.leases && sysctl("/proc/sys/net/ipv4/ip_forward", "0", e) < 0) ||
	    nft_batch_send(s.b, e) < 0 ||
	    (s.leases && sysctl("/proc/sys/net/ipv4/ip_forward", "1", e) < 0) ||
	    (s.leases && sysctl(path, "1", e) < 0))
		goto out;
	r = (int)s.leases;
out:
	nft_batch_free(s.b);
	return r < 0 ? cl_error_wrap(e, "network %s: NAT", c->name) : r;
}
