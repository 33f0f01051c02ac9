/*
 * net/link.c: the kernel's side of a container network, through libnl's
 * route library: the bridge with the gateway's address, and per container
 * a veth pair whose host end is a port of the bridge and whose other end
 * becomes eth0 in the container's network namespace, with its address and
 * a default route through the bridge (as Docker's and CNI's bridge do).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct nl_sock *net_nl_open(struct cl_err *e)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return cl_error(e, ENOMEM, "netlink socket"), NULL;
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		cl_error(e, 0, "netlink: %s", nl_geterror(r));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* "wv" and 8 hex digits of the id's FNV-1a hash: ids are longer than IFNAMSIZ. */
void net_host_ifname(const char *id, char out[16])
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(out, 16, "wv%08x", (unsigned)h);
}

/* The MTU of the interface of the default route, as Docker takes; 1500
 * without one. Asked of netlink, not /sys: sysfs shows the network
 * namespace it was mounted in, which need not be this one. */
unsigned net_uplink_mtu(void)
{
	char line[256], ifname[64], dest[16];
	unsigned mtu = 1500;
	struct cl_err e;
	struct nl_sock *sk;
	struct rtnl_link *l = NULL;
	FILE *f = fopen("/proc/net/route", "re");

	if (!f)
		return mtu;
	ifname[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %15s", ifname, dest) == 2 && strcmp(dest, "00000000") == 0)
			break;
		else
			ifname[0] = '\0';
	fclose(f);
	if (!ifname[0] || !(sk = net_nl_open(&e)))
		return mtu;
	if (rtnl_link_get_kernel(sk, 0, ifname, &l) >= 0 && rtnl_link_get_mtu(l) >= 576)
		mtu = rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return mtu;
}

int net_sysctl(const char *path, const char *v, struct cl_err *e)
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

/* IPv6 setting KEY of IFNAME in this namespace ("all", "default" or a
 * link) set to V. A kernel without IPv6 has no such file, nor a need. */
static int conf6(const char *ifname, const char *key, const char *v, struct cl_err *e)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	if (access("/proc/sys/net/ipv6", F_OK) < 0 && errno == ENOENT)
		return 0;
	return net_sysctl(path, v, e);
}

/* IFNAME takes no router advertisement. Any container on a bridge can send
 * one (CAP_NET_RAW is docker's default): a namespace taking them would
 * route its IPv6 through that container (CVE-2020-10749, CVE-2020-13401). */
static int no_ra(const char *ifname, struct cl_err *e)
{
	return conf6(ifname, "accept_ra", "0", e);
}

/* The interface of the IPv6 default route keeps taking router
 * advertisements once the host forwards: accept_ra 1 becomes 2 (0, an
 * administrator's choice, stays). */
void net_uplink6_accept_ra(void)
{
	char line[256], dst[40], ifname[32], path[96], v[4] = "";
	unsigned plen;
	FILE *f = fopen("/proc/net/ipv6_route", "re");

	ifname[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %31s", dst, &plen, ifname) ==
			3 &&
		    plen == 0 && strspn(dst, "0") == 32 && strcmp(ifname, "lo") != 0)
			break;
		else
			ifname[0] = '\0';
	if (f)
		fclose(f);
	if (!ifname[0] ||
	    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", ifname) >=
		(int)sizeof(path) ||
	    !(f = fopen(path, "re")))
		return;
	if (!fgets(v, sizeof(v), f))
		v[0] = '\0';
	fclose(f);
	if (v[0] == '1' && (f = fopen(path, "we"))) {
		fputs("2", f);
		fclose(f);
	}
}

static struct nl_addr *ip4(uint32_t addr, unsigned prefix)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);

	if (a)
		nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

/* ADDR (IPv4) as its ULA in c's /64 (or /128 for a route's gateway). */
static struct nl_addr *ip6(const struct net_cfg *c, uint32_t addr, unsigned prefix)
{
	uint8_t a6[16];
	struct nl_addr *a;

	net_addr6(c, addr, a6);
	if ((a = nl_addr_build(AF_INET6, a6, 16)))
		nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

/* LOCAL (taken) on interface IFINDEX; one already there is fine. An IPv6
 * one skips duplicate address detection: it is unique by its IPv4 lease,
 * and DAD would leave it unusable for its first second. */
static int add_addr(struct nl_sock *sk, int ifindex, struct nl_addr *local, struct cl_err *e)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	int r = -NLE_NOMEM;
	char text[64];

