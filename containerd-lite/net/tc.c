/*
 * net/tc.c: a container's bandwidth limits, through the kernel's traffic
 * control, as the CNI bandwidth plugin sets them: all of it on the host's
 * end of the veth pair, out of the container's reach (root in its own
 * network namespace can change what is there, not what is here).
 *
 *   ingress (what the container receives): a tbf qdisc as the root of the
 *       host's end, which sends the container's traffic;
 *   egress (what the container sends): arrives on the host's end, where
 *       only an ingress qdisc can see it, which cannot queue: a matchall
 *       filter there redirects every frame to an ifb device of the
 *       container's ("wi" and the veth's hash), whose root tbf queues
 *       and shapes it; ifb hands it back to the host's end as received.
 *
 * The veth's qdiscs and filter go with it; the ifb must be deleted. PID 1
 * deletes a container (which runs its detach hook) only at its next start,
 * while the veth dies with the container's namespace: so every attach and
 * detach also sweeps ifb devices whose veth is gone (net_tc_sweep), as
 * leases of dead processes are taken back (net/ipam.c).
 *
 * The token bucket: rate as given; a bucket (burst) of 10 ms at that rate,
 * at least 64 KiB. tc-tbf(8) wants at least rate/HZ (4 ms at the guest's
 * HZ 250): 10 ms leaves room for a watchdog timer that fires late without
 * the rate falling short. 64 KiB is a whole GSO packet (TCP over veth
 * sends them unsplit): tbf cuts a bigger packet than its bucket into
 * segments, whose burst its queue then drops; measured on the build host,
 * 3 MB at 20mbit went at 16-19 Mbit/s with a 25 KB bucket, 19.5 with 64 KiB.
 * A queue of 25 ms at the rate on top (CNI's latency): TCP sees drops, not
 * seconds of delay. The kernel keeps at most 4.29 s of bucket (its buffer
 * is u32 ns), still 53 KB at 100kbit (NET_RATE_MIN): more than a frame of
 * a 9000-byte MTU. libnl's rate is an int of bytes: NET_RATE_MAX, 16gbit,
 * is below 2^31 bytes a second.
 */
#include "net.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/matchall.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <stdio.h>
#include <string.h>

#define TBF_BURST_DIV	100   /* a bucket of 1/100 s */
#define TBF_BURST_MIN	65536 /* bytes */
#define TBF_LATENCY_US	25000
#define INGRESS_HANDLE	TC_H_MAKE(TC_H_INGRESS, 0) /* tc's "ffff:" */
#define ROOT_TBF_HANDLE TC_H_MAKE(1u << 16, 0)	   /* "1:" */
#define REDIRECT_PRIO	1

void net_ifb_ifname(const char *id, char out[16])
{
	char host[16];

	net_host_ifname(id, host);
	snprintf(out, 16, "wi%s", host + 2);
}

/* A qdisc of KIND on IFINDEX, for the caller to fill and add. */
static struct rtnl_qdisc *qdisc_new(int ifindex, uint32_t parent, uint32_t handle, const char *kind)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

/* The root of DEV (IFINDEX): a token bucket at BPS bit/s. */
static int tbf(struct nl_sock *sk, int ifindex, const char *dev, uint64_t bps, struct cl_err *e)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_ROOT, ROOT_TBF_HANDLE, "tbf");
	uint64_t rate = bps / 8, burst = rate / TBF_BURST_DIV;
	int r = -NLE_NOMEM;

	if (burst < TBF_BURST_MIN)
		burst = TBF_BURST_MIN;
	if (q) {
		rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)burst, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, TBF_LATENCY_US);
	}
	if (r == 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	return r < 0 ? cl_error(e, 0, "qdisc tbf on %s: %s", dev, nl_geterror(r)) : 0;
}

/* DEV (IFINDEX) gets an ingress qdisc, where filters see what it receives. */
static int ingress(struct nl_sock *sk, int ifindex, const char *dev, struct cl_err *e)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_INGRESS, INGRESS_HANDLE, "ingress");
	int r = q ? rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL) : -NLE_NOMEM;

	rtnl_qdisc_put(q);
	return r < 0 ? cl_error(e, 0, "qdisc ingress on %s: %s", dev, nl_geterror(r)) : 0;
}

/* u32's way to match everything, "match u32 0 0", and act on it. */
static int u32_all(struct rtnl_cls *c, struct rtnl_act *a)
{
	int r = rtnl_u32_add_key_uint32(c, 0, 0, 0, 0);

	if (r == 0)
		r = rtnl_u32_set_cls_terminal(c);
	return r < 0 ? r : rtnl_u32_add_action(c, a);
}

/* A filter of KIND (matchall or u32) of FROM's ingress qdisc, sending all
 * it sees out of TO. A libnl error, or 0. */
