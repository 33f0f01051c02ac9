/*
 * net/l2.c: each container's port of the bridge pinned to what its lease
 * gives it. Root in a container has CAP_NET_RAW in its namespace: without
 * this it could answer ARP or neighbour discovery for another container's
 * address or the gateway's, send with another's source address, or take
 * another's MAC into the bridge's forwarding table, and so receive their
 * traffic (libvirt's clean-traffic and CNI bridge's spoof check close the
 * same). Everything follows from the IPv4 lease, so the rules are made
 * from the leases alone: the MAC 02:42:A:B:C:D that attach gives eth0 (as
 * docker's bridge does), the link-local address the kernel makes of it
 * (EUI-64, addr_gen_mode 0, which attach sets), and the ULA (net.h).
 *
 * net/nat.c makes the table `bridge wisp-NAME` in the batch that makes the
 * network's other tables. As nft prints it (docs/network.md), which leaves
 * out that each match of a protocol's field first compares the ether type
 * (offset 12 of the frame):
 *
 *   chain prerouting { type filter hook prerouting priority filter
 *     iifname vmap { "wv8829dfd9" : goto wv8829dfd9, ... }  (each lease's)
 *     iifgroup 1578819562 drop }         (the network's port without a lease)
 *   chain wv8829dfd9 {                                    (10.88.0.2's port)
 *     ether saddr != 02:42:0a:58:00:02 drop
 *     ip saddr 10.88.0.2 accept
 *     arp saddr ether 02:42:0a:58:00:02 arp saddr ip 10.88.0.2 accept
 *     arp saddr ether 02:42:0a:58:00:02 arp saddr ip 0.0.0.0 accept
 *     icmpv6 type nd-neighbor-advert @th,64,128 != LL @th,64,128 != ULA drop
 *     ip6 saddr :: icmpv6 type nd-neighbor-solicit
 *         @th,64,128 != LL @th,64,128 != ULA drop
 *     icmpv6 type nd-neighbor-solicit ip6 length != 24-32 drop
 *     icmpv6 type nd-neighbor-solicit @th,192,8 0x1-0x2
 *         @th,208,48 != 0x2420a580002 drop              (the option's MAC)
 *     (the same two for nd-neighbor-advert; nd-router-solicit's: 8-16, @th,64)
 *     icmpv6 type nd-router-advert drop
 *     ip6 saddr fe80::42:aff:fe58:2 accept                           (LL)
 *     ip6 saddr fd88:a58:0:10::2 accept                              (ULA)
 *     ip6 saddr :: meta l4proto ipv6-icmp accept
 *     drop }
 *   chain input { type filter hook input priority filter      (to the host)
 *     iifgroup 1578819562 ip daddr != 10.88.0.1 ip daddr 10.88.0.0/16 drop
 *     iifgroup 1578819562 ip6 daddr != fd88:a58:0:10::1
 *         ip6 daddr fd88:a58:0:10::/64 drop }
 *
 * Whatever is not listed goes: other ether types, and VLAN-tagged frames
 * (the payload expression reads the tag back at offset 12): one tagged
 * with VLAN id 0 would reach a receiver as untagged, past the rules for
 * its inner type. ARP is read at the
 * offsets of Ethernet and IPv4 (hardware length 6, protocol length 4),
 * the only layout the kernel's arp_rcv() takes on an Ethernet device. From
 * :: come duplicate address detection and early MLD reports, ICMPv6 both:
 * a probe for another's address would take that address from it while
 * tentative. A neighbour or router solicitation's source link-layer
 * address option, an advertisement's target one, makes its receivers map
 * the address to the MAC it names: only the port's own passes. Receivers
 * take the first option of each type wherever it is, so the rules pin the
 * message's length (the IPv6 payload's, extension headers in it) to room
 * for one 8-byte option at most, which can then only be at the fixed offset.
 * (Options in a later fragment go unread: receivers drop fragmented
 * neighbour discovery, RFC 6980, the kernel's suppress_frag_ndisc 1.)
 * A router advertisement goes whole: a container is no router, and its
 * source option is read even where advertisements are not taken.
 *
 * A frame's port is looked up in the map (a hash: one lookup however many
 * containers), then at most seventeen rules of its chain decide.
 *
 * A port whose container has no live lease (a namespace that outlived its
 * lease's process; a pair being made, until this batch) is dropped whole:
 * nothing says which addresses are its, and its old address may be
 * another's now. Bridge tables see every bridge's frames, so that last rule
 * matches this network's ports by their interface group (net_port_group),
 * which link.c gives each host end (a name prefix would take in other
 * networks' ports). Without IPv6 on the host there is no ULA; the
 * link-local and :: rules stay, for containers' kernels have IPv6 anyway.
 * The input chain (rules_via_host) keeps a container from making the host
 * route to its subnet's free addresses, each a neighbour entry of the host's.
 * A network's first container has no table to meet yet: net_l2_guard makes
 * one of that last rule alone before its pair is made (link.c), so its port,
 * too, joins the bridge dropped.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* <linux/netfilter_bridge.h>'s NF_BR_PRE_ROUTING, NF_BR_LOCAL_IN and
 * NF_BR_PRI_FILTER_BRIDGED (that header pulls <linux/in.h>, which clashes
 * with the libc's) */
