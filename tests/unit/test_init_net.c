/* Unit tests: init/provision/net.c, which units the network gets, on a fake sysfs and /etc/wisp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* net.c logs through lib/log.c; the tests read its lines, and collect what it plans
 * (net_plan()). */
#include "logged.h"

struct planned {
	char text[8192]; /* "name|oneshot|argv0 argv1 ...\n" per unit */
};

static void collect(void *ctx, const char *name, char *const argv[], bool oneshot)
{
	struct planned *p = ctx;
	size_t len = strlen(p->text);

	len += (size_t)snprintf(p->text + len, sizeof(p->text) - len, "%s|%d|", name, oneshot);
	for (size_t i = 0; argv[i]; i++)
		len += (size_t)snprintf(p->text + len, sizeof(p->text) - len, "%s%s", i ? " " : "",
					argv[i]);
	snprintf(p->text + len, sizeof(p->text) - len, "\n");
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Fake /sys: lo and a veth (no device), eth0 and eth1 (with one); the image's
 * /etc/wisp and an empty datasource directory. A NULL text: a directory. */
static const char *const tree[][2] = {
    {"class/net/lo", NULL},
    {"class/net/veth0", NULL},
    {"class/net/eth0/device", NULL},
    {"class/net/eth0/address", "52:54:00:12:34:56\n"},
    {"class/net/eth1/device", NULL},
    {"class/net/eth1/address", "52:54:00:ab:cd:ef\n"},
    {"wisp", NULL},
    {"wisp/image.yaml", "services:\n- name: x\n  command: [true]\n"},
    {"cidata", NULL},
};

static int setup(void **state)
{
	char path[256];
	struct err e;

	(void)state;
	strcpy(root, "/tmp/test_net_XXXXXX");
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < ARRAY_LEN(tree); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, tree[i][0]);
		if (tree[i][1])
			put(tree[i][0], tree[i][1]);
		else
			assert_int_equal(mkdir_p(path, 0755, &e), 0);
	}
	logged[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void plan(struct planned *p)
{
	char wisp[128], ds[128], resolv[128];

	memset(p, 0, sizeof(*p));
	snprintf(wisp, sizeof(wisp), "%s/wisp", root);
	snprintf(ds, sizeof(ds), "%s/cidata", root);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", root);
	net_plan(root, wisp, ds, resolv, collect, p);
}

static char *resolv_text(void)
{
	static char text[512];
	char path[128];
	struct err e;

	snprintf(path, sizeof(path), "%s/resolv.conf", root);
	text[0] = '\0';
	read_text(path, text, sizeof(text), &e);
	return text;
}

static void test_default_dhcp(void **state)
{
	struct planned p;

	(void)state;
	plan(&p);
	assert_string_equal(p.text,
			    "dhcp-eth0|0|udhcpc -f -i eth0 -s /usr/share/udhcpc/default.script\n"
			    "dhcp-eth1|0|udhcpc -f -i eth1 -s /usr/share/udhcpc/default.script\n");
}

static void test_static(void **state)
{
	struct planned p;

	(void)state;
	put("wisp/50-net.yaml",
	    "network:\n"
	    "  version: 2\n"
	    "  ethernets:\n"
	    "    eth0: {dhcp4: true}\n"
	    "    lan:\n"
	    "      match: {macaddress: '52:54:00:AB:CD:EF'}\n"
	    "      set-name: lan0\n"
	    "      addresses: [10.0.0.5/24, 'fd00::5/64']\n"
	    "      gateway4: 10.0.0.1\n"
	    "      routes: [{to: 192.168.7.0/24, via: 10.0.0.1}]\n"
	    "      nameservers: {addresses: [10.0.0.53], search: [a.test, b.test]}\n");
	plan(&p);
	assert_string_equal(p.text,
			    "dhcp-eth0|0|udhcpc -f -i eth0 -s /usr/share/udhcpc/default.script\n"
			    "net-lan0|1|/bin/sh -c set -x; ip link set dev eth1 name lan0; "
			    "ip link set dev lan0 up && ip addr add 10.0.0.5/24 dev lan0 && "
			    "ip addr add fd00::5/64 dev lan0 && "
			    "ip route add default via 10.0.0.1 dev lan0 && "
			    "ip route add 192.168.7.0/24 via 10.0.0.1 dev lan0\n");
	assert_non_null(strstr(resolv_text(), "\nsearch a.test b.test\nnameserver 10.0.0.53\n"));
}

static void test_only_configured_nics(void **state)
{
	struct planned p;

	(void)state;
	put("wisp/50-net.yaml", "network:\n  ethernets:\n    eth1:\n      dhcp4: yes\n");
	plan(&p);
	assert_string_equal(p.text,
			    "dhcp-eth1|0|udhcpc -f -i eth1 -s /usr/share/udhcpc/default.script\n");
	assert_non_null(strstr(logged, "eth0: not in the network configuration"));
}

static void test_no_injection(void **state)
{
	struct planned p;

	(void)state;
	/* Every value ends up in a shell command: anything but address characters is refused. */
	put("wisp/50-net.yaml", "network:\n  ethernets:\n"
				"    eth0: {addresses: ['10.0.0.5/24; reboot']}\n"
				"    eth1: {addresses: [10.0.0.6/24], gateway4: '$(reboot)'}\n");
	plan(&p);
	assert_string_equal(p.text, "");
	assert_non_null(strstr(logged, "50-net.yaml:3:"));
	assert_non_null(strstr(logged, "bad address \"10.0.0.5/24; reboot\""));
	assert_non_null(strstr(logged, "bad gateway4 \"$(reboot)\""));

	logged[0] = '\0';
	put("wisp/50-net.yaml", "network:\n  ethernets:\n"
				"    eth0: {set-name: '-x'}\n"
				"    'eth1 x': {dhcp4: true}\n"
				"    eth1: {routes: [{to: default}]}\n");
	plan(&p);
	assert_string_equal(p.text, "");
	assert_non_null(strstr(logged, "bad set-name"));
	assert_non_null(strstr(logged, "bad interface key"));
	assert_non_null(strstr(logged, "a route needs"));
}

#define DHCP(n) "dhcp-" n "|0|udhcpc -f -i " n " -s /usr/share/udhcpc/default.script\n"

/* NoCloud network-config, v2 wrapped in network:, matching eth1 by its MAC. */
static void test_ds_v2(void **state)
{
	struct planned p;

	(void)state;
	put("cidata/network-config", "network:\n"
				     "  version: 2\n"
				     "  ethernets:\n"
				     "    id0:\n"
				     "      match: {macaddress: '52:54:00:ab:cd:ef'}\n"
				     "      set-name: lan0\n"
				     "      addresses: [10.0.2.60/24]\n"
				     "      gateway4: 10.0.2.2\n");
	plan(&p);
	assert_string_equal(p.text,
			    "net-lan0|1|/bin/sh -c set -x; ip link set dev eth1 name lan0; "
			    "ip link set dev lan0 up && ip addr add 10.0.2.60/24 dev lan0 && "
			    "ip route add default via 10.0.2.2 dev lan0\n");
	assert_non_null(strstr(logged, "eth0: not in the network configuration"));
	assert_non_null(strstr(logged, "cidata/network-config (1 interface)"));
}

/* Safe mode (no datasource directory): a network-config the failed run left is not
 * read; DHCP on every NIC, as /etc/wisp has no network: key. */
static void test_safe_ignores_ds(void **state)
{
	char wisp[128], resolv[128];
	struct planned p;

	(void)state;
	put("cidata/network-config",
	    "version: 2\nethernets:\n  eth0: {addresses: [10.0.2.60/24]}\n");
	memset(&p, 0, sizeof(p));
	snprintf(wisp, sizeof(wisp), "%s/wisp", root);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", root);
	net_plan(root, wisp, NULL, resolv, collect, &p);
	assert_string_equal(p.text,
			    "dhcp-eth0|0|udhcpc -f -i eth0 -s /usr/share/udhcpc/default.script\n"
			    "dhcp-eth1|0|udhcpc -f -i eth1 -s /usr/share/udhcpc/default.script\n");
	assert_null(strstr(logged, "network-config"));
}

/* v1, unwrapped: netmask forms, routes, a global nameserver, dhcp, a renamed NIC. */
static void test_ds_v1(void **state)
{
	struct planned p;

	(void)state;
	put("cidata/network-config",
	    "version: 1\n"
	    "config:\n"
	    "  - type: physical\n"
	    "    name: eth0\n"
	    "    subnets:\n"
	    "      - type: static\n"
	    "        address: 192.168.14.2\n"
	    "        netmask: 255.255.255.0\n"
	    "        gateway: 192.168.14.1\n"
	    "        routes:\n"
	    "          - {network: 0.0.0.0, netmask: 0.0.0.0, gateway: 192.168.14.1}\n"
	    "          - {network: 10.0.0.0, netmask: 255.0.0.0, gateway: 192.168.14.3}\n"
	    "          - {network: 172.16.0.0, prefix: 12, gateway: 192.168.14.4}\n"
	    "      - type: static\n"
	    "        address: 192.168.15.2/24\n"
	    "      - type: dhcp6\n"
	    "  - type: physical\n"
	    "    name: wan0\n"
	    "    mac_address: '52:54:00:AB:CD:EF'\n"
	    "    subnets: [{type: dhcp}]\n"
	    "  - type: nameserver\n"
	    "    address: [192.168.14.1, 8.8.8.8]\n"
	    "    search: example.test\n");
	plan(&p);
	assert_string_equal(p.text,
			    "net-eth0|1|/bin/sh -c set -x; ip link set dev eth0 up && "
			    "ip addr add 192.168.14.2/24 dev eth0 && "
			    "ip addr add 192.168.15.2/24 dev eth0 && "
			    "ip route add default via 192.168.14.1 dev eth0 && "
			    "ip route add 10.0.0.0/8 via 192.168.14.3 dev eth0 && "
			    "ip route add 172.16.0.0/12 via 192.168.14.4 dev eth0\n"
			    "dhcp-wan0|0|/bin/sh -c ip link set dev eth1 name wan0 2>/dev/null; "
			    "exec udhcpc -f -i wan0 -s /usr/share/udhcpc/default.script\n");
	assert_non_null(strstr(resolv_text(), "search example.test\nnameserver 192.168.14.1\n"
					      "nameserver 8.8.8.8\n"));
	assert_non_null(strstr(logged, "network-config:16:15: network: type dhcp6"));
}

/* OpenStack network_data.json: a static network on one link, DHCP on the other. */
static void test_ds_openstack(void **state)
{
	struct planned p;

	(void)state;
	put("cidata/network_data.json",
	    "{\"links\": [{\"id\": \"tap0\", \"type\": \"ovs\", \"ethernet_mac_address\": "
	    "\"52:54:00:12:34:56\", \"mtu\": 1450},\n"
	    " {\"id\": \"tap1\", \"type\": \"phy\", \"ethernet_mac_address\": "
	    "\"52:54:00:ab:cd:ef\"}],\n"
	    " \"networks\": [{\"id\": \"n0\", \"type\": \"ipv4\", \"link\": \"tap0\",\n"
	    "   \"ip_address\": \"10.0.2.50\", \"netmask\": \"255.255.255.0\",\n"
	    "   \"routes\": [{\"network\": \"0.0.0.0\", \"netmask\": \"0.0.0.0\", \"gateway\": "
	    "\"10.0.2.2\"},\n"
	    "     {\"network\": \"192.168.77.0\", \"netmask\": \"255.255.255.0\", \"gateway\": "
	    "\"10.0.2.2\"}]},\n"
	    "  {\"id\": \"n1\", \"type\": \"ipv4_dhcp\", \"link\": \"tap1\"},\n"
	    "  {\"id\": \"n2\", \"type\": \"ipv6_slaac\", \"link\": \"tap1\"},\n"
	    "  {\"id\": \"n3\", \"type\": \"ipv6\", \"link\": \"tap0\", \"ip_address\": "
	    "\"fd00::5\",\n"
	    "   \"netmask\": \"ffff:ffff:ffff:ff80::\", \"routes\": [{\"network\": \"::\", "
	    "\"netmask\": \"::\", \"gateway\": \"fd00::1\"}]}],\n"
	    " \"services\": [{\"type\": \"dns\", \"address\": \"10.0.2.3\"}]}\n");
	plan(&p);
	assert_string_equal(p.text, "net-eth0|1|/bin/sh -c set -x; ip link set dev eth0 up && "
				    "ip addr add 10.0.2.50/24 dev eth0 && "
				    "ip addr add fd00::5/57 dev eth0 && "
				    "ip route add default via 10.0.2.2 dev eth0 && "
				    "ip route add 192.168.77.0/24 via 10.0.2.2 dev eth0 && "
				    "ip route add default via fd00::1 dev eth0\n" DHCP("eth1"));
	assert_non_null(strstr(resolv_text(), "nameserver 10.0.2.3\n"));
}

/* Any problem in a datasource's configuration: a warning naming it, and DHCP everywhere. */
static void test_ds_invalid(void **state)
{
	static const char *const bad[][3] = {
	    {"network-config", "version: 1\nconfig:\n  - type: bond\n    name: bond0\n",
	     "network-config:3:11: network: entry type not supported by Wisp \"bond\""},
	    {"network-config",
	     "version: 1\nconfig:\n- type: physical\n  name: eth0\n  subnets:\n"
	     "  - {type: static, address: 10.0.0.5, netmask: 255.0.255.0}\n",
	     "network-config:6:48: network: bad netmask \"255.0.255.0\""},
	    {"network-config", "version: 3\n", "network-config:1:10: network: unknown version"},
	    {"network_data.json",
	     "{\"links\": [{\"id\": \"a\", \"ethernet_mac_address\": \"52:54:00:12:34:56\"}],"
	     " \"networks\": [{\"type\": \"ipv6\", \"link\": \"a\", \"ip_address\": \"fd00::5\","
	     " \"netmask\": \"ffff:ff::\"}]}",
	     "network_data.json:1:150: network: bad netmask \"ffff:ff::\""},
	    {"network-config",
	     "version: 2\nethernets: {eth0: {dhcp4: true}}\nbonds: {bond0: {interfaces: [eth0]}}\n",
	     "network-config:3:8: network: not supported by Wisp: \"bonds\""},
	    {"network-config",
	     "network:\n  version: 2\n  ethernets:\n    eth0: {addresses: [x y]}\n",
	     "network-config:4:24: network: bad address \"x y\""},
	    {"network-config", "version: 2\nethernets: {eth0: {addresses: [10.0.0.5/24]\n",
	     "network-config:3:1: network: did not find expected"},
	    {"network_data.json",
	     "{\"links\": [{\"id\": \"a\", \"ethernet_mac_address\": \"52:54:00:12:34:56\"}],"
	     " \"networks\": [{\"type\": \"ipv4\", \"link\": \"b\", \"ip_address\": "
	     "\"10.0.0.5\"}]}",
	     "network_data.json:1:109: network: network's link is not in \"links\" \"b\""},
	    {"network_data.json", "{\"links\": [{\"id\": \"a\", \"type\": \"bond\"}]}",
	     "network_data.json:1:32: network: link type not supported by Wisp \"bond\""},
	    {"network_data.json", "[1, 2]", "network_data.json:1:1: network: expected a mapping"},
	};
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct planned p;

		logged[0] = '\0';
		put(strcmp(bad[i][0], "network-config") ? "cidata/network_data.json"
							: "cidata/network-config",
		    bad[i][1]);
		plan(&p);
		snprintf(path, sizeof(path), "%s/cidata/%s", root, bad[i][0]);
		unlink(path);
		if (!strstr(logged, bad[i][2]))
			fail_msg("case %zu: \"%s\" not in:\n%s", i, bad[i][2], logged);
		assert_non_null(strstr(logged, "invalid network configuration (above); DHCP"));
		assert_string_equal(p.text, DHCP("eth0") DHCP("eth1"));
	}
}