	if (ra && local) {
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_local(ra, local);
		if (nl_addr_get_family(local) == AF_INET6)
			rtnl_addr_set_flags(ra, IFA_F_NODAD);
		r = rtnl_addr_add(sk, ra, NLM_F_CREATE | NLM_F_EXCL);
	}
	rtnl_addr_put(ra);
	if (r < 0 && r != -NLE_EXIST)
		r = cl_error(e, 0, "address %s: %s",
			     local ? nl_addr2str(local, text, sizeof(text)) : "?", nl_geterror(r));
	nl_addr_put(local);
	return r < 0 && r != -NLE_EXIST ? -1 : 0;
}

/* The bridge's or a container's addresses: IPv4, and the ULA with IPv6. */
static int add_addrs(struct nl_sock *sk, int ifindex, const struct net_cfg *c, uint32_t addr,
		     struct cl_err *e)
{
	if (add_addr(sk, ifindex, ip4(addr, c->prefix), e) < 0)
		return -1;
	return c->v6 ? add_addr(sk, ifindex, ip6(c, addr, 64), e) : 0;
}

/* Set interface NAME up, with new name RENAME (or NULL), master MASTER (0: none). */
static int link_up(struct nl_sock *sk, const char *name, const char *rename, int master,
		   struct cl_err *e)
{
	struct rtnl_link *old = NULL, *chg = rtnl_link_alloc();
	int r = rtnl_link_get_kernel(sk, 0, name, &old);

	if (r >= 0 && chg) {
		if (rename)
			rtnl_link_set_name(chg, rename);
		if (master)
			rtnl_link_set_master(chg, master);
		rtnl_link_set_flags(chg, IFF_UP);
		r = rtnl_link_change(sk, old, chg, 0);
	}
	rtnl_link_put(old);
	rtnl_link_put(chg);
	return r < 0 ? cl_error(e, 0, "link %s up: %s", name, nl_geterror(r)) : 0;
}

int net_ifindex(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int i = rtnl_link_get_kernel(sk, 0, name, &l) < 0 ? 0 : rtnl_link_get_ifindex(l);

	rtnl_link_put(l);
	return i;
}

/* The bridge made with a MAC of its own, the gateway's (net_bridge_mac), as docker
 * sets its bridge's: otherwise the kernel gives it its lowest port's, which
 * changes as containers come and go, and the bridge table (l2.c) could not
 * name the host's link-local address on it. A libnl error code. */
static int bridge_add(struct nl_sock *sk, struct rtnl_link *br, const struct net_cfg *c,
		      unsigned mtu)
{
	uint8_t mac[6];
	struct nl_addr *lladdr;

	net_bridge_mac(c, mac);
	if (!(lladdr = nl_addr_build(AF_LLC, mac, sizeof(mac))))
		return -NLE_NOMEM;
	rtnl_link_set_addr(br, lladdr);
	nl_addr_put(lladdr);
	rtnl_link_set_name(br, c->name);
	rtnl_link_set_mtu(br, mtu);
	rtnl_link_set_group(br, NET_BRIDGE_GROUP);
	return rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
}

int net_bridge_up(const struct net_cfg *c, unsigned mtu, struct cl_err *e)
{
	struct nl_sock *sk = net_nl_open(e);
	struct rtnl_link *br;
	int r = 0, idx;

	if (!sk)
		return -1;
	if (!net_ifindex(sk, c->name) && (br = rtnl_link_bridge_alloc())) {
		r = bridge_add(sk, br, c, mtu);
		rtnl_link_put(br);
	}
	if (r < 0 && r != -NLE_EXIST)
		r = cl_error(e, 0, "bridge %s: %s", c->name, nl_geterror(r));
	else if (!(idx = net_ifindex(sk, c->name)))
		r = cl_error(e, ENODEV, "bridge %s: not there after its creation", c->name);
	/* the host forwards (and so ignores them) only once the first container is there;
	 * its link-local address the EUI-64 of its MAC, which the bridge table lets through */
	else if ((r = no_ra(c->name, e)) == 0 &&
		 (r = conf6(c->name, "addr_gen_mode", "0", e)) == 0 &&
		 (r = add_addrs(sk, idx, c, net_gateway(c), e)) == 0)
		r = link_up(sk, c->name, NULL, 0, e);
	nl_socket_free(sk);
	return r < 0 ? cl_error_wrap(e, "network %s", c->name) : 0;
}

