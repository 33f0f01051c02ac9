/* net/net.h: container networks (issue 13): a bridge, a veth pair per
 * container, addresses from a lease directory. Private to containerd-lite;
 * errors are struct cl_err. No daemon: every call does its work and ends. */
#ifndef CL_NET_H
#define CL_NET_H

#include "../containerd-lite.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_DEFAULT_NAME   "wisp0"
#define NET_DEFAULT_SUBNET "10.88.0.0/16"
#define NET_LEASE_ROOT	   "/run/wisp/net"   /* a reboot frees every address */
#define NET_HOSTS_ROOT	   "/run/wisp/hosts" /* each network's names: containers' /etc/hosts */
/* The default network's subnet when no --subnet is given: "subnet CIDR" */
/* Every network's bridge's interface group ("wisp"): the host firewall lets
 * what they send be forwarded, whatever the networks are named (net/fw.c). */
#define NET_BRIDGE_GROUP 0x77697370u
#define NET_CONF_RUN	 "/run/wisp/bridge" /* this boot's (provisioning) */
#define NET_CONF_ETC	 "/etc/wisp/bridge" /* the image spec's bridge.subnet */

/* The clouds' metadata services (user-data, credentials), the host's alone:
 * containers' packets to them are dropped (nat.c), and a registry may not
 * lead the host to them (image/reach.c). */
#define NET_IMDS4      0xa9fea9feu /* 169.254.169.254, every cloud's */
#define NET_WIRESERVER 0xa83f8110u /* 168.63.129.16, Azure's wire server */
#define NET_IMDS6_N    2
extern const uint8_t net_imds6[NET_IMDS6_N][16]; /* EC2's fd00:ec2::254, GCE's fd20:ce::254 */

/* net/imds.c: those and the endpoints wisp.imds= and wisp.wireserver= move
 * them to, as nat.c drops containers' packets to them. */
struct net_endpoint {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order */
	uint16_t port;	  /* 0: every port */
	bool keep_dns;	  /* every port but 53 (a wire server's DNS is every VM's) */
};
#define NET_IMDS_MAX (NET_IMDS6_N + 4)
/* The endpoints of CMDLINE (a kernel command line) after the built-in ones. */
size_t net_imds_endpoints(const char *cmdline, struct net_endpoint out[NET_IMDS_MAX]);
/* The same of /proc/cmdline. */
size_t net_imds_read(struct net_endpoint out[NET_IMDS_MAX]);

/* An IPv4 network: the bridge of that name, its subnet; the bridge's
 * address is the subnet's first host. Where the host has IPv6, also a ULA
 * /64 made of the IPv4 subnet, fd88:AABB:CCDD:PP::/64 for AA.BB.CC.DD/PP,
 * in which each address's IPv4 host part is its interface id (10.88.0.2 of
 * 10.88.0.0/16 is fd88:a58:0:10::2): no lease of its own to keep. */
struct net_cfg {
	char name[16]; /* the bridge's interface name, also the lease directory's */
	uint32_t net;  /* host byte order, host bits zero */
	unsigned prefix;
	bool v6;	  /* the host has IPv6: the ULA too */
	uint8_t net6[16]; /* the ULA /64, interface id zero */
	const char *lease_root;
};

/* net/cfg.c: "10.88.0.0/16" -> net, prefix; names that are interface names. */
int net_cfg_init(struct net_cfg *c, const char *name, const char *subnet, struct cl_err *e);
/* The subnet of NET_CONF_RUN or NET_CONF_ETC (*from: which; NULL and
 * NET_DEFAULT_SUBNET when neither is there). */
const char *net_config_subnet(char *buf, size_t size, const char **from);
uint32_t net_gateway(const struct net_cfg *c);
void net_ntoa(uint32_t addr, char out[16]);
/* ADDR (an IPv4 address of c's subnet) as its ULA: c->net6 and its host part. */
void net_addr6(const struct net_cfg *c, uint32_t addr, uint8_t out[16]);

/* net/port.c: a published port, docker's "[HOST_IP:]HOST_PORT:CTR_PORT[/tcp|udp]". */
#define NET_MAX_PORTS 32
#define NET_PORT_TEXT 40
struct net_port {
	uint32_t host_ip; /* host byte order; 0: every address of the host */
	uint16_t host_port, ctr_port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};
int net_port_parse(const char *spec, struct net_port *p, struct cl_err *e);
void net_port_format(const struct net_port *p, char out[NET_PORT_TEXT]);
bool net_port_clash(const struct net_port *a, const struct net_port *b);

