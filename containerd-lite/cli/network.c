/*
 * cli/network.c: `containerd-lite network`, the steps a container's start and
 * end take on a bridge network (docs/network.md, "Container networks"):
 *
 *   network attach [--network NAME] [--subnet CIDR] [--publish PORT]...
 *                  [--egress RATE] [--ingress RATE] --netns PATH ID
 *       the bridge (made if missing), an address leased for ID, a veth
 *       pair into the namespace at PATH (/proc/PID/ns/net or a bind mount),
 *       ID's bandwidth limits on the host's side (tc's rates, "20mbit":
 *       net/rate.c, net/tc.c), the network's nftables table made again
 *       with ID's published ports (docker's -p syntax, net/port.c); prints
 *       ADDRESS/PREFIX GATEWAY (not with --oci-state: a hook's stdout is
 *       the container's log)
 *   network detach [--network NAME] [--subnet CIDR] ID
 *       the veth pair and ifb device removed, the lease released, the
 *       table made again; the last container takes the bridge, the table
 *       and forwarding with it; nothing there is fine
 *   network ls [--network NAME] [--subnet CIDR] [--json]
 *       the leases: ADDRESS ID [PORT...]
 *   network firewall [--allow PORT[/tcp|udp]]... | --off | (--add PORT[/tcp|udp])...
 *       the host's firewall (net/fw.c): closed but for ALLOW; or none; or
 *       the table as it is with ADD's ports open too
 *
 * Each holds the network's lease lock from start to end: attaches and
 * detaches of one network happen one after the other.
 *
 * attach and detach with --oci-state take ID (and attach its namespace,
 * /proc/PID/ns/net) from the OCI state on stdin: what a runtime gives a
 * hook, so that `image bundle --network bridge` makes them the
 * container's createRuntime and poststop hooks.
 *
 * Options come before or after ID. Errors: one line, exit 1; usage: exit 2.
 */
#include "../runtime/cl-private.h"
#include "../net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct net_opts {
	const char *network, *subnet, *netns, *id, *egress, *ingress;
	const char *publish[NET_MAX_PORTS], *allow[CL_FW_MAX_PORTS];
	unsigned npublish, nallow;
	bool json, oci_state, off, add; /* add: the firewall's ports came as --add */
	char state_netns[64], state_id[256];
	char conf_subnet[64];
	const char *subnet_from; /* the file the default network's subnet came from */
};

/* No --subnet: the default network's is the configured one (net_config_subnet). */
static void default_subnet(struct net_opts *o)
{
	if (o->subnet)
		return;
	if (strcmp(o->network, NET_DEFAULT_NAME) == 0)
		o->subnet =
		    net_config_subnet(o->conf_subnet, sizeof(o->conf_subnet), &o->subnet_from);
	else
		o->subnet = NET_DEFAULT_SUBNET;
}

static int usage(const char *verb, const char *why, const char *arg)
{
	fprintf(stderr, "containerd-lite: network %s: %s%s%s\n", verb, why, arg ? " " : "",
		arg ? arg : "");
	return 2;
}

static const char net_usage[] =
    "usage: containerd-lite network attach [--network NAME] [--subnet CIDR]\n"
    "           [--publish [HOST_IP:]HOST_PORT:CTR_PORT[/tcp|udp]]... [--egress RATE]\n"
    "           [--ingress RATE] --netns PATH ID\n"
    "       containerd-lite network detach [--network NAME] [--subnet CIDR] ID\n"
    "       containerd-lite network attach|detach [--network NAME] [--subnet CIDR] --oci-state\n"
    "       containerd-lite network ls [--network NAME] [--json]\n"
    "       containerd-lite network firewall [--allow PORT[/tcp|udp]]... | --off\n"
    "       containerd-lite network firewall --add PORT[/tcp|udp] [--add PORT[/tcp|udp]]...\n"
    "NAME defaults to " NET_DEFAULT_NAME ", CIDR to " NET_DEFAULT_NAME "'s in " NET_CONF_RUN
    " or " NET_CONF_ETC "\n(\"subnet CIDR\"), else " NET_DEFAULT_SUBNET
    "; RATE is tc's, like 20mbit (bit, kbit,\n"
    "mbit, gbit: decimal); options may follow ID; -- ends them.\n";