/* Port HOST of the bridge sends a frame back where it came from, as
 * docker's ports do without its proxy: a host whose bridge hands frames to
 * netfilter (br_netfilter) turns a container's connection to its own
 * published port back at the bridge layer, out of the port it came in by. */
static int hairpin(struct nl_sock *sk, const char *host, struct cl_err *e)
{
	struct rtnl_link *old = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	int r = -NLE_NOMEM, idx = net_ifindex(sk, host);

	if (old && chg && idx) {
		/* the port's side of the bridge: family AF_BRIDGE, IFLA_PROTINFO */
		rtnl_link_set_family(old, AF_BRIDGE);
		rtnl_link_set_family(chg, AF_BRIDGE);
		rtnl_link_set_ifindex(old, idx);
		rtnl_link_set_ifindex(chg, idx);
		rtnl_link_bridge_set_flags(chg, RTNL_BRIDGE_HAIRPIN_MODE);
		r = rtnl_link_change(sk, old, chg, 0);
	}
	rtnl_link_put(old);
	rtnl_link_put(chg);
	return r < 0 ? cl_error(e, 0, "link %s hairpin: %s", host, nl_geterror(r)) : 0;
}

/* The pair: HOST here, PEER created straight in the container's namespace.
 * The container's end has a MAC made of its address (net_mac), as docker's
 * bridge does: the bridge table (net/l2.c) pins the port to it from the
 * lease alone, and a restarted container keeps its address and with its MAC
 * the neighbours' ARP entries stay right. The host end is in the network's
 * interface group, by which the table drops a port without a lease. */
static int make_pair(struct nl_sock *sk, const struct net_cfg *c, const char *host,
		     const char *peer, const struct net_attach *a, struct cl_err *e)
{
	struct rtnl_link *v = rtnl_link_veth_alloc();
	uint8_t mac[6];
	struct nl_addr *lladdr;
	int r;

	net_mac(a->addr, mac);
	lladdr = nl_addr_build(AF_LLC, mac, sizeof(mac));
	if (!v || !lladdr) {
		rtnl_link_put(v);
		nl_addr_put(lladdr);
		return cl_error(e, ENOMEM, "veth %s", host);
	}
	rtnl_link_set_addr(rtnl_link_veth_get_peer(v), lladdr);
	nl_addr_put(lladdr);
	rtnl_link_set_name(v, host);
	rtnl_link_set_mtu(v, a->mtu);
	rtnl_link_set_group(v, net_port_group(c));
	rtnl_link_set_name(rtnl_link_veth_get_peer(v), peer);
	rtnl_link_set_mtu(rtnl_link_veth_get_peer(v), a->mtu);
	rtnl_link_set_ns_fd(rtnl_link_veth_get_peer(v), a->netns_fd);
	r = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(v);
	return r < 0 ? cl_error(e, 0, "veth %s: %s", host, nl_geterror(r)) : 0;
}