/* net/ipam.c: one file per leased address, LEASE_ROOT/NAME/A.B.C.D, holding
 * the container's id, when known its first process (pid and start time),
 * and its published ports: a lease whose process is gone is free again.
 * Everything happens under the directory's lock (net_lock: its fd, locked,
 * or -1), which the caller holds across attach or detach. A container that
 * holds a lease gets the same address. */
struct net_lease {
	uint32_t addr;
	char id[256];
	struct net_port ports[NET_MAX_PORTS];
	unsigned nports;
};
int net_lock(const struct net_cfg *c, struct cl_err *e);
/* WANT's id and ports: its address into *addr; a host port taken is an
 * error. *reused: the address had a lease still (WANT's own, or a dead
 * container's), so flows of an earlier holder may be left. */
int net_lease(const struct net_cfg *c, int dfd, const struct net_lease *want, pid_t pid,
	      uint32_t *addr, bool *reused, struct cl_err *e);
/* ID's lease gone; its address into *addr (0: it had none). */
int net_release(int dfd, const char *id, uint32_t *addr, struct cl_err *e);
/* FN for each lease whose process lives; stops at FN's nonzero, which it returns. */
int net_each_lease(int dfd, int (*fn)(const struct net_lease *, void *), void *arg);
/* Another network than c's has a live lease (read without its lock). */
bool net_others_live(const struct net_cfg *c);

/* net/link.c: the kernel's side, through libnl. */
struct net_attach {
	const char *id;		  /* the container's id: names its host-side veth */
	int netns_fd;		  /* the container's network namespace */
	uint32_t addr;		  /* its address in c's subnet */
	unsigned mtu;		  /* the uplink's */
	uint64_t egress, ingress; /* bit/s, 0: none (net/tc.c) */
};
int net_bridge_up(const struct net_cfg *c, unsigned mtu, struct cl_err *e);
int net_veth_attach(const struct net_cfg *c, const struct net_attach *a, struct cl_err *e);
int net_veth_detach(const char *id, struct cl_err *e);		/* 0 also when there is none */
int net_bridge_down(const struct net_cfg *c, struct cl_err *e); /* the last container gone */
void net_host_ifname(const char *id, char out[16]);
unsigned net_uplink_mtu(void);
void net_uplink6_accept_ra(void);
/* Writes V to the sysctl file PATH (of the calling thread's network namespace). */
int net_sysctl(const char *path, const char *v, struct cl_err *e);
/* For net/tc.c: a route socket; an interface's index (0: none); a link
 * deleted (0 also when there is none). */
struct nl_sock *net_nl_open(struct cl_err *e);
int net_ifindex(struct nl_sock *sk, const char *name);
int net_link_delete(const char *name, struct cl_err *e);

/* net/rate.c: a bandwidth, "20mbit": tc's units (bit, kbit, mbit, gbit;
 * decimal), a unit required, NET_RATE_MIN..NET_RATE_MAX -> bit/s. */
#define NET_RATE_MIN 100000ull	    /* 100kbit */
#define NET_RATE_MAX 16000000000ull /* 16gbit */
int net_rate_parse(const char *text, uint64_t *bps, struct cl_err *e);

/* net/tc.c: A's egress and ingress limits, on the host's end of its veth
 * (which must be there) and its ifb device; a failure leaves neither.
 * net_tc_remove: the ifb device gone (the veth's qdiscs go with the veth).
 * net_tc_sweep: every container's ifb whose veth is gone, gone too. */
int net_tc_limit(const struct net_attach *a, struct cl_err *e);
int net_tc_remove(const char *id, struct cl_err *e);
void net_tc_sweep(void);
void net_ifb_ifname(const char *id, char out[16]);

/* net/nft.c: nf_tables messages in one atomic batch (net/nat.c's rules). */
struct nl_msg;
struct nlattr;
struct nft_batch;
struct nft_rule {
	struct nl_msg *m;
	struct nlattr *list;
};
struct nft_batch *nft_batch_new(int family); /* NFPROTO_IPV4, _IPV6, _INET, _BRIDGE */
/* The family of the tables, chains and rules added next: one batch, both. */
void nft_batch_family(struct nft_batch *b, int family);
void nft_batch_free(struct nft_batch *b);
int nft_batch_send(struct nft_batch *b, struct cl_err *e);
void nft_begin(struct nft_batch *b);
void nft_end(struct nft_batch *b);
void nft_table(struct nft_batch *b, int op, const char *table);
void nft_table_new(struct nft_batch *b, const char *table); /* EEXIST if there */
/* A base chain of TYPE on HOOK; POLICY NF_DROP or NF_ACCEPT, -1 the kernel's
 * default (accept). TYPE NULL: a regular chain, reached by a goto (the rest unused). */