/* --help or --version anywhere before "--": what to print instead of working. */
static const char *asks_info(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return net_usage;
		else if (strcmp(argv[i], "--version") == 0)
			return "containerd-lite version " WISP_VERSION "\n";
	return NULL;
}

/* Returns 0, or an exit status. */
static int parse(int argc, char **argv, const char *verb, struct net_opts *o)
{
	static const char *const valued[] = {"--network", "--subnet", "--netns", "--egress",
					     "--ingress"};
	bool ends = false;

	o->network = NET_DEFAULT_NAME;
	o->subnet = NULL; /* none given: default_subnet() */
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i],
			   **slot[] = {&o->network, &o->subnet, &o->netns, &o->egress, &o->ingress};
		size_t k = 0;
		if (!ends && strcmp(a, "--") == 0) {
			ends = true;
			continue;
		}
		if (!ends && strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!ends && strcmp(a, "--oci-state") == 0) {
			o->oci_state = true;
			continue;
		}
		if (!ends && strcmp(a, "--off") == 0) {
			o->off = true;
			continue;
		}
		if (!ends &&
		    (!strcmp(a, "--publish") || !strcmp(a, "--allow") || !strcmp(a, "--add"))) {
			const char **v = a[2] == 'p' ? o->publish : o->allow;
			unsigned *n = a[2] == 'p' ? &o->npublish : &o->nallow;
			if (i + 1 >= argc)
				return usage(verb, "a value is missing after", a);
			if (*n == (a[2] == 'p' ? NET_MAX_PORTS : CL_FW_MAX_PORTS))
				return usage(verb,
					     a[2] == 'p' ? "too many ports (32 at most) at"
							 : "too many ports (65 at most) at",
					     argv[i + 1]);
			if (a[2] != 'p' && *n && o->add != (a[3] == 'd'))
				return usage(verb, "--allow or --add, not both", NULL);
			o->add = a[3] == 'd';
			v[(*n)++] = argv[++i];
			continue;
		}
		while (!ends && k < 5 && strcmp(a, valued[k]) != 0)
			k++;
		if (!ends && k < 5) {
			if (i + 1 >= argc)
				return usage(verb, "a value is missing after", a);
			*slot[k] = argv[++i];
		} else if (!ends && a[0] == '-') {
			return usage(verb, "unknown option", a);
		} else if (o->id) {
			return usage(verb, "unexpected argument", a);
		} else {
			o->id = a;
		}
	}
	return 0;
}

/* PATH must be a network namespace: a file a caller names is not trusted to be one. */
static int open_netns(const char *path, struct cl_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cl_error(e, errno, "netns %s", path);
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return cl_error(e, 0, "netns %s: not a network namespace", path);
	}
	return fd;
}

/* The OCI state on stdin (a hook's): its id and pid become ID and --netns. */
static int read_state(struct net_opts *o, struct cl_err *e)
{
	json_error_t je;
	json_t *st = json_loadf(stdin, 0, &je);
	const char *id = json_string_value(json_object_get(st, "id"));
	json_int_t pid = json_integer_value(json_object_get(st, "pid"));

	if (!st)
		return cl_error(e, 0, "OCI state on stdin: %s", je.text);
	if (!id || !id[0] || strlen(id) >= sizeof(o->state_id)) {
		json_decref(st);
		return cl_error(e, 0, "OCI state on stdin: no id");
	}
	snprintf(o->state_id, sizeof(o->state_id), "%s", id);
	o->id = o->state_id;
	if (pid > 0) {
		snprintf(o->state_netns, sizeof(o->state_netns), "/proc/%lld/ns/net",
			 (long long)pid);
		o->netns = o->state_netns;
	}
	json_decref(st);
	return 0;
}

/* The pid of a /proc/PID/ns/net path (the lease then ends with that process); 0 otherwise. */
static pid_t netns_pid(const char *path)
{
	int pid = 0, n = 0;

	if (sscanf(path, "/proc/%d/ns/net%n", &pid, &n) == 1 && path[n] == '\0' && pid > 0)
		return (pid_t)pid;
	return 0;
}