#define BR_PRE_ROUTING 0
#define BR_LOCAL_IN    1
#define BR_PRI_FILTER  -200

void net_mac(uint32_t addr, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x42;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

void net_bridge_mac(const struct net_cfg *c, uint8_t mac[6])
{
	net_mac(net_gateway(c), mac);
}

/* fe80::/64 and the MAC's modified EUI-64 (RFC 4291 appendix A) */
void net_addr_ll(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	memcpy(out + 13, mac + 3, 3);
}

/* FNV-1a of the network's name; never 0, every interface's group by default,
 * nor the bridges' */
uint32_t net_port_group(const struct net_cfg *c)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)c->name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h && h != NET_BRIDGE_GROUP ? h : 1;
}

/* One lease's port: its chain (named as its host end) and what it may send as. */
struct port {
	struct nft_batch *b;
	const char *table;
	char chain[16];
	uint8_t mac[6], ll[16], ula[16];
	uint32_t ip; /* network order */
	bool v6;     /* the ULA too */
};

static void ether_type(struct nl_msg *m, uint16_t type)
{
	uint16_t be = htons(type);

	nft_payload(m, NFT_PAYLOAD_LL_HEADER, 12, 2);
	nft_cmp(m, NFT_CMP_EQ, &be, 2);
}

/* LEN bytes at OFFSET of the network header == V */
static void nh_is(struct nl_msg *m, int offset, const void *v, int len)
{
	nft_payload(m, NFT_PAYLOAD_NETWORK_HEADER, offset, len);
	nft_cmp(m, NFT_CMP_EQ, v, len);
}

static void rule_ether_src(const struct port *p)
{
	struct nft_rule r;

	nft_rule_begin(p->b, &r, p->table, p->chain);
	nft_payload(r.m, NFT_PAYLOAD_LL_HEADER, 6, 6);
	nft_cmp(r.m, NFT_CMP_NEQ, p->mac, 6);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
}

/* ether type TYPE, LEN bytes at OFFSET of its header == V, accept; ARP:
 * the sender's MAC (offset 8) first, then its address (OFFSET 14) */
static void rule_from(const struct port *p, uint16_t type, int offset, const void *v, int len)
{
	struct nft_rule r;

	nft_rule_begin(p->b, &r, p->table, p->chain);
	ether_type(r.m, type);
	if (type == ETHERTYPE_ARP)
		nh_is(r.m, 8, p->mac, 6);
	nh_is(r.m, offset, v, len);
	nft_verdict(r.m, NF_ACCEPT);
	nft_rule_end(p->b, &r);
}

/* ICMPv6 TYPE (from :: only: FROM_ANY) whose target is none of the port's, drop */
static void rule_nd(const struct port *p, uint8_t type, bool from_any)
{
	static const uint8_t any[16];
	struct nft_rule r;

	nft_rule_begin(p->b, &r, p->table, p->chain);
	ether_type(r.m, ETHERTYPE_IPV6);
	if (from_any)
		nh_is(r.m, 8, any, 16);
	nft_l4(r.m, IPPROTO_ICMPV6, 0, &type, 1);
	nft_payload(r.m, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16); /* the target address */
	nft_cmp(r.m, NFT_CMP_NEQ, p->ll, 16);
	if (p->v6)
		nft_cmp(r.m, NFT_CMP_NEQ, p->ula, 16);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
}

/* A rule of the port's chain for ICMPv6 of TYPE, into R (its ether type first). */
static void icmp6_rule(const struct port *p, struct nft_rule *r, uint8_t type)
{
	nft_rule_begin(p->b, r, p->table, p->chain);
	ether_type(r->m, ETHERTYPE_IPV6);
	nft_l4(r->m, IPPROTO_ICMPV6, 0, &type, 1);
}

/* A solicitation or advertisement (TYPE) whose link-layer address option
 * names another MAC than the port's, dropped: its receivers would map the
 * sender's address (or the target) to that MAC. Options start at OPT, and
 * the receiver takes the first of each type, so the IPv6 payload's length
 * (extension headers in it) must leave room for one 8-byte option at most:
 * then the only one is at OPT, type 1 or 2 (source or target), length, MAC. */
