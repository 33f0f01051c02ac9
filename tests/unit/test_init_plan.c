/*
 * Unit tests: the parser child's plan (init/provision/parse/plan.c) and the
 * child itself (sandbox.c, child.c): every cloud-config and network field
 * through the writer and back through the reader, malformed plans refused,
 * and a child that crashes, hangs, asks the kernel for more than its
 * allowlist or writes a bad plan costs its input and nothing else. Built
 * with PARSE_FAULT_INJECT (tests/unit only): "wisp-fault: ..." in the input
 * makes the child fail on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/parse/parse.h"

#include <stdio.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

static char warned[8192];

static void on_warn(void *ctx, const char *fmt, ...)
{
	size_t n = strlen(warned);
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(warned + n, sizeof(warned) - n, fmt, ap);
	va_end(ap);
	strncat(warned, "\n", sizeof(warned) - strlen(warned) - 1);
}

static struct ud_sink sink = {.warn = on_warn};

/* Every key of struct cloudcfg set, so that every record of the table is written. */
static const char every[] =
    "#cloud-config\n"
    "hostname: h1\n"
    "fqdn: h1.example.org\n"
    "preserve_hostname: true\n"
    "ssh_authorized_keys: [ssh-ed25519 AAAA top]\n"
    "users:\n"
    "  - name: alice\n"
    "    gecos: Alice A\n"
    "    shell: /bin/ash\n"
    "    homedir: /home/al\n"
    "    passwd: $6$salt$hash\n"
    "    primary_group: staff\n"
    "    groups: [wheel, adm]\n"
    "    ssh_authorized_keys: [ssh-ed25519 AAAA alice]\n"
    "    lock_passwd: false\n"
    "    system: true\n"
    "    no_create_home: true\n"
    "    uid: 1234\n"
    "groups: [{admins: [alice, bob]}]\n"
    "write_files:\n"
    "  - path: /etc/bin\n"
    "    content: AAEC\n"
    "    encoding: b64\n"
    "    owner: alice:staff\n"
    "    permissions: '0750'\n"
    "    append: true\n"
    "    defer: true\n"
    "bootcmd: [echo boot, [ls, -l]]\n"
    "runcmd: [echo run]\n"
    "wisp: {services: [{name: web, command: [/bin/web]}], firewall: {allow: [8080, 53/udp]},\n"
    "       bridge: {subnet: 10.77.0.0/24}}\n"
    "final_message: bye $UPTIME\n"
    "timezone: CET-1CEST\n"
    "power_state: {mode: reboot, delay: '+2', message: now, condition: test -f /x}\n"
    "ntp: {servers: [ntp.example.org], pools: [pool.example.org]}\n"
    "mount_default_fields: [None, None, ext4, 'defaults,ro']\n"
    "mounts: [[vdb, /mnt/data]]\n";

static const char *const cc_records[] = {"hostname",
					 "fqdn",
					 "preserve_hostname",
					 "ssh_key",
					 "wisp_units",
					 "fw_allow",
					 "bridge_subnet",
					 "final_message",
					 "timezone",
					 "power_mode",
					 "power_message",
					 "power_cond",
					 "power_delay",
					 "ntp",
					 "ntp_server",
					 "mount_default_type",
					 "mount_default_opts",
					 "user",
					 "user.name",
					 "user.gecos",
					 "user.shell",
					 "user.homedir",
					 "user.passwd",
					 "user.primary_group",
					 "user.group",
					 "user.key",
					 "user.lock_passwd",
					 "user.system",
					 "user.no_create_home",
					 "user.uid",
					 "group",
					 "group.name",
					 "group.member",
					 "file",
					 "file.path",
					 "file.owner",
					 "file.content",
					 "file.mode",
					 "file.append",
					 "file.defer",
					 "file.gzip",
					 "mount",
					 "mount.dev",
					 "mount.dir",
					 "mount.type",
					 "mount.opts",
					 "mount.line",
					 "mount.col",
					 "bootcmd",
					 "bootcmd.arg",
					 "runcmd",
					 "runcmd.arg"};

/* buf read as a plan into *p, or the test fails with the reader's reason. */
static void read_plan(const char *buf, size_t len, struct parse_plan *p)
{
	struct err e;

	if (plan_read(buf, len, p, &e) < 0)
		fail_msg("%s", e.msg);
}

static char *write_cc(const struct cloudcfg *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	plan_begin(f);
	plan_put_part(f, UD_CLOUD_CONFIG, "ud", NULL, 0, true);
	plan_put_cloudcfg(f, c);
	plan_put_end(f);
	plan_finish(f);
	fclose(f);
	return buf;
}

/* memmem: the plan holds the binary content of a file (NULs). */
static bool has_record(const char *plan, size_t len, const char *name)
{
	char pat[64];
	int n = snprintf(pat, sizeof(pat), "\n%s ", name);
	return memmem(plan, len, pat, (size_t)n) != NULL;
}

