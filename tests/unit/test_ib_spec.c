/* test_ib_spec.c: the image spec parser: a valid spec, and every error as
 * one "FILE:LINE:COL: key "...": problem" line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "image-builder.h"
#include "lib/regcfg.h"

static char dir[] = "/tmp/test_ib_spec.XXXXXX";
static char cwd[4096];

#define BASE                                                                                       \
	"name: wisp\n"                                                                             \
	"disk:\n"                                                                                  \
	"  esp_size: 32MiB\n"                                                                      \
	"  root_size: 64MiB\n"                                                                     \
	"  state_size: 64MiB\n"                                                                    \
	"kernel:\n"                                                                                \
	"  image: bzImage\n"                                                                       \
	"rootfs:\n"                                                                                \
	"  manifest: manifest\n"

static int setup(void **state)
{
	struct ib_err err;

	(void)state;
	if (!getcwd(cwd, sizeof(cwd)) || !mkdtemp(dir) || chdir(dir) < 0)
		return -1;
	if (ib_write_file("bzImage", "kernel", 6, 0644, &err) < 0 ||
	    ib_write_file("manifest", "dir /etc 0755\n", 14, 0644, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(cwd) < 0)
		return -1;
	return ib_rm_rf(dir);
}

static int parse(struct ib_spec *s, const char *yaml, struct ib_err *err)
{
	return ib_spec_parse(s, "t.yaml", yaml, strlen(yaml), err);
}

/* A spec parsed, and every field it gives: each of its keys, and the
 * defaults (host name = name, no cmdline, slot A, no timeout, no services). */
struct good {
	const char *what, *yaml;
	const char *name, *hostname, *kernel_image, *kernel_cmdline, *manifest;
	uint64_t esp_size, root_size, state_size;
	char default_slot;
	unsigned timeout;
	const char *services_yaml;
	const char *firewall_allow; /* NULL: no firewall key */
	const char *bridge_subnet;  /* NULL: no bridge key */
};

static const struct good good_specs[] = {
    {.what = "full",
     .yaml = "name: wisp\n"
	     "hostname: host-1.example\n"
	     "disk: {esp_size: 33MiB, root_size: 1GiB, state_size: 65536KiB}\n"
	     "kernel:\n"
	     "  image: bzImage\n"
	     "  cmdline: console=ttyS0,115200 quiet\n"
	     "rootfs:\n"
	     "  manifest: manifest\n"
	     "boot:\n"
	     "  default_slot: B\n"
	     "  timeout: 5\n"
	     "services:\n"
	     "  - name: console\n"
	     "    command: [/bin/sh, -l]\n"
	     "    tty: console\n"
	     "    restart: always\n"
	     "  - name: hello\n"
	     "    command: [/bin/sh, -c, 'echo \"hi: $(uname -r)\"; date > /run/x']\n"
	     "    env: {N: '123', M: 123}\n"
	     "firewall:\n"
	     "  allow: [8080, 53/udp, '443/tcp']\n"
	     "bridge: {subnet: 10.77.0.0/24}\n",
     .firewall_allow = "8080/tcp\n53/udp\n443/tcp\n",
     .bridge_subnet = "10.77.0.0/24",
     .name = "wisp",
     .hostname = "host-1.example",
     .kernel_image = "bzImage",
     .kernel_cmdline = "console=ttyS0,115200 quiet",
     .manifest = "manifest",
     .esp_size = 33 * IB_MIB,
     .root_size = IB_GIB,
     .state_size = 64 * IB_MIB,
     .default_slot = 'B',
     .timeout = 5,
     .services_yaml = "services:\n"
		      "- name: console\n"
		      "  command: [/bin/sh, -l]\n"
		      "  tty: console\n"
		      "  restart: always\n"
		      "- name: hello\n"
		      "  command: [/bin/sh, -c, 'echo \"hi: $(uname -r)\"; date > /run/x']\n"
		      "  env: {N: '123', M: 123}\n"},
    {.what = "defaults",
     .yaml = BASE,
     .name = "wisp",
     .hostname = "wisp",
     .kernel_image = "bzImage",
     .kernel_cmdline = "",
     .manifest = "manifest",
     .esp_size = 32 * IB_MIB,
     .root_size = 64 * IB_MIB,
     .state_size = 64 * IB_MIB,
     .default_slot = 'A',
     .timeout = 0,
     .services_yaml = "services: []\n"},
};