static void rule_lla(const struct port *p, uint8_t type, int opt)
{
	static const uint8_t src_ll = 1, tgt_ll = 2;
	uint16_t lo = htons((uint16_t)opt), hi = htons((uint16_t)(opt + 8));
	struct nft_rule r;

	icmp6_rule(p, &r, type);
	nft_payload(r.m, NFT_PAYLOAD_NETWORK_HEADER, 4, 2); /* the payload's length */
	nft_range(r.m, NFT_RANGE_NEQ, &lo, &hi, 2);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
	icmp6_rule(p, &r, type);
	nft_payload(r.m, NFT_PAYLOAD_TRANSPORT_HEADER, opt, 1);
	nft_range(r.m, NFT_RANGE_EQ, &src_ll, &tgt_ll, 1);
	nft_payload(r.m, NFT_PAYLOAD_TRANSPORT_HEADER, opt + 2, 6);
	nft_cmp(r.m, NFT_CMP_NEQ, p->mac, 6);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
}

/* A router's ICMPv6 (TYPE), dropped: a container is none. A router
 * advertisement's source link-layer address option would map the sender's
 * address to the MAC it names in every receiver, even one that takes no
 * advertisement (accept_ra 0 skips only their routes and prefixes). (A
 * redirect's is taken only from the receiver's router, the gateway, whose
 * addresses no port may send from.) */
static void rule_router(const struct port *p, uint8_t type)
{
	struct nft_rule r;

	icmp6_rule(p, &r, type);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
}

/* ICMPv6 from :: (duplicate address detection, MLD reports before the
 * link-local address is there); nothing else has a use for it */
static void rule_unspecified(const struct port *p)
{
	static const uint8_t any[16];
	uint8_t icmp6 = IPPROTO_ICMPV6;
	struct nft_rule r;

	nft_rule_begin(p->b, &r, p->table, p->chain);
	ether_type(r.m, ETHERTYPE_IPV6);
	nh_is(r.m, 8, any, 16);
	nft_meta(r.m, NFT_META_L4PROTO);
	nft_cmp(r.m, NFT_CMP_EQ, &icmp6, 1);
	nft_verdict(r.m, NF_ACCEPT);
	nft_rule_end(p->b, &r);
}

static void port_rules(const struct port *p)
{
	static const uint8_t any[4];
	struct nft_rule r;

	rule_ether_src(p);
	rule_from(p, ETHERTYPE_IP, 12, &p->ip, 4);
	rule_from(p, ETHERTYPE_ARP, 14, &p->ip, 4);
	rule_from(p, ETHERTYPE_ARP, 14, any, 4); /* a probe (RFC 5227) */
	rule_nd(p, 136, false);			 /* neighbour advertisement */
	rule_nd(p, 135, true);			 /* duplicate address detection */
	rule_lla(p, 135, 24);			 /* solicitation: after the target */
	rule_lla(p, 136, 24);			 /* advertisement: the same */
	rule_lla(p, 133, 8);			 /* router solicitation */
	rule_router(p, 134);			 /* advertisement */
	rule_from(p, ETHERTYPE_IPV6, 8, p->ll, 16);
	if (p->v6)
		rule_from(p, ETHERTYPE_IPV6, 8, p->ula, 16);
	rule_unspecified(p);
	nft_rule_begin(p->b, &r, p->table, p->chain);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(p->b, &r);
}

struct l2 {
	struct nft_batch *b;
	const struct net_cfg *c;
	const char *table;
};

/* The map of the ports' names to their chains, the batch's only one (net/nft.c) */
#define PORTS_MAP 1

/* The lease's chain, and the element of the ports' map that goes to it. */
static int lease_port(const struct net_lease *l, void *arg)
{
	const struct l2 *s = arg;
	struct port p = {.b = s->b, .table = s->table, .ip = htonl(l->addr), .v6 = s->c->v6};

	net_host_ifname(l->id, p.chain);
	net_mac(l->addr, p.mac);
	net_addr_ll(p.mac, p.ll);
	net_addr6(s->c, l->addr, p.ula);
	nft_chain(s->b, s->table, p.chain, NULL, 0, 0, -1);
	port_rules(&p);
	nft_vmap_goto(s->b, s->table, PORTS_MAP, p.chain, p.chain);
	return 0;
}

/* The prerouting chain's last rule: the network's ports without a lease dropped. */
static void group_drop(struct nft_batch *b, const struct net_cfg *c, const char *table)
{
	uint32_t group = net_port_group(c);
	struct nft_rule r;

	nft_rule_begin(b, &r, table, "prerouting");
	nft_meta(r.m, NFT_META_IIFGROUP);
	nft_cmp(r.m, NFT_CMP_EQ, &group, 4); /* host order, as the kernel keeps it */
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(b, &r);
}