static void test_cloudcfg_round_trip(void **state)
{
	struct cloudcfg c;
	struct parse_plan p;
	char *one, *two;
	size_t len1, len2;

	(void)state;
	warned[0] = '\0';
	assert_int_equal(cloudcfg_parse("ud", every, sizeof(every) - 1, &c, &sink), 0);
	assert_string_equal(warned, "");
	one = write_cc(&c, &len1);
	for (size_t i = 0; i < ARRAY_LEN(cc_records); i++)
		if (!has_record(one, len1, cc_records[i]))
			fail_msg("record %s not written", cc_records[i]);
	read_plan(one, len1, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.items[0].kind, PLAN_PART);
	/* what was read writes the same plan again: every field came back */
	two = write_cc(&p.items[0].part->cc, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(one, two, len1);
	/* a few by value: binary content, numbers, an argv */
	const struct cloudcfg *r = &p.items[0].part->cc;
	assert_int_equal(r->files[0].len, 3);
	assert_memory_equal(r->files[0].content, "\0\1\2", 3);
	assert_int_equal(r->files[0].mode, 0750);
	assert_true(r->users[0].has_uid && r->users[0].uid == 1234 && !r->users[0].lock_passwd);
	assert_string_equal(r->bootcmd[1][1], "-l");
	assert_int_equal(r->power_delay_s, 120);
	assert_int_equal(r->ntp, 1);
	free(one), free(two);
	plan_free(&p);
	cloudcfg_free(&c);
}

static char *write_net(const struct netcfg *n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	plan_begin(f);
	plan_put_netcfg(f, n);
	plan_finish(f);
	fclose(f);
	return buf;
}

static void test_netcfg_round_trip(void **state)
{
	static const char v2[] = "network:\n  version: 2\n  ethernets:\n"
				 "    id0:\n"
				 "      match: {macaddress: '52:54:00:ab:cd:ef', name: 'en*'}\n"
				 "      set-name: lan0\n      dhcp4: true\n"
				 "      addresses: [10.0.2.60/24, 10.0.3.60/24]\n"
				 "      gateway4: 10.0.2.2\n"
				 "      routes: [{to: 10.9.0.0/16, via: 10.0.2.3}]\n"
				 "      nameservers: {addresses: [10.0.2.3], search: [a.test]}\n"
				 "    eth1: {dhcp4: true}\n";
	struct netcfg *n = calloc(1, sizeof(*n));
	struct parse_plan p;
	size_t len1, len2;
	char *one, *two;

	(void)state;
	assert_int_equal(netcfg_parse_ds("network-config", v2, sizeof(v2) - 1, n, &sink), 0);
	assert_int_equal(n->n, 2);
	one = write_net(n, &len1);
	read_plan(one, len1, &p);
	assert_true(p.has_net);
	assert_memory_equal(&p.net, n, sizeof(*n)); /* the same bytes: every field, every list */
	two = write_net(&p.net, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(one, two, len1);
	free(one), free(two), free(n);
	plan_free(&p);
}

/* m written as a plan's meta record, read back into *p. */
static void meta_through_plan(const struct ds_meta *m, struct parse_plan *p)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	plan_begin(f);
	plan_put_meta(f, m);
	plan_finish(f);
	fclose(f);
	read_plan(buf, len, p);
	free(buf);
}

/* meta-data (parse/meta.c) through the plan: YAML's and meta_data.json's names, keys
 * as a list or as OpenStack's {name: key}, a later file replacing an earlier's values. */
static void test_meta_round_trip(void **state)
{
	static const char yaml[] = "instance-id: i-1\nlocal-hostname: h1\n"
				   "public-keys: [ssh-ed25519 AAAA a, ssh-ed25519 AAAA b]\n";
	static const char json[] = "{\"uuid\": \"u-2\", \"hostname\": \"h2\", "
				   "\"public_keys\": {\"k\": \"ssh-rsa AAAA c\"}}";
	struct ds_meta m = {0};
	struct parse_plan p;

	(void)state;
	warned[0] = '\0';
	meta_parse("meta-data", yaml, sizeof(yaml) - 1, &m, &sink);
	assert_string_equal(m.iid, "i-1");
	assert_string_equal(m.hostname, "h1");
	meta_parse("meta_data.json", json, sizeof(json) - 1, &m, &sink);
	assert_string_equal(warned, "");
	/* a block scalar of two lines is not one key (found by fuzz_netcfg) */
	meta_parse("meta-data", "public-keys: |-\n  ssh-rsa AAAA x\n  ssh-rsa AAAA y\n", 50, &m,
		   &sink);
	assert_string_equal(warned, "meta-data:1:14: a public key that is not one line; ignored\n");
	meta_through_plan(&m, &p);
	assert_true(p.has_meta);
	assert_string_equal(p.meta.iid, "u-2");
	assert_string_equal(p.meta.hostname, "h2");
	assert_int_equal(strv_len(p.meta.keys), 3);
	assert_string_equal(p.meta.keys[0], "ssh-ed25519 AAAA a");
	assert_string_equal(p.meta.keys[2], "ssh-rsa AAAA c");
	plan_free(&p);
	meta_free(&m);
}

/* Malformed plans: each refused whole, with the record named. */
/* Azure: the IMDS answer (JSON read as YAML flow) and the goal state (xmltext.c); the
 * admin user and the goal state's values through the plan; what is refused, with its line. */
static void test_meta_azure(void **state)
{
	static const char imds[] =
	    "{\"compute\": {\"vmId\": \"v-1\", \"osProfile\": {\"adminUsername\": \"azureuser\", "
	    "\"computerName\": \"az1\"}, \"publicKeys\": [{\"keyData\": \"ssh-rsa AAAA a\", "
	    "\"path\": \"/home/azureuser/.ssh/authorized_keys\"}, {\"path\": \"/x\"}]}}";
	static const char gs[] =
	    "<?xml version=\"1.0\"?>\n<!-- c -->\n<GoalState a='1'><Incarnation> 4 </Incarnation>"
	    "<Container><ContainerId>c-1</ContainerId><RoleInstanceList><RoleInstance>"
	    "<InstanceId>i.1</InstanceId><x/><Configuration>a &amp; b</Configuration>"
	    "</RoleInstance><RoleInstance><InstanceId>i.2</InstanceId></RoleInstance>"
	    "</RoleInstanceList></Container></GoalState>\n";
	static const char gs_x[] =
	    "<GoalState><Incarnation>x</Incarnation><Container><ContainerId>c</ContainerId>"
	    "<RoleInstanceList><RoleInstance><InstanceId>i</InstanceId></RoleInstance>"
	    "</RoleInstanceList></Container></GoalState>";
	static const struct {
		const char *xml, *why;
	} bad[] = {
	    {"<!DOCTYPE a [<!ENTITY b \"c\">]><a/>", "g.xml:1: a DOCTYPE or CDATA"},
	    {"<a><b></a>", "g.xml:1: an end tag that does not match"},
	    {"<a>\n<b>", "g.xml:2: cut short"},
	    {"<a>&#65;</a>", "g.xml:1: a reference other than"},
	    {"<a/><b/>", "g.xml:1: a second root"},
	    {"x<a/>", "g.xml:1: text outside the root"},
	};
	char inc[16], cont[64], why[128];
	struct xml_want want[] = {
	    {"GoalState/Incarnation", inc, sizeof(inc), NULL, NULL, false},
	    {"GoalState/Container/ContainerId", cont, sizeof(cont), NULL, NULL, false}};
	struct ds_meta m = {0};
	struct parse_plan p;
	int line;

	(void)state;
	warned[0] = '\0';
	meta_parse("/run/" AZURE_IMDS_FILE, imds, sizeof(imds) - 1, &m, &sink);
	meta_parse("/run/" AZURE_GOALSTATE_FILE, gs, sizeof(gs) - 1, &m, &sink);
	assert_string_equal(m.iid, "v-1");
	assert_string_equal(m.hostname, "az1");
	assert_string_equal(m.user, "azureuser");
	assert_int_equal(strv_len(m.keys), 1);
	assert_string_equal(m.ready.incarnation, "4");
	assert_string_equal(m.ready.container, "c-1");
	assert_string_equal(m.ready.instance, "i.1"); /* the first RoleInstance's */
	assert_non_null(strstr(warned, "a public key without keyData; ignored"));
	meta_through_plan(&m, &p);
	assert_string_equal(p.meta.user, "azureuser");
	assert_string_equal(p.meta.ready.instance, "i.1");
	plan_free(&p);
	meta_free(&m);
	warned[0] = '\0'; /* cut JSON, or not an object: refused whole */
	meta_parse(AZURE_IMDS_FILE, "{\"compute\": {\"vmId\": \"v\"", 24, &m, &sink);
	meta_parse(AZURE_IMDS_FILE, "<html>", 6, &m, &sink);
	assert_string_equal(m.iid, "");
	assert_non_null(strstr(warned, "not valid JSON ("));
	assert_non_null(strstr(warned, AZURE_IMDS_FILE ": not a JSON object; Azure's IMDS"));
	warned[0] = '\0'; /* ids that would not be safe in the health report */
	meta_parse(AZURE_GOALSTATE_FILE, gs_x, sizeof(gs_x) - 1, &m, &sink);
	assert_string_equal(m.ready.incarnation, "");
	assert_non_null(strstr(warned, "an incarnation not of digits"));
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char msg[200];
		assert_int_equal(xml_texts(bad[i].xml, strlen(bad[i].xml), want, 2, why, &line),
				 -1);
		snprintf(msg, sizeof(msg), "g.xml:%d: %s", line, why);
		if (strncmp(msg, bad[i].why, strlen(bad[i].why)))
			fail_msg("%s: %s", bad[i].xml, msg);
		assert_string_equal(inc, "");
	}
	/* a NUL byte is no blank: before the root it is text */
	assert_int_equal(xml_texts("\0<GoalState/>", 13, want, 2, why, &line), -1);
	assert_non_null(strstr(why, "text outside the root element"));
	meta_free(&m);
}