static void valid_specs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_specs) / sizeof(good_specs[0]); i++) {
		const struct good *w = &good_specs[i];
		struct ib_spec s;
		struct ib_err err = {0};

		if (parse(&s, w->yaml, &err) < 0)
			fail_msg("%s: %s", w->what, err.msg);
		print_message("spec: %s\n", w->what);
		assert_string_equal(s.name, w->name);
		assert_string_equal(s.hostname, w->hostname);
		assert_true(s.esp_size == w->esp_size);
		assert_true(s.root_size == w->root_size);
		assert_true(s.state_size == w->state_size);
		assert_string_equal(s.kernel_image, w->kernel_image);
		assert_string_equal(s.kernel_cmdline, w->kernel_cmdline);
		assert_string_equal(s.manifest, w->manifest);
		assert_int_equal(s.default_slot, w->default_slot);
		assert_int_equal(s.timeout, w->timeout);
		assert_string_equal(s.services_yaml, w->services_yaml);
		assert_int_equal(s.services_len, strlen(w->services_yaml));
		if (w->bridge_subnet)
			assert_string_equal(s.bridge_subnet, w->bridge_subnet);
		else
			assert_null(s.bridge_subnet);
		if (w->firewall_allow)
			assert_string_equal(s.firewall_allow, w->firewall_allow);
		else
			assert_null(s.firewall_allow);
		ib_spec_free(&s);
	}
}

