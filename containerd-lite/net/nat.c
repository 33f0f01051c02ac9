/*
 * net/nat.c: a container network's nftables table, `wisp-NAME` (family
 * ip), made whole from the network's leases at every attach and detach
 * (under the lease lock), in one batch the kernel applies atomically:
 * add the table, delete it with whatever an earlier run left in it, add
 * it again with every chain and rule. So the rules always match the
 * running containers, and a container's start or stop is one batch. As
 * nft would print them (docs/network.md, "Container networks"):
 *
 *   chain raw         { type filter hook prerouting priority -300
 *     iifname != "wisp0" iifname != "lo" ip daddr 10.88.0.0/16 drop   (ip6: its ULA)
 *     iifname != "lo" ip daddr 127.0.0.0/8 drop
 *     iifname "wisp0" ip daddr 169.254.169.254 drop    (ip6: fd00:ec2::254, fd20:ce::254)
 *     iifname "wisp0" ip daddr 168.63.129.16 th dport != 53 drop
 *     (and where wisp.imds=/wisp.wireserver= move them: net/imds.c) }
 *   chain ctlimit     { type filter hook prerouting priority -150
 *     iifname "wisp0" ether saddr 02:42:0a:58:00:02 ct state new ct count over 1024 drop }
 *                                     (one per lease; 1024: net_ct_limit, net/ct.c)
 *   chain prerouting  { type nat hook prerouting priority -100
 *     [ip daddr HOST_IP | fib daddr type local] meta l4proto tcp th dport 8080
 *         dnat to 10.88.0.2:80 }                           (one per port)
 *   chain output      { type nat hook output priority -100      (the same) }
 *   chain postrouting { type nat hook postrouting priority 100
 *     ip saddr 10.88.0.0/16 oifname != "wisp0" masquerade
 *     ip saddr 127.0.0.0/8 oifname "wisp0" masquerade
 *     ip saddr 10.88.0.0/16 oifname "wisp0" ct status dnat masquerade }
 *
 * The subnet is reached from its own bridge only (Docker 28's filter of
 * direct routing): not from another container network (Docker's isolation
 * of networks from each other), nor from a neighbour with a route to the
 * subnet through the host, firewall or not; published ports lead in, as
 * they are sent to a host address.
 *
 * Published ports are docker's without its userland proxy: DNAT keeps the
 * client's address. The host's own connections to 127.0.0.1:PORT need
 * route_localnet on the bridge, which would let a container send to the
 * host's loopback services: the raw chain drops that first (the hole
 * kube-proxy had, CVE-2020-8558). It drops 127.0.0.0/8 from every interface
 * but lo, before the DNAT: a neighbour on the uplink's segment sending a
 * frame to 127.0.0.1 would otherwise reach a port published on 127.0.0.1
 * only (moby#41872). And the cloud's metadata service (169.254.169.254;
 * EC2's fd00:ec2::254 and GCE's fd20:ce::254 in the ip6 table) is the
 * host's, not its containers': it serves user-data, whose secrets (units'
 * env, registry passwords) only root may read, and the instance's role credentials
 * (docs/security.md). Azure's wire server (168.63.129.16) likewise: its goal state carries the VM's
 * certificates and takes the health report that says the VM is up; its DNS (port 53) stays open, as
 * Azure's agent leaves it to every user. The drops are in the network's table, which is there
 * whenever a container is, even where the host's firewall could not be made. A container reaching
 * a published port of the bridge ("hairpin") is masqueraded, or the answer
 * would bypass the NAT. Each container opens at most a quarter of the
 * host's conntrack table's entries (net/ct.c says why); the count starts
 * again at every batch, which makes the rule anew. With no lease left the
 * table goes, and IPv4 forwarding is off.
 *
 * The same batch makes `bridge wisp-NAME` (net/l2.c): each lease's port of
 * the bridge pinned to its MAC and addresses, and a port of the network
 * without a live lease dropped: a new container's from its veth pair until
 * its attach's batch (the first one's by the table net_l2_guard made).
 *
 * Where the host has IPv6 the same batch makes `ip6 wisp-NAME` the same way
 * for the network's ULA (net.h): the metadata service's drop, the masquerade
 * rules for fd88:...::/64 and a DNAT rule per port published on every
 * address (an IPv4 HOST_IP has no IPv6 twin; ::1 is left out: it cannot be
 * routed to the bridge, and there is no route_localnet for IPv6, nor its
 * hole).
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

/* The family's source or destination address (SRC) in NET/PREFIX. */
static void addr_in(struct nl_msg *m, int family, bool src, const void *net, unsigned prefix)
{
	int len = family == NFPROTO_IPV6 ? 16 : 4;
	uint8_t mask[16] = {0};

	for (unsigned i = 0; i < prefix; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	nft_payload(m, NFT_PAYLOAD_NETWORK_HEADER, len == 16 ? (src ? 8 : 24) : (src ? 12 : 16),
		    len);
	if (prefix < (unsigned)len * 8)
		nft_mask(m, mask, len);
	nft_cmp(m, NFT_CMP_EQ, net, len);
}

static void ip4_in(struct nl_msg *m, bool src, uint32_t net, unsigned prefix)
{
	uint32_t v = htonl(net);

	addr_in(m, NFPROTO_IPV4, src, &v, prefix);
}

/* A metadata endpoint (net/imds.c) from the bridge: its port, every port, or
 * every port but DNS (th dport: UDP's and TCP's alike). */
static void rule_endpoint(struct nft_batch *b, const char *t, const struct net_cfg *c,
			  const struct net_endpoint *ep)
{
	uint16_t port = htons(ep->port ? ep->port : 53);
	int family = ep->family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	struct nft_rule r;

	nft_rule_begin(b, &r, t, "raw");
	nft_ifname(r.m, NFT_META_IIFNAME, c->name, NFT_CMP_EQ);
	addr_in(r.m, family, false, ep->addr, family == NFPROTO_IPV6 ? 128 : 32);
	if (ep->port || ep->keep_dns) {
		nft_payload(r.m, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		nft_cmp(r.m, ep->port ? NFT_CMP_EQ : NFT_CMP_NEQ, &port, 2);
	}
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(b, &r);
}

/* The subnet's addresses are this bridge's to send to (and the host's own,
 * over lo): from anywhere else, another network's bridge or a route through
 * the uplink, a packet to them is dropped before DNAT could see it, so only
 * published ports (sent to a host address) lead in. */
static void rule_direct(struct nft_batch *b, const char *t, const struct net_cfg *c, int family)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, t, "raw");
	nft_ifname(r.m, NFT_META_IIFNAME, c->name, NFT_CMP_NEQ);
	nft_ifname(r.m, NFT_META_IIFNAME, "lo", NFT_CMP_NEQ);
	if (family == NFPROTO_IPV6)
		addr_in(r.m, NFPROTO_IPV6, false, c->net6, 64);
	else
		ip4_in(r.m, false, c->net, c->prefix);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(b, &r);
}