/* An ovf-env.xml of Azure's shape (as cloud-init's tests make one): LPC's fields. */
#define OVF_HEAD                                                                                   \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                             \
	"<ns0:Environment xmlns:ns0=\"http://schemas.dmtf.org/ovf/environment/1\" "                \
	"xmlns:ns1=\"http://schemas.microsoft.com/windowsazure\">\n"                               \
	"<ns1:ProvisioningSection><ns1:Version>1.0</ns1:Version>\n"                                \
	"<ns1:LinuxProvisioningConfigurationSet>\n"
#define OVF_TAIL                                                                                   \
	"</ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection>\n"                     \
	"<ns1:PlatformSettingsSection><ns1:PlatformSettings/></ns1:PlatformSettingsSection>\n"     \
	"</ns0:Environment>\n"
#define OVF_KEYS                                                                                   \
	"<ns1:SSH><ns1:PublicKeys>\n"                                                              \
	"<ns1:PublicKey><ns1:Fingerprint>F1</ns1:Fingerprint>"                                     \
	"<ns1:Path>/home/ovfuser/.ssh/authorized_keys</ns1:Path>"                                  \
	"<ns1:Value>ssh-ed25519 AAAA media</ns1:Value></ns1:PublicKey>\n"                          \
	"<ns1:PublicKey><ns1:Fingerprint>F2</ns1:Fingerprint>"                                     \
	"<ns1:Path>/home/ovfuser/.ssh/authorized_keys</ns1:Path></ns1:PublicKey>\n"                \
	"</ns1:PublicKeys></ns1:SSH>\n"