static void images(void **state)
{
	struct ib_spec s;
	struct ib_err err = {0};

	(void)state;
	if (parse(&s,
		  BASE "images:\n"
		       "  - archive: bzImage\n"
		       "    name: example.org/web:1\n"
		       "  - {archive: ., import: build}\n"
		       "  - {archive: manifest, import: boot, live: true}\n",
		  &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nimages, 3);
	assert_string_equal(s.images[0].archive, "bzImage");
	assert_string_equal(s.images[0].name, "example.org/web:1");
	assert_false(s.images[0].at_boot);
	assert_int_equal(s.images[0].line, 11);
	assert_string_equal(s.images[1].archive, ".");
	assert_null(s.images[1].name);
	assert_false(s.images[1].at_boot);
	assert_true(s.images[2].at_boot);
	/* live media carry only what is asked for (live.c) */
	assert_false(s.images[0].live);
	assert_false(s.images[1].live);
	assert_true(s.images[2].live);
	ib_spec_free(&s);
}

/* update.key: one path, or a list of them (a key rotation), in order. */
static void update_keys(void **state)
{
	struct ib_spec s;
	struct ib_err err = {0};

	(void)state;
	if (parse(&s, BASE "update: {key: bzImage}\n", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nupdate_keys, 1);
	assert_string_equal(s.update_keys[0], "bzImage");
	ib_spec_free(&s);
	if (parse(&s, BASE "update:\n  key: [bzImage, manifest]\n", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nupdate_keys, 2);
	assert_string_equal(s.update_keys[0], "bzImage");
	assert_string_equal(s.update_keys[1], "manifest");
	ib_spec_free(&s);
}

/* registries: user-data's wisp.registries schema, into the files lib/regcfg.c renders. */
static void registries(void **state)
{
	struct ib_spec s;
	struct ib_err err = {0};
	struct reg_file *f;
	size_t n;

	(void)state;
	if (parse(&s,
		  BASE "registries:\n"
		       "  docker.io: {mirrors: [mirror.lan:5000, '10.0.0.5:5000']}\n"
		       "  mirror.lan:5000: {insecure: true}\n"
		       "  plain.lan: {insecure: False}\n"
		       "  ghcr.io: {username: bot, password: 'p\"w:1', ca: /etc/ssl/ghcr.pem}\n"
		       "  quay.io: {auth: Ym90OnB3}\n"
		       "  10.0.2.2:5443:\n"
		       "    ca: |\n"
		       "      -----BEGIN CERTIFICATE-----\n"
		       "      MIIB\n"
		       "      -----END CERTIFICATE-----\n"
		       "  empty.io: {}\n",
		  &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nregistries, 7);
	assert_string_equal(s.registries[0].host, "docker.io");
	assert_string_equal(s.registries[0].mirrors[1], "10.0.0.5:5000");
	assert_null(s.registries[0].mirrors[2]);
	assert_int_equal(s.registries[0].insecure, -1);
	assert_int_equal(s.registries[1].insecure, 1);
	assert_int_equal(s.registries[2].insecure, 0);
	assert_string_equal(s.registries[3].password, "p\"w:1");
	/* where a path ca was written, for the build's look into ROOT; none for PEM text */
	assert_int_equal(s.registry_ca_at[3][0], 14);
	assert_int_equal(s.registry_ca_at[3][1], 51);
	assert_int_equal(s.registry_ca_at[5][0], 0);
	assert_int_equal(reg_render(s.registries, s.nregistries, &f, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(f[0].path, "/etc/wisp/registry-ca/10.0.2.2:5443.pem");
	assert_string_equal(f[0].text,
			    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	assert_string_equal(f[1].path, "/etc/wisp/registries.json");
	assert_int_equal(f[1].mode, 0644);
	assert_string_equal(
	    f[1].text,
	    "{\"registries\": {\n"
	    "    \"docker.io\": {\"mirrors\": [\"mirror.lan:5000\", \"10.0.0.5:5000\"]},\n"
	    "    \"mirror.lan:5000\": {\"insecure\": true},\n"
	    "    \"plain.lan\": {\"insecure\": false},\n"
	    "    \"ghcr.io\": {\"ca\": \"/etc/ssl/ghcr.pem\"},\n"
	    "    \"10.0.2.2:5443\": {\"ca\": \"/etc/wisp/registry-ca/10.0.2.2:5443.pem\"}\n"
	    "}}\n");
	assert_string_equal(f[2].path, "/etc/wisp/registry-auth.json");
	assert_int_equal(f[2].mode, 0600);
	assert_string_equal(f[2].text, "{\"auths\": {\n"
				       "    \"ghcr.io\": {\"auth\": \"Ym90OnAidzox\"},\n"
				       "    \"quay.io\": {\"auth\": \"Ym90OnB3\"}\n"
				       "}}\n");
	reg_files_free(f, n);
	ib_spec_free(&s);
	if (parse(&s, BASE "registries: {}\n", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nregistries, 0);
	ib_spec_free(&s);
}

/* The longest user name and password are 512 characters, as in user-data. */
static void registry_lengths(void **state)
{
	char yaml[1400], long_[514];
	struct ib_spec s;
	struct ib_err err = {0};

	(void)state;
	memset(long_, 'x', 512), long_[512] = '\0';
	snprintf(yaml, sizeof(yaml), BASE "registries: {a.io: {username: %s, password: %s}}\n",
		 long_, long_);
	if (parse(&s, yaml, &err) < 0)
		fail_msg("%s", err.msg);
	ib_spec_free(&s);
	long_[512] = 'x', long_[513] = '\0';
	snprintf(yaml, sizeof(yaml), BASE "registries: {a.io: {username: u, password: %s}}\n",
		 long_);
	assert_int_equal(parse(&s, yaml, &err), -1);
	assert_non_null(strstr(err.msg, "key \"registries.a.io.password\": not a password"));
}

struct bad {
	const char *yaml;
	const char *msg;
};

static const struct bad bad_specs[] = {
    {BASE "bogus: 1\n", "t.yaml:10:1: key \"bogus\": unknown key"},
    {"name: wisp\n"
     "disk:\n"
     "  esp_size: 32MiB\n"
     "  root_size: 64MB\n",
     "t.yaml:4:14: key \"disk.root_size\": \"64MB\": unknown size suffix"},
    {"name: wisp\n"
     "disk: {esp_size: 32MiB, root_size: 1000KiB, state_size: 1MiB}\n",
     "t.yaml:2:36: key \"disk.root_size\": \"1000KiB\": must be a multiple of 1MiB"},
    {"name: wisp\n"
     "disk: {esp_size: 32MiB, root_size: [1], state_size: 1MiB}\n",
     "t.yaml:2:36: key \"disk.root_size\": expected a size"},
    {"name: wisp\n"
     "disk: {esp_size: 32MiB, state_size: 1MiB}\n",
     "t.yaml:2:7: key \"disk.root_size\": missing (required)"},
    {"name: wisp\n", "t.yaml:1:1: key \"disk\": missing (required)"},
    {"disk: 5\n", "t.yaml:1:7: key \"disk\": expected a mapping"},
    {BASE "disk: {}\n", "t.yaml:10:1: key \"disk\": duplicate key"},
    {"name: wisp\nkernel: {image: nothere}\n", "t.yaml:2:17: key \"kernel.image\": nothere"},
    {"name: wisp\nkernel: {image: .}\n",
     "t.yaml:2:17: key \"kernel.image\": .: not a regular file"},
    {"name: wisp\nkernel: {image: bzImage, cmdline: root=/dev/sda}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"root=/dev/sda\": the slot sets its root"},
    {"name: wisp\nkernel: {image: bzImage, cmdline: 'a;b'}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": has a character GRUB's script would read"},
    /* the updater's table (init/update/kargs.c), each entry the spec once let through */
    {"name: wisp\nkernel: {image: bzImage, cmdline: quiet init=/bin/sh}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"init=/bin/sh\": would run another"},
    {"name: wisp\nkernel: {image: bzImage, cmdline: wisp.update_deadline=86400}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"wisp.update_deadline=86400\": the "
     "trial's deadline"},
    {"name: wisp\nkernel: {image: bzImage, cmdline: softdog.soft_noboot=1}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"softdog.soft_noboot=1\": the trial's "
     "watchdog"},
    {"name: wisp\nkernel: {image: bzImage, cmdline: console=ttyS0 -- x}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"--\""},
    {"name: wisp\nkernel: {image: bzImage, cmdline: dm_mod.create=x}\n",
     "t.yaml:2:35: key \"kernel.cmdline\": argument \"dm_mod.create=x\""},
    {"name: wisp\nrootfs: {manifest: nope}\n", "t.yaml:2:20: key \"rootfs.manifest\": nope"},
    {"name: wisp\nboot: {default_slot: C}\n",
     "t.yaml:2:22: key \"boot.default_slot\": expected A or B"},
    {"name: wisp\nboot: {timeout: 5s}\n",
     "t.yaml:2:17: key \"boot.timeout\": \"5s\": expected a number of seconds"},
    {"name: wisp\nboot: {timeout: 99999}\n",
     "t.yaml:2:17: key \"boot.timeout\": \"99999\": more than 3600 seconds"},
    {"name: wisp\nboot: {bogus: 1}\n", "t.yaml:2:8: key \"boot.bogus\": unknown key"},
    /* a key spanning lines (fuzz_ib_spec): the error stays one line */
    {"name: wisp\nboot: {bo\n\n\ngus}\n", "t.yaml:2:8: key \"boot.bo??gus\": unknown key"},
    {"name: wisp\nservices: {a: 1}\n", "t.yaml:2:11: key \"services\": expected a list"},
    {"name: wisp\nservices:\n  - a\n",
     "t.yaml:3:5: key \"services\": each service must be a mapping"},
    {"name: wisp\nservices: &a [{x: *a}]\n", "key \"services\": nested too deeply"},
    {"name: w/x\n", "t.yaml:1:7: key \"name\": only letters, digits"},
    {"name: [w]\n", "t.yaml:1:7: key \"name\": expected a string"},
    {"name: wisp\nhostname: -x\n", "t.yaml:2:11: key \"hostname\": not a valid host name"},
    {"name: wisp_1\n"
     "disk: {esp_size: 32MiB, root_size: 64MiB, state_size: 64MiB}\n"
     "kernel: {image: bzImage}\n"
     "rootfs: {manifest: manifest}\n",
     "t.yaml:1:1: key \"hostname\": missing, and the default"},
    {"? [a]\n: b\n", "t.yaml:1:3: key \"\": keys must be strings"},
    {"name: [oops\n", "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']'"},
    {"a: b: c\n", "t.yaml:1:5: YAML syntax error: mapping values are not allowed"},
    {"", "t.yaml:1:1: empty spec"},
    {"- a\n", "t.yaml:1:1: the spec must be a mapping"},
    {BASE "---\nname: x\n", "t.yaml:10:1: more than one YAML document"},
    {"name: wisp\nimages: {archive: bzImage}\n",
     "t.yaml:2:9: key \"images\": expected a list of images"},
    {"name: wisp\nimages: [bzImage]\n",
     "t.yaml:2:10: key \"images[0]\": expected a mapping (archive, name, import, live)"},
    {"name: wisp\nimages:\n  - {archive: bzImage}\n  - {name: x}\n",
     "t.yaml:4:5: key \"images[1].archive\": missing (required)"},
    {"name: wisp\nimages: [{archive: nothere.tar}]\n",
     "t.yaml:2:20: key \"images[0].archive\": nothere.tar"},
    {"name: wisp\nimages: [{archive: bzImage, name: 'a b'}]\n",
     "t.yaml:2:35: key \"images[0].name\": only printable ASCII without blanks"},
    {"name: wisp\nimages: [{archive: bzImage, import: later}]\n",
     "t.yaml:2:37: key \"images[0].import\": expected build or boot"},
    {"name: wisp\nimages: [{archive: ., import: boot}]\n",
     "t.yaml:2:20: key \"images[0].archive\": .: import: boot needs a file"},
    {"name: wisp\nimages: [{archive: bzImage, live: yes}]\n",
     "t.yaml:2:35: key \"images[0].live\": expected true or false"},
    {"name: wisp\nimages: [{archive: bzImage, tag: x}]\n",
     "t.yaml:2:29: key \"images[0].tag\": unknown key"},
    {"name: wisp\nfirewall: {allow: [22, 0]}\n",
     "t.yaml:2:24: key \"firewall.allow[1]\": expected PORT or PORT/tcp or PORT/udp (1-65535)"},
    {"name: wisp\nfirewall: {allow: [22/sctp]}\n",
     "t.yaml:2:20: key \"firewall.allow[0]\": expected PORT or PORT/tcp"},
    {"name: wisp\nfirewall: {allow: 22}\n",
     "t.yaml:2:19: key \"firewall.allow\": expected a list of ports"},
    {"name: wisp\nfirewall: {open: [22]}\n", "t.yaml:2:12: key \"firewall.open\": unknown key"},
    {"name: wisp\nbridge: {subnet: 10.77.0.1/24}\n",
     "t.yaml:2:18: key \"bridge.subnet\": has host bits set"},
    {"name: wisp\nbridge: {subnet: 10.77.0.0/31}\n",
     "t.yaml:2:18: key \"bridge.subnet\": the prefix must be 8 to 30"},
    {"name: wisp\nbridge: {subnet: 10.77.0.0}\n",
     "t.yaml:2:18: key \"bridge.subnet\": expected an IPv4 subnet A.B.C.D/N"},
    {"name: wisp\nbridge: {subnet: 300.1.0.0/16}\n",
     "t.yaml:2:18: key \"bridge.subnet\": expected an IPv4 subnet A.B.C.D/N"},
    {"name: wisp\nupdate: {key: []}\n",
     "t.yaml:2:15: key \"update.key\": expected a path or a list of paths"},
    {"name: wisp\nupdate: {key: {a: b}}\n",
     "t.yaml:2:15: key \"update.key\": expected a path or a list of paths"},
    {"name: wisp\nupdate: {key: [bzImage, nothere]}\n",
     "t.yaml:2:25: key \"update.key[1]\": nothere"},
    {"name: wisp\nupdate: {key: [bzImage, [bzImage]]}\n",
     "t.yaml:2:25: key \"update.key[1]\": expected a path"},
    {"name: wisp\nupdate:\n  key: [bzImage, bzImage, bzImage, bzImage, bzImage, bzImage, bzImage, "
     "bzImage, bzImage]\n",
     "key \"update.key\": at most 8 keys"},
    {"name: wisp\nregistries: [a.io]\n",
     "t.yaml:2:13: key \"registries\": expected a mapping of registry hosts (host[:port])"},
    {"name: wisp\nregistries: {'a b': {}}\n",
     "t.yaml:2:14: key \"registries.a b\": not a registry host[:port] (docker.io, ghcr.io, "
     "10.0.0.5:5000)"},
    {"name: wisp\nregistries: {-a.io: {}}\n",
     "t.yaml:2:14: key \"registries.-a.io\": not a registry host[:port]"},
    {"name: wisp\nregistries: {[a]: {}}\n",
     "t.yaml:2:14: key \"registries.?\": not a registry host[:port]"},
    {"name: wisp\nregistries: {a.io: {}, a.io: {}}\n",
     "t.yaml:2:24: key \"registries.a.io\": duplicate key"},
    {"name: wisp\nregistries: {a.io: 5}\n",
     "t.yaml:2:20: key \"registries.a.io\": expected a mapping (mirrors, insecure, ca, username, "
     "password, auth)"},
    {"name: wisp\nregistries: {a.io: {insecur: true}}\n",
     "t.yaml:2:21: key \"registries.a.io.insecur\": unknown key"},
    {"name: wisp\nregistries: {a.io: {[x]: true}}\n",
     "t.yaml:2:21: key \"registries.a.io\": keys must be strings"},
    {"name: wisp\nregistries: {a.io: {insecure: true, insecure: false}}\n",
     "t.yaml:2:37: key \"registries.a.io.insecure\": duplicate key"},
    {"name: wisp\nregistries: {a.io: {insecure: yes}}\n",
     "t.yaml:2:31: key \"registries.a.io.insecure\": expected true or false"},
    {"name: wisp\nregistries: {a.io: {insecure: [true]}}\n",
     "t.yaml:2:31: key \"registries.a.io.insecure\": expected true or false"},
    {"name: wisp\nregistries: {a.io: {mirrors: m.io}}\n",
     "t.yaml:2:30: key \"registries.a.io.mirrors\": expected a list of registry hosts"},
    {"name: wisp\nregistries: {a.io: {mirrors: [m.io, 'b c']}}\n",
     "t.yaml:2:37: key \"registries.a.io.mirrors[1]\": not a registry host[:port]"},
    {"name: wisp\nregistries: {a.io: {mirrors: [[m.io]]}}\n",
     "t.yaml:2:31: key \"registries.a.io.mirrors[0]\": not a registry host[:port]"},
    {"name: wisp\nregistries: {a.io: {mirrors: [a, b, c, d, e, f, g, h, i]}}\n",
     "t.yaml:2:55: key \"registries.a.io.mirrors\": at most 8 mirrors"},
    {"name: wisp\nregistries: {a.io: {ca: 'not pem'}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": neither PEM certificates nor an absolute path"},
    {"name: wisp\nregistries: {a.io: {ca: /etc/../x.pem}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": neither PEM certificates nor an absolute path"},
    {"name: wisp\nregistries: {a.io: {ca: '/etc/a b.pem'}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": neither PEM certificates nor an absolute path"},
    {"name: wisp\nregistries: {a.io: {ca: \"-----BEGIN CERTIFICATE-----\\x01\"}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": neither PEM certificates nor an absolute path"},
    {"name: wisp\nregistries: {a.io: {ca: \"/etc/a\\0.pem\"}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": contains a NUL character"},
    {"name: wisp\nregistries: {a.io: {ca: [/etc/a.pem]}}\n",
     "t.yaml:2:25: key \"registries.a.io.ca\": neither PEM certificates nor an absolute path"},
    {"name: wisp\nregistries: {a.io: {username: 'a:b', password: p}}\n",
     "t.yaml:2:31: key \"registries.a.io.username\": not a user name (1-512 characters, no ':')"},
    {"name: wisp\nregistries: {a.io: {username: '', password: p}}\n",
     "t.yaml:2:31: key \"registries.a.io.username\": not a user name"},
    {"name: wisp\nregistries: {a.io: {username: u, password: ''}}\n",
     "t.yaml:2:44: key \"registries.a.io.password\": not a password (1-512 characters)"},
    {"name: wisp\nregistries: {a.io: {auth: '!!'}}\n",
     "t.yaml:2:27: key \"registries.a.io.auth\": not base64 of USER:PASSWORD"},
    {"name: wisp\nregistries: {a.io: {auth: Ym90}}\n",
     "t.yaml:2:27: key \"registries.a.io.auth\": not base64 of USER:PASSWORD"},
    {"name: wisp\nregistries: {a.io: {username: u}}\n",
     "t.yaml:2:20: key \"registries.a.io\": username and password go together"},
    {"name: wisp\nregistries: {a.io: {password: p}}\n",
     "t.yaml:2:20: key \"registries.a.io\": username and password go together"},
};

static void errors(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		struct ib_spec s;
		struct ib_err err = {0};

		if (parse(&s, bad_specs[i].yaml, &err) == 0)
			fail_msg("accepted:\n%s", bad_specs[i].yaml);
		if (strncmp(err.msg, bad_specs[i].msg, strlen(bad_specs[i].msg)) != 0)
			if (!strstr(err.msg, bad_specs[i].msg)) {
				print_error("got  \"%s\"\nwant \"%s\"\n", err.msg,
					    bad_specs[i].msg);
				failed++;
			}
		assert_null(strchr(err.msg, '\n')); /* one line */
		assert_null(s.name);		    /* nothing left allocated */
	}
	assert_int_equal(failed, 0);
}

static void load_missing_file(void **state)
{
	struct ib_spec s;
	struct ib_err err = {0};

	(void)state;
	assert_int_equal(ib_spec_load(&s, "nothere.yaml", &err), -1);
	assert_string_equal(err.msg, "open nothere.yaml: No such file or directory");
	assert_int_equal(err.num, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(valid_specs),	 cmocka_unit_test(images),
	    cmocka_unit_test(update_keys),	 cmocka_unit_test(registries),
	    cmocka_unit_test(registry_lengths),	 cmocka_unit_test(errors),
	    cmocka_unit_test(load_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
