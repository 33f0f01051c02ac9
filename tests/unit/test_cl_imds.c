/* The metadata endpoints whose traffic from containers is dropped
 * (containerd-lite/net/imds.c): the clouds' own, then what wisp.imds= and
 * wisp.wireserver= of the kernel command line move them to. One case a
 * row: the command line, the moved endpoints as text ("" for none). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "net/net.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *cmdline, *moved;
} cases[] = {
    {"console=ttyS0 root=/dev/vda2", ""},
    {"wisp.imds=192.0.2.7:8080", "192.0.2.7 port 8080;"},
    {"wisp.imds=192.0.2.7", "192.0.2.7 every port;"},
    {"wisp.wireserver=192.0.2.9", "192.0.2.9 but 53;"},
    {"wisp.wireserver=192.0.2.9:80 wisp.imds=[2001:db8::7]:81",
     "2001:db8::7 port 81;192.0.2.9 port 80;"},
    {"wisp.imds=2001:db8::7", "2001:db8::7 every port;"},
    {"wisp.imds=[2001:db8::7]", "2001:db8::7 every port;"},
    /* the kernel's rule: the last setting counts; "--" ends the kernel's */
    {"wisp.imds=192.0.2.1:1 wisp.imds=192.0.2.2:2", "192.0.2.2 port 2;"},
    {"wisp.imds=192.0.2.1 -- wisp.imds=192.0.2.2", "192.0.2.1 every port;"},
    /* no address to match: a name, or what provision refuses */
    {"wisp.imds=metadata.internal:80", ""},
    {"wisp.imds=192.0.2.7:0", ""},
    {"wisp.imds=192.0.2.7:65536", ""},
    {"wisp.imds=192.0.2.7:80x", ""},
    {"wisp.imds=[2001:db8::7", ""},
    {"wisp.imds=[2001:db8::7]x", ""},
    {"wisp.imds= wisp.imdsx=192.0.2.7 xwisp.imds=192.0.2.8", ""},
};

static void describe(const struct net_endpoint *ep, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(ep->family, ep->addr, addr, sizeof(addr));
	if (ep->port)
		snprintf(out, size, "%s port %u;", addr, ep->port);
	else
		snprintf(out, size, "%s %s;", addr, ep->keep_dns ? "but 53" : "every port");
}

static void test_builtin(void **state)
{
	struct net_endpoint ep[NET_IMDS_MAX];
	char text[256] = "", one[80];
	size_t n = net_imds_endpoints("", ep);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		describe(&ep[i], one, sizeof(one));
		strcat(text, one);
	}
	assert_string_equal(text, "169.254.169.254 every port;fd00:ec2::254 every port;"
				  "fd20:ce::254 every port;168.63.129.16 but 53;");
}

static void test_cases(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_endpoint ep[NET_IMDS_MAX];
		size_t base = net_imds_endpoints("", ep),
		       n = net_imds_endpoints(cases[i].cmdline, ep);
		char got[256] = "", one[80];

		for (size_t k = base; k < n; k++) {
			describe(&ep[k], one, sizeof(one));
			strcat(got, one);
		}
		if (strcmp(got, cases[i].moved) != 0) {
			print_message("case %zu: \"%s\": \"%s\", want \"%s\"\n", i,
				      cases[i].cmdline, got, cases[i].moved);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_builtin),
					   cmocka_unit_test(test_cases)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