static void ovf(const char *xml, struct ds_meta *m)
{
	warned[0] = '\0';
	meta_parse("/run/" AZURE_OVF_FILE, xml, strlen(xml), m, &sink);
}

/* Azure's provisioning media's ovf-env.xml (parse/ovfenv.c): names, keys by Value
 * (by fingerprint: IMDS's, merged without doubles), CustomData decoded; each bad input
 * one line naming the file, the rest kept. */
static void test_meta_ovf(void **state)
{
	/* base64 of "#cloud-config\nruncmd: [x]\n", broken across lines as Azure may */
	static const char good[] =
	    OVF_HEAD "<ns1:HostName>ovfhost</ns1:HostName><ns1:UserName>ovfuser</ns1:UserName>\n"
		     "<ns1:UserPassword>secret</ns1:UserPassword>\n"
		     "<ns1:CustomData>I2Nsb3VkLWNvbmZp\n  ZwpydW5jbWQ6IFt4XQo=</ns1:CustomData>\n"
		     "<ns1:DisableSshPasswordAuthentication>true"
		     "</ns1:DisableSshPasswordAuthentication>\n" OVF_KEYS OVF_TAIL;
	static const char imds[] = "{\"compute\": {\"vmId\": \"v-1\", \"osProfile\": "
				   "{\"adminUsername\": \"imdsuser\"}, \"publicKeys\": "
				   "[{\"keyData\": \"ssh-ed25519 AAAA media\"}, "
				   "{\"keyData\": \"ssh-ed25519 AAAA byfp\"}]}}";
	static const struct {
		const char *xml, *why;
	} bad[] = {
	    {"<!DOCTYPE x [<!ENTITY a \"b\">]>" OVF_HEAD OVF_TAIL,
	     "/run/ovf-env.xml:1: a DOCTYPE or CDATA section (not read); Azure's provisioning "
	     "media not used\n"},
	    {OVF_HEAD "<ns1:HostName>h", "/run/ovf-env.xml:5: cut short"},
	    {OVF_HEAD "<ns1:HostName>h</ns1:HostName>" OVF_TAIL "<x/>",
	     "/run/ovf-env.xml:8: a second root element"},
	    {OVF_HEAD "<ns1:UserName>u</ns1:UserName>" OVF_TAIL,
	     "/run/ovf-env.xml: no Environment/ProvisioningSection/"
	     "LinuxProvisioningConfigurationSet/HostName: not Azure's provisioning configuration; "
	     "not used\n"},
	    {"<GoalState/>", "/run/ovf-env.xml: no Environment/ProvisioningSection/"},
	    /* a property twice: refused, as cloud-init's "multiple configuration matches" */
	    {OVF_HEAD "<ns1:HostName>h</ns1:HostName>\n<ns1:HostName>i</ns1:HostName>" OVF_TAIL,
	     "/run/ovf-env.xml:6: a second HostName; Azure's provisioning media not used\n"},
	    {OVF_HEAD "<ns1:HostName>h</ns1:HostName><ns1:CustomData>I2Nsb3Vk</ns1:CustomData>"
		      "<ns1:CustomData/>" OVF_TAIL,
	     "/run/ovf-env.xml:5: a second CustomData; Azure's provisioning media not used\n"},
	};
	struct ds_meta m = {0};
	char long_host[200], xml[1200];

	(void)state;
	ovf(good, &m);
	assert_string_equal(warned, "");
	assert_string_equal(m.hostname, "ovfhost");
	assert_string_equal(m.user, "ovfuser");
	assert_int_equal(strv_len(m.keys), 1);
	assert_string_equal(m.keys[0], "ssh-ed25519 AAAA media");
	assert_int_equal(m.userdata_len, 26);
	assert_memory_equal(m.userdata, "#cloud-config\nruncmd: [x]\n", 26);
	/* then IMDS's answer: its user wins, its keys join without the one named twice */
	meta_parse(AZURE_IMDS_FILE, imds, sizeof(imds) - 1, &m, &sink);
	assert_string_equal(m.user, "imdsuser");
	assert_int_equal(strv_len(m.keys), 2);
	assert_string_equal(m.keys[1], "ssh-ed25519 AAAA byfp");
	meta_free(&m);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		ovf(bad[i].xml, &m);
		if (strncmp(warned, bad[i].why, strlen(bad[i].why)))
			fail_msg("case %zu: %s", i, warned);
		assert_string_equal(m.hostname, "");
		assert_null(m.userdata);
	}
	/* bad base64 (a character outside it; a quartet cut short): no user-data, names kept */
	ovf(OVF_HEAD
	    "<ns1:HostName>h</ns1:HostName><ns1:CustomData>I2Ns*</ns1:CustomData>" OVF_TAIL,
	    &m);
	assert_string_equal(
	    warned, "/run/ovf-env.xml: CustomData is not valid base64; no user-data from it\n");
	assert_string_equal(m.hostname, "h");
	ovf(OVF_HEAD "<ns1:HostName>h</ns1:HostName><ns1:CustomData>I2N</ns1:CustomData>" OVF_TAIL,
	    &m);
	assert_non_null(strstr(warned, "CustomData is not valid base64"));
	ovf(OVF_HEAD "<ns1:HostName>h</ns1:HostName><ns1:CustomData>I2=s</ns1:CustomData>" OVF_TAIL,
	    &m);
	assert_non_null(strstr(warned, "CustomData is not valid base64"));
	assert_null(m.userdata);
	meta_free(&m);
	/* past a value's own limit: a host name of 199 bytes, a user name not one, a key of
	 * two lines: each one line, the rest of the file kept */
	memset(long_host, 'h', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	snprintf(xml, sizeof(xml),
		 OVF_HEAD "<ns1:HostName>%s</ns1:HostName><ns1:UserName>Bad User</ns1:UserName>"
			  "<ns1:SSH><ns1:PublicKeys><ns1:PublicKey><ns1:Value>ssh-rsa A\nssh-rsa B"
			  "</ns1:Value></ns1:PublicKey></ns1:PublicKeys></ns1:SSH>"
			  "<ns1:CustomData>aGk=</ns1:CustomData>" OVF_TAIL,
		 long_host);
	ovf(xml, &m);
	assert_non_null(strstr(warned, "/run/ovf-env.xml: HostName longer than 79 bytes"));
	assert_non_null(strstr(warned, "/run/ovf-env.xml: UserName is not one of"));
	assert_non_null(strstr(warned, "/run/ovf-env.xml: 1 public key Value(s) of more than one"));
	assert_string_equal(m.hostname, "");
	assert_string_equal(m.user, "");
	assert_null(m.keys);
	assert_int_equal(m.userdata_len, 2);
	meta_free(&m);
}

