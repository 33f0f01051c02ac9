/* net.h: container networks (issue 13): a bridge, a veth pair per
 * container, addresses from a lease directory. Private to containerd-lite;
 * errors are struct cl_err. No daemon: every call does its work and ends. */
#ifndef CL_NET_H
#define CL_NET_H

#include "containerd-lite.h"
#include <stdint.h>
#include <sys/types.h>

#define NET_DEFAULT_NAME   "wisp0"
#define NET_DEFAULT_SUBNET "10.88.0.0/16"
#define NET_LEASE_ROOT	   "/run/wisp/net" /* a reboot frees every address */

/* An IPv4 network: the bridge of that name, its subnet; the bridge's
 * address is the subnet's first host. */
struct net_cfg {
	char name[16]; /* the bridge's interface name, also the lease directory's */
	uint32_t net;  /* host byte order, host bits zero */
	unsigned prefix;
	const char *lease_root;
};

/* net_cfg.c: "10.88.0.0/16" -> net, prefix; names that are interface names. */
int net_cfg_init(struct net_cfg *c, const char *name, const char *subnet, struct cl_err *e);
uint32_t net_gateway(const struct net_cfg *c);
void net_ntoa(uint32_t addr, char out[16]);

/* net_ipam.c: one file per leased address, LEASE_ROOT/NAME/A.B.C.D, holding
 * the container's id and, when known, its first process (pid and start
 * time): a lease whose process is gone is free again. Allocation holds the
 * directory's lock. A container that holds a lease gets the same address. */
int net_lease(const struct net_cfg *c, const char *id, pid_t pid, uint32_t *addr, struct cl_err *e);
int net_release(const struct net_cfg *c, const char *id, struct cl_err *e);
int net_leased(const struct net_cfg *c, const char *id, uint32_t *addr); /* 1 found, 0 none */
/* The text of lease file NAME in dirfd ("ID[ PID STARTTIME]\n"), 0; -1 unreadable or empty. */
int net_lease_read(int dirfd, const char *name, char *buf, size_t size);

/* net_link.c: the kernel's side, through libnl. */
struct net_attach {
	const char *id; /* the container's id: names its host-side veth */
	int netns_fd;	/* the container's network namespace */
	uint32_t addr;	/* its address in c's subnet */
	unsigned mtu;	/* the uplink's */
};
int net_bridge_up(const struct net_cfg *c, unsigned mtu, struct cl_err *e);
int net_veth_attach(const struct net_cfg *c, const struct net_attach *a, struct cl_err *e);
int net_veth_detach(const char *id, struct cl_err *e); /* 0 also when there is none */
void net_host_ifname(const char *id, char out[16]);
unsigned net_uplink_mtu(void);

/* net_nat.c: IPv4 forwarding on and the masquerade of the subnet's traffic
 * that leaves by another interface than the bridge (nftables table wisp-NAME). */
int net_nat_up(const struct net_cfg *c, struct cl_err *e);

/* net_cli.c: `containerd-lite network attach|detach|ls`. */
int cl_net_main(int argc, char **argv);

#endif