/* The default route of family GW's (taken) via GW on interface IDX. */
static int default_route(struct nl_sock *sk, int idx, struct nl_addr *gw, struct cl_err *e)
{
	static const uint8_t zero[16];
	int family = gw ? nl_addr_get_family(gw) : AF_INET;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *any = nl_addr_build(family, zero, family == AF_INET6 ? 16 : 4);
	int r = -NLE_NOMEM;

	if (rt && nh && any && gw) {
		nl_addr_set_prefixlen(any, 0);
		rtnl_route_set_family(rt, (uint8_t)family);
		rtnl_route_set_dst(rt, any);
		rtnl_route_nh_set_ifindex(nh, idx);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* the route owns it now */
		r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	nl_addr_put(any);
	nl_addr_put(gw);
	if (r < 0 && r != -NLE_EXIST)
		return cl_error(e, 0, "default route (%s) via the bridge: %s",
				family == AF_INET6 ? "IPv6" : "IPv4", nl_geterror(r));
	return 0;
}

/* Inside the container's namespace: PEER becomes eth0, addressed, routed.
 * Its link-local address is the EUI-64 of its MAC (addr_gen_mode 0, the
 * kernel's default, set all the same: the bridge table allows that one). */
static int inside(const struct net_cfg *c, const char *peer, const struct net_attach *a,
		  struct cl_err *e)
{
	struct nl_sock *sk = net_nl_open(e);
	int r = -1, idx;

	/* before eth0 is up: "default" for links made later, "all" for the record */
	if (sk && no_ra("all", e) == 0 && no_ra("default", e) == 0 && no_ra(peer, e) == 0 &&
	    conf6(peer, "addr_gen_mode", "0", e) == 0 && link_up(sk, "lo", NULL, 0, e) == 0 &&
	    link_up(sk, peer, "eth0", 0, e) == 0 &&
	    add_addrs(sk, idx = net_ifindex(sk, "eth0"), c, a->addr, e) == 0 &&
	    default_route(sk, idx, ip4(net_gateway(c), 32), e) == 0)
		r = c->v6 ? default_route(sk, idx, ip6(c, net_gateway(c), 128), e) : 0;
	if (sk)
		nl_socket_free(sk);
	return r;
}

/* Enters the container's namespace for inside(), and comes back whatever happens. */
static int in_netns(const struct net_cfg *c, const char *peer, const struct net_attach *a,
		    struct cl_err *e)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), r;

	if (self < 0)
		return cl_error(e, errno, "open /proc/self/ns/net");
	if (setns(a->netns_fd, CLONE_NEWNET) < 0) {
		close(self);
		return cl_error(e, errno, "enter the container's network namespace");
	}
	r = inside(c, peer, a, e);
	if (setns(self, CLONE_NEWNET) < 0 && r == 0)
		r = cl_error(e, errno, "return to the host's network namespace");
	close(self);
	return r;
}

int net_veth_attach(const struct net_cfg *c, const struct net_attach *a, struct cl_err *e)
{
	char host[16], peer[16];
	struct nl_sock *sk = net_nl_open(e);
	int r, br;

	if (!sk)
		return -1;
	net_host_ifname(a->id, host);
	snprintf(peer, sizeof(peer), "wp%s", host + 2);
	/* A pair left by a start that died half-way would make EEXIST: it goes first. */
	net_veth_detach(a->id, e);
	br = net_ifindex(sk, c->name);
	/* the port joins the bridge dropped, until the attach's batch pins it (net/l2.c) */
	if (!br)
		r = cl_error(e, ENODEV, "bridge %s is not there", c->name);
	else if ((r = net_l2_guard(c, e)) == 0 && (r = make_pair(sk, c, host, peer, a, e)) == 0 &&
		 (r = link_up(sk, host, NULL, br, e)) == 0 && (r = hairpin(sk, host, e)) == 0)
		r = in_netns(c, peer, a, e);
	if (r < 0)
		net_veth_detach(a->id, &(struct cl_err){0});
	nl_socket_free(sk);
	return r < 0 ? cl_error_wrap(e, "network %s: attach %s", c->name, a->id) : 0;
}

/* Deletes link NAME; 0 also when there is none. */
int net_link_delete(const char *name, struct cl_err *e)
{
	struct nl_sock *sk = net_nl_open(e);
	struct rtnl_link *l = rtnl_link_alloc();
	int r = -NLE_NOMEM;

	if (sk && l) {
		rtnl_link_set_name(l, name);
		r = rtnl_link_delete(sk, l);
	}
	rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
	if (r < 0 && r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND)
		return cl_error(e, 0, "delete link %s: %s", name, nl_geterror(r));
	return 0;
}

int net_veth_detach(const char *id, struct cl_err *e)
{
	char host[16];

	net_host_ifname(id, host);
	/* the peer in the container goes with it */
	return net_link_delete(host, e) < 0 ? cl_error_wrap(e, "detach %s", id) : 0;
}

int net_bridge_down(const struct net_cfg *c, struct cl_err *e)
{
	return net_link_delete(c->name, e) < 0 ? cl_error_wrap(e, "network %s", c->name) : 0;
}