/* The lease attach asks for: ID and its ports, each checked. */
static int wanted(const struct net_opts *o, struct net_lease *l, struct cl_err *e)
{
	memset(l, 0, sizeof(*l));
	if (strlen(o->id) >= sizeof(l->id))
		return cl_error(e, ENAMETOOLONG, "container id %.32s...: too long", o->id);
	snprintf(l->id, sizeof(l->id), "%s", o->id);
	for (unsigned i = 0; i < o->npublish; i++)
		if (net_port_parse(o->publish[i], &l->ports[l->nports++], e) < 0)
			return -1;
	return 0;
}

/* --egress and --ingress: A's limits in bit/s. */
static int rates(const struct net_opts *o, struct net_attach *a, struct cl_err *e)
{
	if (o->egress && net_rate_parse(o->egress, &a->egress, e) < 0)
		return cl_error_wrap(e, "network attach %s: --egress", o->id);
	if (o->ingress && net_rate_parse(o->ingress, &a->ingress, e) < 0)
		return cl_error_wrap(e, "network attach %s: --ingress", o->id);
	return 0;
}

static int attach(const struct net_cfg *c, int dfd, const struct net_opts *o, struct cl_err *e)
{
	struct net_attach a = {.id = o->id, .mtu = net_uplink_mtu()};
	struct net_lease *want = calloc(1, sizeof(*want));
	char ip[16], gw[16];
	bool reused = false;
	int r = -1;

	if (!want)
		return cl_error(e, ENOMEM, "attach %s", o->id);
	net_tc_sweep();
	if (wanted(o, want, e) < 0 || rates(o, &a, e) < 0 ||
	    (a.netns_fd = open_netns(o->netns, e)) < 0)
		goto out;
	if (net_bridge_up(c, a.mtu, e) < 0 ||
	    (net_lease(c, dfd, want, netns_pid(o->netns), &a.addr, &reused, e) < 0 &&
	     cl_error_wrap(e, "network %s: attach %s", c->name, o->id)) ||
	    net_veth_attach(c, &a, e) < 0 ||
	    (net_tc_limit(&a, e) < 0 &&
	     cl_error_wrap(e, "network %s: attach %s", c->name, o->id)) ||
	    /* a free address's last holder forgot its flows at its detach;
	     * one left by a dead container (or this one, attached again) may
	     * have some: a dump costs the walk of the whole conntrack hash */
	    (reused && net_ct_forget(c, a.addr, e) < 0) || net_nat_sync(c, dfd, e) < 0 ||
	    net_hosts_sync(c, dfd, e) < 0) {
		struct cl_err ignored;
		uint32_t unused;
		net_tc_remove(o->id, &ignored);
		net_veth_detach(o->id, &ignored);
		net_release(dfd, o->id, &unused, &ignored);
		net_hosts_sync(c, dfd, &ignored);
		if (net_nat_sync(c, dfd, &ignored) == 0)
			net_bridge_down(c, &ignored);
		close(a.netns_fd);
		goto out;
	}
	close(a.netns_fd);
	net_ntoa(a.addr, ip);
	net_ntoa(net_gateway(c), gw);
	/* a hook's stdout is the container's log: the address is in `network ls`
	 * and `wispctl status`, not a line of every container's log */
	if (!o->oci_state)
		printf("%s/%u %s\n", ip, c->prefix, gw);
	r = 0;
out:
	free(want);
	return r;
}

/* The veth pair, ifb, lease and flows gone (the flows once no rule makes
 * new ones); with them the last, the bridge too. */
static int detach(const struct net_cfg *c, int dfd, const char *id, struct cl_err *e)
{
	uint32_t addr;
	int n;

	net_tc_sweep();
	if (net_tc_remove(id, e) < 0 || net_veth_detach(id, e) < 0 ||
	    net_release(dfd, id, &addr, e) < 0 || net_hosts_sync(c, dfd, e) < 0 ||
	    (n = net_nat_sync(c, dfd, e)) < 0 || (addr && net_ct_forget(c, addr, e) < 0))
		return -1;
	return n == 0 ? net_bridge_down(c, e) : 0;
}

struct lister {
	bool json, first;
};