/* The input chain's rule for ether type TYPE: from the network's ports to
 * the host, for an address of NET/MASK (LEN bytes at OFFSET of the network
 * header) but the gateway's GW, drop. */
static void rule_via_host(const struct l2 *s, uint16_t type, int offset, const void *net,
			  const void *mask, const void *gw, int len)
{
	uint32_t group = net_port_group(s->c);
	struct nft_rule r;

	nft_rule_begin(s->b, &r, s->table, "input");
	nft_meta(r.m, NFT_META_IIFGROUP);
	nft_cmp(r.m, NFT_CMP_EQ, &group, 4);
	ether_type(r.m, type);
	nft_payload(r.m, NFT_PAYLOAD_NETWORK_HEADER, offset, len);
	nft_cmp(r.m, NFT_CMP_NEQ, gw, len);
	nft_mask(r.m, mask, len);
	nft_cmp(r.m, NFT_CMP_EQ, net, len);
	nft_verdict(r.m, NF_DROP);
	nft_rule_end(s->b, &r);
}

/* What a port hands up to the host (to the bridge's MAC) for another address
 * of its subnet or ULA /64 than the gateway's goes no further: the host would
 * route it back onto the bridge and resolve that address there, one entry of
 * the kernel's neighbour table (1024 at most, gc_thresh3, shared by every
 * interface) per address of a /16 or a /64, until none is left for the
 * host's own gateway. Containers reach each other across the bridge, and a
 * published port through a host address, the gateway's too. */
static void rules_via_host(const struct l2 *s)
{
	const struct net_cfg *c = s->c;
	uint32_t net = htonl(c->net), gw = htonl(net_gateway(c));
	uint32_t mask = htonl(c->prefix ? ~0u << (32 - c->prefix) : 0);
	static const uint8_t ll_net[16] = {0xfe, 0x80}, ll_mask[16] = {0xff, 0xc0};
	uint8_t mask6[16] = {0}, gw6[16], mac[6], ll_gw[16];

	nft_chain(s->b, s->table, "input", "filter", BR_LOCAL_IN, BR_PRI_FILTER, -1);
	rule_via_host(s, ETHERTYPE_IP, 16, &net, &mask, &gw, 4);
	/* fe80::/10 is on every link: the host routes a link-local address that is
	 * not its own back onto the bridge as well. Its own is the bridge's EUI-64
	 * (link.c gives the bridge the gateway's MAC and addr_gen_mode 0). */
	net_bridge_mac(c, mac);
	net_addr_ll(mac, ll_gw);
	rule_via_host(s, ETHERTYPE_IPV6, 24, ll_net, ll_mask, ll_gw, 16);
	if (!c->v6)
		return;
	memset(mask6, 0xff, 8);
	net_addr6(c, net_gateway(c), gw6);
	rule_via_host(s, ETHERTYPE_IPV6, 24, c->net6, mask6, gw6, 16);
}

int net_l2_table(struct nft_batch *b, const struct net_cfg *c, const char *table, int dfd)
{
	struct l2 s = {.b = b, .c = c, .table = table};
	struct nft_rule r;

	nft_table(b, NFT_MSG_NEWTABLE, table);
	nft_chain(b, table, "prerouting", "filter", BR_PRE_ROUTING, BR_PRI_FILTER, -1);
	rules_via_host(&s);
	nft_vmap_new(b, table, PORTS_MAP);
	if (net_each_lease(dfd, lease_port, &s) < 0)
		return -1;
	nft_rule_begin(b, &r, table, "prerouting"); /* one lookup, however many ports */
	nft_meta(r.m, NFT_META_IIFNAME);
	nft_vmap(r.m, PORTS_MAP);
	nft_rule_end(b, &r);
	group_drop(b, c, table);
	return 0;
}

/* Before a port joins the bridge: the table, if the network has none (its
 * first container's attach), with only the drop of the network's ports. A
 * port is dropped whole from its joining until the attach's batch, the
 * first container's as every later one's; the batch then makes the table
 * whole, or takes it away with the last lease. One already there (EEXIST:
 * the batch fails whole) has the drop. */
int net_l2_guard(const struct net_cfg *c, struct cl_err *e)
{
	struct nft_batch *b = nft_batch_new(NFPROTO_BRIDGE);
	char table[32];
	int r;

	if (!b)
		return cl_error(e, ENOMEM, "nftables");
	snprintf(table, sizeof(table), "wisp-%s", c->name);
	nft_begin(b);
	nft_table_new(b, table);
	nft_chain(b, table, "prerouting", "filter", BR_PRE_ROUTING, BR_PRI_FILTER, -1);
	group_drop(b, c, table);
	nft_end(b);
	r = nft_batch_send(b, e);
	nft_batch_free(b);
	return r < 0 && e->num != EEXIST ? -1 : 0;
}
