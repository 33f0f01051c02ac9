/*
 * net/fw.c: the host's firewall (issue 13 point 5, docs/network.md "Host
 * firewall"): `containerd-lite network firewall [--allow PORT[/tcp|udp]]...`
 * makes the nftables table `inet wisp-firewall` whole in one batch (add,
 * delete with its old content, add again), closed by default:
 *
 *   chain input { type filter hook input priority 0; policy drop;
 *     ct state established,related accept
 *     ct state invalid drop
 *     iifname "lo" accept
 *     icmp type { echo-request, destination-unreachable, time-exceeded,
 *                 parameter-problem } accept
 *     icmpv6 type { destination-unreachable, packet-too-big, time-exceeded,
 *                   parameter-problem, echo-request, nd-router-advert,
 *                   nd-neighbor-solicit, nd-neighbor-advert } accept
 *     udp dport { 68, 546 } accept      the DHCP clients (offers come broadcast)
 *     meta l4proto tcp th dport 22 accept          one per --allow }
 *   chain forward { type filter hook forward priority 0; policy drop;
 *     ct state established,related accept
 *     iifgroup 0x77697370 accept        containers out, through the NAT
 *                                       (every network's bridge, net.h)
 *     ct status dnat accept }           published ports (net/nat.c)
 *
 * Outbound is open. Containers are outside too: from a bridge they reach
 * the host's published ports and ICMP, not its services (their resolvers
 * are the host's upstream servers, not the host). Without this table a
 * host with a route to 10.88.0.0/16 through it could reach containers'
 * unpublished ports; the forward chain closes that. `--off` removes it.
 * `--add PORT...` appends rules for more ports to the input chain as it is
 * (provision's second table, an sshd's port): the same table as one made
 * whole with every port, for a rule's cost rather than the table's.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define FW_TABLE "wisp-firewall"

static const uint8_t icmp4[] = {8, 3, 11, 12};
static const uint8_t icmp6[] = {1, 2, 3, 4, 128, 134, 135, 136};

/* ct KEY & BITS != 0, VERDICT: ct state established,related / invalid, ct status dnat */
static void rule_ct(struct nft_batch *b, const char *chain, int key, uint32_t bits, int verdict)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, FW_TABLE, chain);
	nft_ct_any(r.m, key, bits);
	nft_verdict(r.m, verdict);
	nft_rule_end(b, &r);
}

/* iifname NAME accept */
static void rule_iif(struct nft_batch *b, const char *chain, const char *name)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, FW_TABLE, chain);
	nft_ifname(r.m, NFT_META_IIFNAME, name, NFT_CMP_EQ);
	nft_verdict(r.m, NF_ACCEPT);
	nft_rule_end(b, &r);
}

/* iifgroup NET_BRIDGE_GROUP accept: a network's name is the user's, its bridge's group ours */
static void rule_bridges(struct nft_batch *b)
{
	uint32_t group = NET_BRIDGE_GROUP;
	struct nft_rule r;

	nft_rule_begin(b, &r, FW_TABLE, "forward");
	nft_meta(r.m, NFT_META_IIFGROUP);
	nft_cmp(r.m, NFT_CMP_EQ, &group, 4); /* host order, as the kernel keeps it */
	nft_verdict(r.m, NF_ACCEPT);
	nft_rule_end(b, &r);
}

/* an ICMP type or a destination port of PROTO (nft_l4), accept */
static void rule_l4(struct nft_batch *b, uint8_t proto, int offset, const void *v, int len)
{
	struct nft_rule r;

	nft_rule_begin(b, &r, FW_TABLE, "input");
	nft_l4(r.m, proto, offset, v, len);
	nft_verdict(r.m, NF_ACCEPT);
	nft_rule_end(b, &r);
}

static void rule_port(struct nft_batch *b, uint8_t proto, uint16_t port)
{
	uint16_t be = htons(port);

	rule_l4(b, proto, 2, &be, 2);
}