/* The image's own network: wins, as cloud-init's system config does over the datasource. */
static void test_image_wins(void **state)
{
	struct planned p;

	(void)state;
	put("wisp/50-net.yaml", "network:\n  ethernets:\n    eth1:\n      dhcp4: yes\n");
	put("cidata/network-config", "version: 2\nethernets: {eth0: {dhcp4: true}}\n");
	plan(&p);
	assert_string_equal(p.text, DHCP("eth1"));
	assert_non_null(strstr(logged, "has a network: key;"));

	/* cloud-init's "config: disabled": in the image, the datasource's is not used either */
	put("wisp/50-net.yaml", "network: {config: disabled}\n");
	put("cidata/network-config", "version: 2\nethernets: {eth0: {addresses: [10.0.0.5/24]}}\n");
	plan(&p);
	assert_string_equal(p.text, DHCP("eth0") DHCP("eth1"));
	assert_non_null(strstr(logged, "50-net.yaml: config: disabled: DHCP on every NIC"));
}

/* ... and from the datasource: no configuration, so the default. */
static void test_ds_disabled(void **state)
{
	struct planned p;

	(void)state;
	put("cidata/network-config", "network:\n  config: disabled\n");
	plan(&p);
	assert_string_equal(p.text, DHCP("eth0") DHCP("eth1"));
	assert_null(strstr(logged, "invalid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_dhcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_static, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_configured_nics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_injection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ds_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_safe_ignores_ds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ds_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ds_openstack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ds_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ds_disabled, setup, teardown),
	};

	return cmocka_run_group_tests_name("init_net", tests, NULL, NULL);
}