/* fn(job) in the child, for real; its plan read into *p. */
static void child_plan(void (*fn)(FILE *plan, void *job), void *job, struct parse_plan *p)
{
	struct err e;
	char *out;
	size_t len;

	if (sandbox_run(fn, job, 10000, &out, &len, &e) != 0)
		fail_msg("%s", e.msg);
	read_plan(out, len, p);
	free(out);
}

/* In the child: CustomData is the user-data, IMDS's user-data file is not read (one note). */
static void test_child_customdata(void **state)
{
	static const char xml[] = OVF_HEAD "<ns1:HostName>h</ns1:HostName>"
					   "<ns1:CustomData>I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogY2QK"
					   "</ns1:CustomData>" OVF_TAIL; /* hostname: cd */
	static const char imds_ud[] = "#cloud-config\nhostname: imds\n";
	struct parse_input meta = {
	    .name = "/run/cidata/" AZURE_OVF_FILE, .data = xml, .len = sizeof(xml) - 1};
	struct parse_input in = {
	    .name = "/run/cidata/user-data", .data = imds_ud, .len = sizeof(imds_ud) - 1};
	struct parse_job job = {
	    .in = &in, .n = 1, .partdir = "/run/cidata", .meta = &meta, .nmeta = 1};
	struct parse_plan p;

	(void)state;
	child_plan(parse_datasource, &job, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.items[0].kind, PLAN_INFO);
	assert_string_equal(p.items[0].text,
			    "/run/cidata/user-data: not read: "
			    "/run/cidata/ovf-env.xml's CustomData is the user-data");
	assert_string_equal(p.items[1].part->name, "/run/cidata/ovf-env.xml: CustomData");
	assert_false(p.items[1].part->whole); /* a copy is kept: its messages name it */
	assert_string_equal(p.items[1].part->cc.hostname, "cd");
	assert_string_equal(p.meta.hostname, "h");
	plan_free(&p);
	/* without CustomData, IMDS's user-data is the user-data */
	meta.data = OVF_HEAD "<ns1:HostName>h</ns1:HostName>" OVF_TAIL;
	meta.len = strlen(meta.data);
	child_plan(parse_datasource, &job, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.items[0].part->cc.hostname, "imds");
	plan_free(&p);
}