void nft_chain(struct nft_batch *b, const char *table, const char *chain, const char *type,
	       int hook, int prio, int policy);
void nft_rule_begin(const struct nft_batch *b, struct nft_rule *r, const char *table,
		    const char *chain);
void nft_rule_end(struct nft_batch *b, struct nft_rule *r);
/* Expressions: loads into register 1, compares with it, and actions. */
void nft_payload(struct nl_msg *m, int base, int offset, int len);
void nft_meta(struct nl_msg *m, int key);
void nft_fib_daddr_type(struct nl_msg *m);
void nft_ct(struct nl_msg *m, int key);
/* ct count over LIMIT: the connections this rule has seen (this one too), while they live */
void nft_ct_count_over(struct nl_msg *m, uint32_t limit);
void nft_cmp(struct nl_msg *m, int op, const void *v, int len);
void nft_mask(struct nl_msg *m, const void *mask, int len);
void nft_range(struct nl_msg *m, int op, const void *from, const void *to, int len);
void nft_imm(struct nl_msg *m, int reg, const void *v, int len);
void nft_verdict(struct nl_msg *m, int code);
void nft_goto(struct nl_msg *m, const char *chain); /* the chain's verdict is the rule's */
void nft_dnat(struct nl_msg *m, int family);
/* An anonymous verdict map (ID: its number in the batch), interface names
 * its keys: made, each element added, then bound by a rule's nft_vmap. */
void nft_vmap_new(struct nft_batch *b, const char *table, uint32_t id);
void nft_vmap_goto(struct nft_batch *b, const char *table, uint32_t id, const char *ifname,
		   const char *chain);
void nft_vmap(struct nl_msg *m, uint32_t id);
void nft_masq(struct nl_msg *m);
/* Matches made of the above, shared by the NAT table and the firewall. */
void nft_ifname(struct nl_msg *m, int key, const char *name, int op);
void nft_ct_any(struct nl_msg *m, int key, uint32_t bits);
void nft_l4(struct nl_msg *m, uint8_t proto, int offset, const void *v, int len);

/* net/nat.c: the tables wisp-NAME made from the leases of DFD (locked):
 * masquerade, published ports (ip, ip6), the ports pinned (bridge, net/l2.c);
 * forwarding on. With no lease, no table and forwarding off. Returns the
 * number of leases, or -1. */
int net_nat_sync(const struct net_cfg *c, int dfd, struct cl_err *e);

/* net/l2.c: each container's port pinned to its lease (net_l2_table: the
 * table `bridge TABLE`, into B, for DFD's leases, net/nat.c's batch). The
 * MAC of eth0 for ADDR, 02:42:A:B:C:D (locally administered, as docker's);
 * the link-local address the kernel makes of a MAC (EUI-64); the interface
 * group of the network's host ends, which the table's last rule names. */
void net_mac(uint32_t addr, uint8_t mac[6]);
/* The bridge's own MAC, the gateway's (link.c sets it; the table names its EUI-64). */
void net_bridge_mac(const struct net_cfg *c, uint8_t mac[6]);
void net_addr_ll(const uint8_t mac[6], uint8_t out[16]);
uint32_t net_port_group(const struct net_cfg *c);
int net_l2_table(struct nft_batch *b, const struct net_cfg *c, const char *table, int dfd);
/* Where the network has no bridge table yet, one that drops its every port. */
int net_l2_guard(const struct net_cfg *c, struct cl_err *e);

/* net/ct.c: the host's conntrack entries to or from ADDR (and its ULA) deleted. */
int net_ct_forget(const struct net_cfg *c, uint32_t addr, struct cl_err *e);
/* The connections a container may open in each family: a quarter of the
 * host's conntrack table (0: no limit, the table's size unknown or unlimited). */
uint32_t net_ct_limit(void);

/* net/hosts.c: HOSTS_ROOT/NAME, localhost and "ADDRESS ID" of each lease:
 * the containers' /etc/hosts. net_hosts_path makes it if missing (for a
 * bundle's mount) and says where it is; net_hosts_sync rewrites it in place. */
int net_hosts_path(const char *network, char *path, size_t size, struct cl_err *e);
int net_hosts_sync(const struct net_cfg *c, int dfd, struct cl_err *e);

/* cli/network.c: `containerd-lite network attach|detach|ls`. */
int cl_net_main(int argc, char **argv);

#endif