/* ids are [A-Za-z0-9_.-] and port texts digits, dots and colons: nothing to escape */
static int list_one(const struct net_lease *l, void *arg)
{
	struct lister *ls = arg;
	char ip[16], port[NET_PORT_TEXT];

	net_ntoa(l->addr, ip);
	if (ls->json)
		printf("%s{\"address\":\"%s\",\"id\":\"%s\",\"ports\":[", ls->first ? "" : ",", ip,
		       l->id);
	else
		printf("%s %s", ip, l->id);
	for (unsigned i = 0; i < l->nports; i++) {
		net_port_format(&l->ports[i], port);
		printf(ls->json ? "%s\"%s\"" : "%s%s", ls->json ? (i ? "," : "") : " ", port);
	}
	fputs(ls->json ? "]}" : "\n", stdout);
	ls->first = false;
	return 0;
}

static int list(int dfd, bool json, struct cl_err *e)
{
	struct lister ls = {.json = json, .first = true};

	if (json)
		putchar('[');
	if (net_each_lease(dfd, list_one, &ls) < 0)
		return cl_error(e, errno, "read leases");
	if (json)
		puts("]");
	return 0;
}

static int run(const char *verb, const struct net_opts *o, struct cl_err *e)
{
	struct net_cfg c;
	int dfd, r;

	if (net_cfg_init(&c, o->network, o->subnet, e) < 0)
		return o->subnet_from ? cl_error_wrap(e, "%s", o->subnet_from) : -1;
	if ((dfd = net_lock(&c, e)) < 0)
		return -1;
	if (strcmp(verb, "attach") == 0)
		r = attach(&c, dfd, o, e);
	else if (strcmp(verb, "detach") == 0)
		r = detach(&c, dfd, o->id, e);
	else
		r = list(dfd, o->json, e);
	close(dfd); /* and the lock */
	return r;
}

int cl_net_main(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "";
	struct net_opts o = {0};
	struct cl_err e = {0};
	const char *info = asks_info(argc, argv);
	int r;

	if (info)
		return fputs(info, stdout) == EOF;
	if (strcmp(verb, "attach") && strcmp(verb, "detach") && strcmp(verb, "ls") &&
	    strcmp(verb, "firewall"))
		return usage(verb, "usage: network attach|detach|ls|firewall [OPTIONS] [ID]", NULL);
	if ((r = parse(argc - 1, argv + 1, verb, &o)) != 0)
		return r;
	if ((o.nallow || o.off) && strcmp(verb, "firewall") != 0)
		return usage(verb, "--allow, --add and --off are for firewall, not", verb);
	if (o.nallow && o.off)
		return usage(
		    verb, o.add ? "--add or --off, not both" : "--allow or --off, not both", NULL);
	if (strcmp(verb, "firewall") == 0) {
		if (o.id || o.oci_state || o.npublish || o.egress || o.ingress)
			return usage(verb, "takes --allow, --add or --off only", NULL);
		r = o.add ? cl_host_firewall_add(o.allow, o.nallow, &e)
			  : cl_host_firewall(o.allow, o.nallow, o.off, &e);
		if (r < 0)
			fprintf(stderr, "containerd-lite: %s\n", e.msg);
		return r < 0;
	}
	if (o.oci_state && (o.id || strcmp(verb, "ls") == 0))
		return usage(verb, "--oci-state takes the id from stdin, not",
			     o.id ? o.id : "with ls");
	if (o.oci_state && read_state(&o, &e) < 0) {
		fprintf(stderr, "containerd-lite: network %s: %s\n", verb, e.msg);
		return 1;
	}
	if (strcmp(verb, "ls") != 0 && !o.id)
		return usage(verb, "a container id is needed", NULL);
	/* runc's ids: the id names a veth, a lease line and a hosts file line */
	if (o.id && cl_valid_id(o.id, &e) < 0) {
		fprintf(stderr, "containerd-lite: network %s: %s\n", verb, e.msg);
		return 1;
	}
	if (strcmp(verb, "attach") == 0 && !o.netns)
		return usage(verb, "--netns PATH is needed", NULL);
	if ((o.npublish || o.egress || o.ingress) && strcmp(verb, "attach") != 0)
		return usage(verb, "--publish, --egress and --ingress are for attach, not", verb);
	default_subnet(&o);
	r = run(verb, &o, &e);
	if (r < 0) {
		fprintf(stderr, "containerd-lite: %s\n", e.msg);
		return 1;
	}
	return 0;
}