static void test_malformed(void **state)
{
#define HEAD "plan 1\n1\n"
#define DONE "done 0\n\n"
#define PART "part 12\ncloud-config\npart.name 2\nud\n"
	static const struct {
		const char *plan;
		size_t len; /* 0: strlen */
		const char *why;
	} cases[] = {
	    {"", 0, "cut short"},
	    {"plan 1\n2\n" DONE, 0, "not a plan of version 1"},
	    {HEAD, 0, "cut short"},
	    {HEAD "bogus 0\n\n" DONE, 0, "(bogus): unknown record"},
	    {HEAD "user 0\n\n" DONE, 0, "(user): outside its object"},
	    {HEAD "hostname 1\nh\n" DONE, 0, "(hostname): outside its object"},
	    {HEAD "warn 99\nshort\n", 0, "cut short"},
	    {HEAD "warn 2\nabc" DONE, 0, "not followed by a line break"},
	    {HEAD "warn x\n\n" DONE, 0, "expected a length"},
	    {HEAD "warn 123456789\n" DONE, 0, "expected a length"},
	    {HEAD "Warn 0\n\n" DONE, 0, "expected \"NAME LEN\""},
	    {HEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0\n\n" DONE, 0, "expected \"NAME"},
	    {HEAD "warn 3\na\0b\n" DONE, 20 + 9, "a NUL"},
	    {HEAD DONE "warn 1\nx\n", 0, "after \"done\""},
	    {HEAD "part 5\nbogus\n" DONE, 0, "unknown part kind"},
	    {HEAD PART PART DONE, 0, "a part inside another"},
	    {HEAD "end 0\n\n" DONE, 0, "no part to end"},
	    {HEAD PART DONE, 0, "a part without its end"},
	    {HEAD PART "preserve_hostname 1\n2\nend 0\n\n" DONE, 0, "out of range"},
	    {HEAD PART "part.whole 1\n2\nend 0\n\n" DONE, 0, "expected 0 or 1"},
	    {HEAD PART "file 0\n\nfile.mode 4\n0999\nend 0\n\n" DONE, 0, "octal"},
	    {HEAD PART "user 0\n\nuser.uid 5\n70000\nend 0\n\n" DONE, 0, "out of range"},
	    {HEAD PART "ntp 1\n2\nend 0\n\n" DONE, 0, "out of range"},
	    {HEAD PART "user 1\nx\nend 0\n\n" DONE, 0, "expected no value"},
	    {HEAD PART "user 0\n\nend 0\n\n" DONE, 0, "the parser would have refused"},
	    {HEAD PART "user 0\n\nuser.name 4\nroot\nuser.shell 4\n/a:b\nend 0\n\n" DONE, 0,
	     "the parser would have refused"},
	    {HEAD PART "user 0\n\nuser.name 3\nBad\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "bootcmd 0\n\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "file 0\n\nfile.path 3\netc\nfile.content 0\n\nend 0\n\n" DONE, 0,
	     "would have refused"},
	    {HEAD PART "mount 0\n\nmount.dev 3\nvdb\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "timezone 16\n../../etc/passwd\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "power_mode 4\nkill\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "ntp_server 5\na b c\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "fw_allow 6\n22; rm\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "fw_allow 2\n22\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "bridge_subnet 12\n10.77.0.1/24\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD PART "bridge_subnet 12\n10.0.0.0/8 x\nend 0\n\n" DONE, 0, "would have refused"},
	    {HEAD "part 6\nscript\nend 0\n\n" DONE, 0, "without its name or its bytes"},
	    {HEAD "net 0\n\nnet 0\n\n" DONE, 0, "a second network"},
	    {HEAD "net 0\n\nif 0\n\nif.addr 16\n10.0.0.5; reboot\n" DONE, 0,
	     "network value the parser would have refused"},
	    {HEAD "net 0\n\nif 0\n\nroute 0\n\nroute.to 7\ndefault\n" DONE, 0,
	     "network value the parser would have refused"},
	    {HEAD "net 0\n\nif 0\n\nif.key 17\naaaaaaaaaaaaaaaaa\n" DONE, 0, "too long"},
	    {HEAD "net 0\n\nif 0\n\nif 0\n\nif 0\n\nif 0\n\nif 0\n\nif 0\n\nif 0\n\nif 0\n\n"
		  "if 0\n\n" DONE,
	     0, "(if): too many"},
	    {HEAD "route 0\n\n" DONE, 0, "outside its object"},
	    {HEAD "if.dhcp4 1\n1\n" DONE, 0, "outside its object"},
	    {HEAD "meta.iid 1\ni\n" DONE, 0, "(meta.iid): outside its object"},
	    {HEAD "meta 0\n\nmeta 0\n\n" DONE, 0, "a second meta-data"},
	    {HEAD "net 0\n\nmeta 0\n\n" DONE, 0, "a second meta-data"},
	    {HEAD "meta 0\n\n" PART DONE, 0, "a part inside another"},
	    {HEAD "meta 0\n\nmeta.key 7\na\nb c d\n" DONE, 0, "meta-data key the parser would"},
	    {HEAD "meta 0\n\nmeta.user 4\nRoot\n" DONE, 0, "user or goal state the parser"},
	    {HEAD "meta 0\n\nmeta.ready.incarnation 1\n1\nmeta.ready.container 3\na<b\n"
		  "meta.ready.instance 1\ni\n" DONE,
	     0, "user or goal state the parser"},
	    {HEAD "meta 0\n\nmeta.ready.incarnation 1\n1\n" DONE, 0, "user or goal state"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].plan);
		struct parse_plan p;
		struct err e;

		if (plan_read(cases[i].plan, len, &p, &e) == 0)
			fail_msg("case %zu: accepted", i);
		if (!strstr(e.msg, cases[i].why))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].why, e.msg);
		assert_null(p.items);
	}
}

/* HEAD PART, then N users (none: the part's own ssh_key list) of K keys each. */
static char *key_plan(int users, int keys, size_t *len)
{
	size_t size = 64 + (size_t)(users ? users : 1) * ((size_t)keys * 16 + 64), n;
	char *t = malloc(size);

	assert_non_null(t);
	n = (size_t)snprintf(t, size, HEAD PART);
	for (int u = 0; u < (users ? users : 1); u++) {
		if (users)
			n += (size_t)snprintf(t + n, size - n, "user 0\n\nuser.name 6\nu%05d\n", u);
		for (int k = 0; k < keys; k++)
			n += (size_t)snprintf(t + n, size - n, "%s 1\nk\n",
					      users ? "user.key" : "ssh_key");
	}
	n += (size_t)snprintf(t + n, size - n, "end 0\n\n" DONE);
	*len = n;
	return t;
}