/* The raw chain's drops (the comment above): IPv4 has all, IPv6 the
 * metadata's and the subnet's. */
static void rules_raw(struct nft_batch *b, const char *t, const struct net_cfg *c, int family)
{
	struct net_endpoint imds[NET_IMDS_MAX];
	size_t nimds = net_imds_read(imds);
	struct nft_rule r;

	rule_direct(b, t, c, family);
	if (family == NFPROTO_IPV4) {
		nft_rule_begin(b, &r, t, "raw");
		nft_ifname(r.m, NFT_META_IIFNAME, "lo", NFT_CMP_NEQ);
		ip4_in(r.m, false, 0x7f000000, 8);
		nft_verdict(r.m, NF_DROP);
		nft_rule_end(b, &r);
	}
	for (size_t i = 0; i < nimds; i++)
		if ((imds[i].family == AF_INET6) == (family == NFPROTO_IPV6))
			rule_endpoint(b, t, c, &imds[i]);
}

struct sync {
	struct nft_batch *b;
	const struct net_cfg *c;
	const char *table;
	int family; /* of the table being made */
	unsigned leases;
	uint32_t ct_limit; /* 0: none */
};

/* The connections the container at ADDR opens from the bridge, past the
 * limit, dropped. Known by its MAC, which the bridge table pins to its port
 * (net/l2.c): so its IPv6 link-local address counts with its ULA. */