static void input(struct nft_batch *b, const struct net_port *allow, unsigned n)
{
	nft_chain(b, FW_TABLE, "input", "filter", NF_INET_LOCAL_IN, 0, NF_DROP);
	rule_ct(b, "input", NFT_CT_STATE,
		NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), NF_ACCEPT);
	rule_ct(b, "input", NFT_CT_STATE, NF_CT_STATE_INVALID_BIT, NF_DROP);
	rule_iif(b, "input", "lo");
	for (size_t i = 0; i < sizeof(icmp4); i++)
		rule_l4(b, IPPROTO_ICMP, 0, &icmp4[i], 1);
	for (size_t i = 0; i < sizeof(icmp6); i++)
		rule_l4(b, IPPROTO_ICMPV6, 0, &icmp6[i], 1);
	rule_port(b, IPPROTO_UDP, 68);
	rule_port(b, IPPROTO_UDP, 546);
	for (unsigned i = 0; i < n; i++)
		rule_port(b, allow[i].proto, allow[i].ctr_port);
}

static void forward(struct nft_batch *b)
{
	nft_chain(b, FW_TABLE, "forward", "filter", NF_INET_FORWARD, 0, NF_DROP);
	rule_ct(b, "forward", NFT_CT_STATE,
		NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), NF_ACCEPT);
	rule_bridges(b);
	rule_ct(b, "forward", NFT_CT_STATUS, IPS_DST_NAT, NF_ACCEPT);
}

/* How: FW_MAKE (or FW_OFF) the table whole, FW_ADD the ports' rules to it as it is. */
enum fw_how { FW_MAKE, FW_OFF, FW_ADD };

static int fw_batch(const struct net_port *allow, unsigned n, enum fw_how how, struct cl_err *e)
{
	struct nft_batch *b = nft_batch_new(NFPROTO_INET);
	int r;

	if (!b)
		return cl_error(e, ENOMEM, "firewall");
	nft_begin(b);
	if (how == FW_ADD) { /* where input() puts them, last: no table, no batch (ENOENT) */
		for (unsigned i = 0; i < n; i++)
			rule_port(b, allow[i].proto, allow[i].ctr_port);
	} else {
		nft_table(b, NFT_MSG_NEWTABLE, FW_TABLE);
		nft_table(b, NFT_MSG_DELTABLE, FW_TABLE);
	}
	if (how == FW_MAKE) {
		nft_table(b, NFT_MSG_NEWTABLE, FW_TABLE);
		input(b, allow, n);
		forward(b);
	}
	nft_end(b);
	r = nft_batch_send(b, e);
	nft_batch_free(b);
	if (r < 0 && how == FW_ADD)
		return cl_error_wrap(e, "firewall: adding to table inet " FW_TABLE);
	return r < 0 ? cl_error_wrap(e, "firewall") : 0;
}

/* "PORT[/tcp|/udp]" (docker's EXPOSE): the port in ctr_port. */
static int fw_port(const char *spec, struct net_port *p, struct cl_err *e)
{
	char buf[48];

	/* the same grammar as a published port's container side */
	if (snprintf(buf, sizeof(buf), "1:%s", spec) >= (int)sizeof(buf) ||
	    net_port_parse(buf, p, e) < 0)
		return cl_error(e, 0, "network firewall: --allow %s: not PORT[/tcp|udp] (1-65535)",
				spec);
	return 0;
}

static int fw_ports(const char *const *allow, unsigned n, enum fw_how how, struct cl_err *e)
{
	struct net_port ports[CL_FW_MAX_PORTS];

	if (n > CL_FW_MAX_PORTS)
		return cl_error(e, 0, "network firewall: %u ports to open, %d at most", n,
				CL_FW_MAX_PORTS);
	for (unsigned i = 0; i < n; i++)
		if (fw_port(allow[i], &ports[i], e) < 0)
			return -1;
	return fw_batch(ports, n, how, e);
}

int cl_host_firewall(const char *const *allow, unsigned n, bool off, struct cl_err *e)
{
	return fw_ports(allow, n, off ? FW_OFF : FW_MAKE, e);
}

int cl_host_firewall_add(const char *const *allow, unsigned n, struct cl_err *e)
{
	return fw_ports(allow, n, FW_ADD, e);
}