/* A list is walked to its end at each item: a plan of many long lists (a child
 * that a parser bug gave over) is refused, not read for minutes. */
static void test_long_lists(void **state)
{
	static const struct {
		int users, keys;
		bool ok;
	} cases[] = {
	    {0, 4096, true},   /* one list at its most */
	    {0, 4097, false},  /* one over */
	    {16, 4096, true},  /* every list of a plan at their most */
	    {17, 4000, false}, /* past them */
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len;
		char *t = key_plan(cases[i].users, cases[i].keys, &len);
		struct parse_plan p;
		struct err e;
		int r = plan_read(t, len, &p, &e);

		free(t);
		if (cases[i].ok && r != 0)
			fail_msg("case %zu: refused: %s", i, e.msg);
		if (!cases[i].ok && (r == 0 || !strstr(e.msg, "too many items in lists")))
			fail_msg("case %zu: %s", i, r == 0 ? "accepted" : e.msg);
		if (r == 0)
			plan_free(&p);
	}
}

/* The child, for real: fork, drop, parse, plan; then what the parent reads of it. */
static int run(const char *data, unsigned ms, struct parse_plan *p, struct err *e)
{
	struct parse_input in = {.name = "/run/ud", .data = data, .len = strlen(data)};
	struct parse_job job = {.in = &in, .n = 1, .partdir = "/run/cidata"};
	char *out;
	size_t len;
	int r = sandbox_run(parse_userdata, &job, ms, &out, &len, e);

	if (r == 0)
		r = plan_read(out, len, p, e);
	free(out);
	return r;
}

static const char mime[] = "Content-Type: multipart/mixed; boundary=\"XX\"\n\n"
			   "--XX\nContent-Type: text/cloud-config\n\n"
			   "#cloud-config\nhostname: m\nfoo: 1\n"
			   "--XX\nContent-Type: text/x-shellscript-per-boot\n\n#!/bin/sh\necho hi\n"
			   "--XX\nContent-Type: text/x-include-url\n\nhttp://x/\n--XX--\n";

static void test_child_parses(void **state)
{
	struct parse_plan p;
	struct err e;

	(void)state;
	if (run(mime, 10000, &p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.items[0].kind, PLAN_PART);
	assert_string_equal(p.items[0].part->cc.hostname, "m");
	assert_false(p.items[0].part->whole);
	/* its own warning, naming the copy provision keeps of the part */
	assert_string_equal(p.items[0].part->warn[0],
			    "/run/cidata/part-001.yaml:3:1: foo: not supported by Wisp; ignored");
	assert_int_equal(p.items[1].part->kind, UD_SCRIPT_BOOT);
	assert_memory_equal(p.items[1].part->data, "#!/bin/sh\necho hi\n", p.items[1].part->len);
	assert_int_equal(p.items[2].kind, PLAN_WARN);
	assert_non_null(strstr(p.items[2].text, "MIME part 3 (text/x-include-url)"));
	plan_free(&p);
}

/* gzip user-data and a gzip+base64 file: unpacked in the child with zlib. */
static void test_child_gzip(void **state)
{
	/* gzip of "#cloud-config\nhostname: gz\n" (and of "hi\n" below), base64 */
	static const char gz_b64[] =
	    "H4sIAAAAAAACA1NOzskvTdFNzs9Ly0znysgvLslLzE21Ukiv4gIAadGHBRsAAAA=";
	static const char file_ud[] = "#cloud-config\nwrite_files:\n"
				      "  - {path: /a, encoding: gz+b64, content: "
				      "H4sIAAAAAAACA8vI5AIAenpv7QMAAAA=}\n"
				      "  - {path: /b, encoding: gz+b64, content: aGkK}\n";
	unsigned char gz[128];
	ssize_t n = b64_decode(gz_b64, sizeof(gz_b64) - 1, gz, sizeof(gz));
	struct parse_input in = {.name = "/run/ud", .data = (char *)gz};
	struct parse_job job = {.in = &in, .n = 1, .partdir = "/run/cidata", .nparts = 4};
	struct parse_plan p;
	struct err e;

	(void)state;
	assert_true(n > 0);
	in.len = (size_t)n;
	child_plan(parse_userdata, &job, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.items[0].part->name, "/run/ud (gunzipped)");
	assert_string_equal(p.items[0].part->cc.hostname, "gz");
	plan_free(&p);

	if (run(file_ud, 10000, &p, &e) < 0)
		fail_msg("%s", e.msg);
	const struct cloudcfg *c = &p.items[0].part->cc;
	assert_int_equal(c->nfiles, 1); /* /b is not gzip: dropped with a warning */
	assert_false(c->files[0].gzip);
	assert_memory_equal(c->files[0].content, "hi\n", 3);
	assert_non_null(strstr(p.items[0].part->warn[0], "/b: not valid gzip; not written"));
	plan_free(&p);
}

/* Each fault costs the input; the parent gets one error saying what happened. */
static void test_child_faults(void **state)
{
	static const struct {
		const char *data;
		unsigned ms;
		const char *why;
	} cases[] = {
	    {"#cloud-config\n# wisp-fault: abort\n", 10000, "killed by signal"},
	    {"#cloud-config\n# wisp-fault: segv\n", 10000, ""}, /* a signal, or ASan's exit */
	    {"#cloud-config\n# wisp-fault: hang\n", 1000, "passed its deadline of 1 s"},
	    {"#cloud-config\n# wisp-fault: open\n", 10000, "killed by signal 31 (SYS)"},
	    {"#cloud-config\n# wisp-fault: garbage\n", 10000, "(user.name): outside its object"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct parse_plan p;
		struct err e;
		uint64_t t0 = now_ms();

		if (run(cases[i].data, cases[i].ms, &p, &e) == 0)
			fail_msg("case %zu: a plan was read", i);
		if (!strstr(e.msg, cases[i].why) ||
		    (!*cases[i].why && !strstr(e.msg, "killed by signal") &&
		     !strstr(e.msg, "exited with status")))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].why, e.msg);
		assert_true(now_ms() - t0 < cases[i].ms + 2000);
	}
}