static int filter(struct nl_sock *sk, int from, int to, const char *kind)
{
	struct rtnl_cls *c = rtnl_cls_alloc();
	struct rtnl_act *a = rtnl_act_alloc();
	int r = -NLE_NOMEM;

	if (c && a && (r = rtnl_tc_set_kind(TC_CAST(c), kind)) == 0 &&
	    (r = rtnl_tc_set_kind(TC_CAST(a), "mirred")) == 0) {
		rtnl_tc_set_ifindex(TC_CAST(c), from);
		rtnl_tc_set_parent(TC_CAST(c), INGRESS_HANDLE);
		rtnl_cls_set_protocol(c, ETH_P_ALL);
		rtnl_cls_set_prio(c, REDIRECT_PRIO);
		rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(a, (uint32_t)to);
		r = strcmp(kind, "u32") == 0 ? u32_all(c, a) : rtnl_mall_append_action(c, a);
		if (r == 0)
			r = rtnl_cls_add(sk, c, NLM_F_CREATE | NLM_F_EXCL);
	}
	rtnl_act_put(a);
	rtnl_cls_put(c);
	return r;
}

/* Every frame DEV (FROM) receives goes out of ifb TO instead: tc's "filter
 * add dev DEV ingress matchall action mirred egress redirect dev TO". A
 * kernel without matchall (Wisp's has it, the smallest classifier) gets
 * u32's equivalent, as CNI's plugin uses: some build hosts have u32 only. */
static int redirect(struct nl_sock *sk, int from, const char *dev, int to, struct cl_err *e)
{
	int r = filter(sk, from, to, "matchall");

	if (r == -NLE_OBJ_NOTFOUND)
		r = filter(sk, from, to, "u32");
	return r < 0 ? cl_error(e, 0, "filter redirecting %s: %s", dev, nl_geterror(r)) : 0;
}

/* The container's ifb device NAME, up, with its veth's MTU; its index. */
static int ifb_add(struct nl_sock *sk, const char *name, unsigned mtu, struct cl_err *e)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r = -NLE_NOMEM, idx = 0;

	if (l && (r = rtnl_link_set_type(l, "ifb")) == 0) {
		rtnl_link_set_name(l, name);
		rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	}
	rtnl_link_put(l);
	if (r == 0 && !(idx = net_ifindex(sk, name)))
		r = -NLE_OBJ_NOTFOUND;
	return r < 0 ? cl_error(e, 0, "ifb device %s: %s", name, nl_geterror(r)) : idx;
}

int net_tc_limit(const struct net_attach *a, struct cl_err *e)
{
	char host[16], ifb[16];
	struct nl_sock *sk;
	int r = -1, hidx, iidx;

	if (!a->egress && !a->ingress)
		return 0;
	net_host_ifname(a->id, host);
	net_ifb_ifname(a->id, ifb);
	/* one left by a start that died half-way would make EEXIST: it goes first */
	if (net_tc_remove(a->id, e) < 0 || !(sk = net_nl_open(e)))
		return -1;
	if (!(hidx = net_ifindex(sk, host)))
		cl_error(e, ENODEV, "link %s is not there", host);
	else if (a->ingress && tbf(sk, hidx, host, a->ingress, e) < 0)
		cl_error_wrap(e, "ingress limit");
	else if (a->egress &&
		 ((iidx = ifb_add(sk, ifb, a->mtu, e)) < 0 || ingress(sk, hidx, host, e) < 0 ||
		  redirect(sk, hidx, host, iidx, e) < 0 || tbf(sk, iidx, ifb, a->egress, e) < 0))
		cl_error_wrap(e, "egress limit");
	else
		r = 0;
	nl_socket_free(sk);
	if (r < 0) /* the veth's qdiscs go with the veth, which attach removes */
		net_tc_remove(a->id, &(struct cl_err){0});
	return r;
}

/* The ifb LINK (a "wi" name of its hash), if its veth is gone, deleted. */
static void sweep_one(struct nl_object *o, void *arg)
{
	struct nl_sock *sk = ((void **)arg)[0];
	struct nl_cache *links = ((void **)arg)[1];
	struct rtnl_link *l = (struct rtnl_link *)o, *veth;
	const char *name = rtnl_link_get_name(l), *kind = rtnl_link_get_type(l);
	char host[16];

	if (!name || !kind || strcmp(kind, "ifb") || strncmp(name, "wi", 2) || strlen(name) != 10)
		return;
	snprintf(host, sizeof(host), "wv%s", name + 2);
	if ((veth = rtnl_link_get_by_name(links, host)))
		rtnl_link_put(veth);
	else
		rtnl_link_delete(sk, l);
}

void net_tc_sweep(void)
{
	struct cl_err e;
	struct nl_sock *sk = net_nl_open(&e);
	struct nl_cache *links = NULL;

	if (sk && rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) == 0)
		nl_cache_foreach(links, sweep_one, (void *[]){sk, links});
	nl_cache_free(links);
	if (sk)
		nl_socket_free(sk);
}

int net_tc_remove(const char *id, struct cl_err *e)
{
	char ifb[16];

	net_ifb_ifname(id, ifb);
	return net_link_delete(ifb, e);
}