static void rule_ct_limit(const struct sync *s, uint32_t addr)
{
	uint8_t mac[6];
	struct nft_rule r;

	if (!s->ct_limit)
		return;
	net_mac(addr, mac);
	nft_rule_begin(s->b, &r, s->table, "ctlimit");
	nft_ifname(r.m, NFT_META_IIFNAME, s->c->name, NFT_CMP_EQ);
	nft_payload(r.m, NFT_PAYLOAD_LL_HEADER, 6, 6);
	nft_cmp(r.m, NFT_CMP_EQ, mac, 6);
	nft_ct_any(r.m, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_NEW));
	nft_ct_count_over(r.m, s->ct_limit);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(s->b, &r);
}

/* Published port P of the container at ADDR: its DNAT rule in CHAIN. In
 * IPv6 only a port of every address (there is no HOST_IP of that family),
 * and not for ::1, which cannot be routed to the bridge. */
static void rule_dnat(const struct sync *s, const char *chain, uint32_t addr,
		      const struct net_port *p)
{
	static const uint8_t loop6[16] = {[15] = 1};
	uint32_t local = RTN_LOCAL, to = htonl(addr);
	uint16_t dport = htons(p->host_port), port = htons(p->ctr_port);
	uint8_t to6[16];
	struct nft_rule r;

	if (s->family == NFPROTO_IPV6 && p->host_ip)
		return;
	nft_rule_begin(s->b, &r, s->table, chain);
	if (p->host_ip) {
		ip4_in(r.m, false, p->host_ip, 32);
	} else {
		nft_fib_daddr_type(r.m);
		nft_cmp(r.m, NFT_CMP_EQ, &local, 4);
	}
	if (s->family == NFPROTO_IPV6 && !strcmp(chain, "output")) {
		nft_payload(r.m, NFT_PAYLOAD_NETWORK_HEADER, 24, 16);
		nft_cmp(r.m, NFT_CMP_NEQ, loop6, 16);
	}
	nft_l4(r.m, p->proto, 2, &dport, 2);
	net_addr6(s->c, addr, to6);
	nft_imm(r.m, NFT_REG_1, s->family == NFPROTO_IPV6 ? (void *)to6 : (void *)&to,
		s->family == NFPROTO_IPV6 ? 16 : 4);
	nft_imm(r.m, NFT_REG_2, &port, 2);
	nft_dnat(r.m, s->family);
	nft_rule_end(s->b, &r);
}

/* The subnet's own source address, for the masquerade rules. */
static void from_subnet(const struct sync *s, struct nl_msg *m)
{
	if (s->family == NFPROTO_IPV6)
		addr_in(m, NFPROTO_IPV6, true, s->c->net6, 64);
	else
		ip4_in(m, true, s->c->net, s->c->prefix);
}

static void rules_masq(const struct sync *s)
{
	const struct net_cfg *c = s->c;
	struct nft_rule r;

	nft_rule_begin(s->b, &r, s->table, "postrouting");
	from_subnet(s, r.m);
	nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_NEQ);
	nft_masq(r.m);
	nft_rule_end(s->b, &r);
	if (s->family == NFPROTO_IPV4) {
		nft_rule_begin(s->b, &r, s->table, "postrouting");
		ip4_in(r.m, true, 0x7f000000, 8);
		nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_EQ);
		nft_masq(r.m);
		nft_rule_end(s->b, &r);
	}
	nft_rule_begin(s->b, &r, s->table, "postrouting");
	from_subnet(s, r.m);
	nft_ifname(r.m, NFT_META_OIFNAME, c->name, NFT_CMP_EQ);
	nft_ct_any(r.m, NFT_CT_STATUS, IPS_DST_NAT);
	nft_masq(r.m);
	nft_rule_end(s->b, &r);
}

static int lease_rules(const struct net_lease *l, void *arg)
{
	struct sync *s = arg;

	rule_ct_limit(s, l->addr);
	for (unsigned i = 0; i < l->nports; i++) {
		rule_dnat(s, "prerouting", l->addr, &l->ports[i]);
		rule_dnat(s, "output", l->addr, &l->ports[i]);
	}
	return 0;
}