/* "gz+b64" content of n zero bytes (gzip by zlib, then base64). */
static char *gz_zeros(size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *zero = calloc(1, n), gz[8192];
	z_stream z = {0};
	char *out, *o;
	size_t len;

	assert_non_null(zero);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = zero, z.avail_in = (uInt)n, z.next_out = gz, z.avail_out = sizeof(gz);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	len = z.total_out;
	deflateEnd(&z);
	free(zero);
	o = out = malloc(len / 3 * 4 + 8);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = gz[i] << 16 | (i + 1 < len ? gz[i + 1] << 8 : 0) |
			     (i + 2 < len ? gz[i + 2] : 0);
		*o++ = b64[v >> 18 & 63], *o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* A document past every limit: each file within its 1 MiB, the plan past 8 MiB. */
static void test_child_past_limits(void **state)
{
	char *content = gz_zeros(1 << 20), *ud = malloc(200000), *o = ud;
	struct parse_plan p;
	struct err e;

	(void)state;
	o += sprintf(o, "#cloud-config\nwrite_files:\n");
	for (int i = 0; i < 9; i++)
		o += sprintf(o, "  - {path: /f%d, encoding: gz+b64, content: %s}\n", i, content);
	assert_int_equal(run(ud, 10000, &p, &e), -1);
	assert_string_equal(e.msg, "wrote more than 8388608 bytes");
	/* 7 such files fit: the same child reads */
	ud[0] = '\0', o = ud;
	o += sprintf(o, "#cloud-config\nwrite_files:\n");
	for (int i = 0; i < 7; i++)
		o += sprintf(o, "  - {path: /f%d, encoding: gz+b64, content: %s}\n", i, content);
	if (run(ud, 10000, &p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p.items[0].part->cc.nfiles, 7);
	assert_int_equal(p.items[0].part->cc.files[6].len, 1 << 20);
	plan_free(&p);
	free(content), free(ud);
}

/* What the child can still reach: no fd of the parent's but its plan's (and stderr, kept
 * under the sanitizers for their reports). */
static void probe(FILE *plan, void *arg)
{
	char msg[64], b;

	(void)arg;
	/* read and write of 0 bytes: EBADF alone tells a closed fd (the filter allows
	 * no fcntl; a child that tried would die of SIGSYS) */
	for (int fd = 0; fd < 2048; fd++)
		if (fd != fileno(plan) && fd != 2 &&
		    (read(fd, &b, 0) >= 0 || write(fd, &b, 0) >= 0)) {
			snprintf(msg, sizeof(msg), "fd %d open", fd);
			plan_put_str(plan, "warn", msg);
		}
	plan_put_str(plan, "warn", "probed");
}

static void test_child_fds(void **state)
{
	struct rlimit rl;
	struct parse_plan p;
	struct err e;
	char *out;
	size_t len;
	int fd = open("/dev/null", O_RDWR), left = -1;

	(void)state;
	/* fds of the parent's below, between and far above the child's own */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
	setrlimit(RLIMIT_NOFILE, &rl);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 700), 700);
	if (rl.rlim_cur > 1500)
		assert_int_equal(dup2(fd, 1500), 1500);
	assert_int_equal(sandbox_run(probe, NULL, 10000, &out, &len, &e), 0);
	assert_int_equal(plan_read(out, len, &p, &e), 0);
	free(out);
	for (size_t i = 0; i < p.n; i++)
		print_message("child: %s\n", p.items[i].text);
	/* one fd left, its plan's pipe: none of those the parent had (0, 1, fd, 700, 1500) */
	assert_int_equal(p.n, 2);
	assert_int_equal(sscanf(p.items[0].text, "fd %d open", &left), 1);
	assert_true(left > 1 && left != fd && left != 700 && left != 1500);
	assert_string_equal(p.items[1].text, "probed");
	plan_free(&p);
	close(700), close(1500), close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cloudcfg_round_trip),
	    cmocka_unit_test(test_netcfg_round_trip),
	    cmocka_unit_test(test_meta_round_trip),
	    cmocka_unit_test(test_meta_azure),
	    cmocka_unit_test(test_meta_ovf),
	    cmocka_unit_test(test_child_customdata),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_long_lists),
	    cmocka_unit_test(test_child_parses),
	    cmocka_unit_test(test_child_gzip),
	    cmocka_unit_test(test_child_faults),
	    cmocka_unit_test(test_child_fds),
	    cmocka_unit_test(test_child_past_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
