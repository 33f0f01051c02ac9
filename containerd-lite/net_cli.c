/*
 * net_cli.c: `containerd-lite network`, the steps a container's start and
 * end take on a bridge network (docs/network.md, "Container networks"):
 *
 *   network attach [--network NAME] [--subnet CIDR] --netns PATH ID
 *       the bridge (made if missing), an address leased for ID, a veth
 *       pair into the namespace at PATH (/proc/PID/ns/net or a bind mount);
 *       prints ADDRESS/PREFIX GATEWAY
 *   network detach [--network NAME] [--subnet CIDR] ID
 *       the veth pair removed, the lease released; nothing there is fine
 *   network ls [--network NAME] [--subnet CIDR] [--json]
 *       the leases: ADDRESS ID
 *
 * attach and detach with --oci-state take ID (and attach its namespace,
 * /proc/PID/ns/net) from the OCI state on stdin: what a runtime gives a
 * hook, so that `image bundle --network bridge` makes them the
 * container's createRuntime and poststop hooks.
 *
 * Options come before or after ID. Errors: one line, exit 1; usage: exit 2.
 */
#include "cl-private.h"
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct net_opts {
	const char *network, *subnet, *netns, *id;
	bool json, oci_state;
	char state_netns[64], state_id[256];
};

static int usage(const char *verb, const char *why, const char *arg)
{
	fprintf(stderr, "containerd-lite: network %s: %s%s%s\n", verb, why, arg ? " " : "",
		arg ? arg : "");
	return 2;
}

static const char net_usage[] =
    "usage: containerd-lite network attach [--network NAME] [--subnet CIDR] --netns PATH ID\n"
    "       containerd-lite network detach [--network NAME] [--subnet CIDR] ID\n"
    "       containerd-lite network attach|detach [--network NAME] [--subnet CIDR] --oci-state\n"
    "       containerd-lite network ls [--network NAME] [--json]\n"
    "NAME defaults to " NET_DEFAULT_NAME ", CIDR to " NET_DEFAULT_SUBNET
    "; options may follow ID; -- ends them.\n";

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
	static const char *const valued[] = {"--network", "--subnet", "--netns"};
	bool ends = false;

	o->network = NET_DEFAULT_NAME;
	o->subnet = NET_DEFAULT_SUBNET;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], **slot[] = {&o->network, &o->subnet, &o->netns};
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
		while (!ends && k < 3 && strcmp(a, valued[k]) != 0)
			k++;
		if (!ends && k < 3) {
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

static int attach(const struct net_cfg *c, const struct net_opts *o, struct cl_err *e)
{
	struct net_attach a = {.id = o->id, .mtu = net_uplink_mtu()};
	char ip[16], gw[16];

	if ((a.netns_fd = open_netns(o->netns, e)) < 0)
		return -1;
	if (net_bridge_up(c, a.mtu, e) < 0 || net_nat_up(c, e) < 0 ||
	    net_lease(c, o->id, netns_pid(o->netns), &a.addr, e) < 0 ||
	    net_veth_attach(c, &a, e) < 0) {
		struct cl_err ignored;
		net_release(c, o->id, &ignored);
		close(a.netns_fd);
		return -1;
	}
	close(a.netns_fd);
	net_ntoa(a.addr, ip);
	net_ntoa(net_gateway(c), gw);
	printf("%s/%u %s\n", ip, c->prefix, gw);
	return 0;
}

static int list(const struct net_cfg *c, bool json, struct cl_err *e)
{
	char dir[4096], id[256];
	struct dirent *d;
	struct in_addr a;
	bool first = true;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", c->lease_root, c->name);
	if (!(dp = opendir(dir)))
		return errno == ENOENT ? (json ? puts("[]") : 0, 0) : cl_error(e, errno, "%s", dir);
	if (json)
		putchar('[');
	while ((d = readdir(dp))) {
		int fd;
		ssize_t n;
		if (inet_pton(AF_INET, d->d_name, &a) != 1 ||
		    (fd = openat(dirfd(dp), d->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			continue;
		n = read(fd, id, sizeof(id) - 1);
		close(fd);
		id[n > 0 ? n : 0] = '\0';
		id[strcspn(id, " \n\"\\")] = '\0'; /* ids are [A-Za-z0-9_.-]: nothing to escape */
		printf(json ? "%s{\"address\":\"%s\",\"id\":\"%s\"}" : "%s%s %s\n",
		       json && !first ? "," : "", d->d_name, id);
		first = false;
	}
	closedir(dp);
	if (json)
		puts("]");
	return 0;
}

int cl_net_main(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "";
	struct net_opts o = {0};
	struct net_cfg c;
	struct cl_err e = {0};
	const char *info = asks_info(argc, argv);
	int r;

	if (info)
		return fputs(info, stdout) == EOF;
	if (strcmp(verb, "attach") && strcmp(verb, "detach") && strcmp(verb, "ls"))
		return usage(verb, "usage: network attach|detach|ls [OPTIONS] [ID]", NULL);
	if ((r = parse(argc - 1, argv + 1, verb, &o)) != 0)
		return r;
	if (o.oci_state && (o.id || strcmp(verb, "ls") == 0))
		return usage(verb, "--oci-state takes the id from stdin, not",
			     o.id ? o.id : "with ls");
	if (o.oci_state && read_state(&o, &e) < 0) {
		fprintf(stderr, "containerd-lite: network %s: %s\n", verb, e.msg);
		return 1;
	}
	if (strcmp(verb, "ls") != 0 && !o.id)
		return usage(verb, "a container id is needed", NULL);
	if (strcmp(verb, "attach") == 0 && !o.netns)
		return usage(verb, "--netns PATH is needed", NULL);
	if (net_cfg_init(&c, o.network, o.subnet, &e) < 0)
		r = -1;
	else if (strcmp(verb, "attach") == 0)
		r = attach(&c, &o, &e);
	else if (strcmp(verb, "detach") == 0)
		r = net_veth_detach(o.id, &e) < 0 ? -1 : net_release(&c, o.id, &e);
	else
		r = list(&c, o.json, &e);
	if (r < 0) {
		fprintf(stderr, "containerd-lite: %s\n", e.msg);
		return 1;
	}
	return 0;
}