static int count(const struct net_lease *l, void *arg)
{
	(void)l;
	++*(unsigned *)arg;
	return 0;
}

static void table_whole(struct sync *s)
{
	nft_table(s->b, NFT_MSG_NEWTABLE, s->table);
	nft_chain(s->b, s->table, "raw", "filter", NF_INET_PRE_ROUTING, -300, -1);
	nft_chain(s->b, s->table, "ctlimit", "filter", NF_INET_PRE_ROUTING, -150, -1);
	nft_chain(s->b, s->table, "prerouting", "nat", NF_INET_PRE_ROUTING, -100, -1);
	nft_chain(s->b, s->table, "output", "nat", NF_INET_LOCAL_OUT, -100, -1);
	nft_chain(s->b, s->table, "postrouting", "nat", NF_INET_POST_ROUTING, 100, -1);
	rules_raw(s->b, s->table, s->c, s->family);
	rules_masq(s);
}

/* The table of FAMILY into the batch: emptied, then made whole if there are leases. */
static int table_sync(struct sync *s, int family, int dfd)
{
	s->family = family;
	nft_batch_family(s->b, family);
	nft_table(s->b, NFT_MSG_NEWTABLE, s->table);
	nft_table(s->b, NFT_MSG_DELTABLE, s->table);
	if (!s->leases)
		return 0;
	table_whole(s);
	return net_each_lease(dfd, lease_rules, s);
}

/* The bridge table (net/l2.c): emptied, then made whole if there are leases. */
static int bridge_sync(struct sync *s, int dfd)
{
	nft_batch_family(s->b, NFPROTO_BRIDGE);
	nft_table(s->b, NFT_MSG_NEWTABLE, s->table);
	nft_table(s->b, NFT_MSG_DELTABLE, s->table);
	return s->leases ? net_l2_table(s->b, s->c, s->table, dfd) : 0;
}

/* Forwarding of both families (only with the masquerade in place, off
 * before it goes). A host that learns its IPv6 route from router
 * advertisements stops taking them once it forwards (accept_ra 1), so its
 * uplink's accept_ra becomes 2 then, as for a router that takes them. */
static int forwarding(const struct net_cfg *c, bool on, struct cl_err *e)
{
	char path[96];

	/* forwarding is the host's, not a network's: on while any has a container */
	if (!on && net_others_live(c))
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", c->name);
	if (net_sysctl("/proc/sys/net/ipv4/ip_forward", on ? "1" : "0", e) < 0 ||
	    (on && net_sysctl(path, "1", e) < 0))
		return -1;
	if (!c->v6)
		return 0;
	if (on)
		net_uplink6_accept_ra();
	return net_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", on ? "1" : "0", e);
}

int net_nat_sync(const struct net_cfg *c, int dfd, struct cl_err *e)
{
	char table[32];
	struct sync s = {
	    .b = nft_batch_new(NFPROTO_IPV4), .c = c, .table = table, .ct_limit = net_ct_limit()};
	int r = -1;

	snprintf(table, sizeof(table), "wisp-%s", c->name);
	if (!s.b) {
		cl_error(e, ENOMEM, "nftables");
		goto out;
	}
	nft_begin(s.b);
	/* the chains first, then the leases' rules: counted, then made */
	if (net_each_lease(dfd, count, &s.leases) < 0 || table_sync(&s, NFPROTO_IPV4, dfd) < 0 ||
	    (c->v6 && table_sync(&s, NFPROTO_IPV6, dfd) < 0) || bridge_sync(&s, dfd) < 0) {
		cl_error(e, errno, "read leases");
		goto out;
	}
	nft_end(s.b);
	if ((!s.leases && forwarding(c, false, e) < 0) || nft_batch_send(s.b, e) < 0 ||
	    (s.leases && forwarding(c, true, e) < 0))
		goto out;
	r = (int)s.leases;
out:
	nft_batch_free(s.b);
	return r < 0 ? cl_error_wrap(e, "network %s: NAT", c->name) : r;
}
