/*
 * Unit tests: user-data (init/provision/parse/userdata.c, b64.c), #cloud-config
 * (cloudcfg.c), applying it to a fake root (ccapply.c), semaphores
 * (ccsem.c), filesystem labels (ds.c) and meta-data (dsmeta.c, parse/meta.c).
 * Built with PARSE_FAULT_INJECT: "wisp-fault: ..." in an input makes the
 * parser child fail on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void log_err(const struct err *e)
{
	(void)e;
}

/* ds.c's EC2 helper waits for the host's firewall (firewall.c, not linked here, runs
 * none in these tests): counted, so that the EC2 case can check it asked. */
static unsigned fw_waits;
void fw_wait(void)
{
	fw_waits++;
}

/* What the sinks received. */
static char warned[8192];
static char parts[8192];
static int nwarn, nparts;

static void on_warn(void *ctx, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(warned);

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(warned + n, sizeof(warned) - n, fmt, ap);
	va_end(ap);
	strncat(warned, "\n", sizeof(warned) - strlen(warned) - 1);
	nwarn++;
}

static void on_part(void *ctx, enum ud_kind k, const char *name, const char *data, size_t len)
{
	size_t n = strlen(parts);
	(void)ctx;
	snprintf(parts + n, sizeof(parts) - n, "[%s|%s|%.*s]", ud_kind_name(k), name, (int)len,
		 data);
	nparts++;
}

static struct ud_sink sink = {.part = on_part, .warn = on_warn};

static int reset(void **state)
{
	(void)state;
	warned[0] = parts[0] = '\0';
	nwarn = nparts = 0;
	return 0;
}

static void test_b64(void **state)
{
	unsigned char out[64];
	(void)state;
	assert_int_equal(b64_decode("aGVsbG8K", 8, out, sizeof(out)), 6);
	assert_memory_equal(out, "hello\n", 6);
	assert_int_equal(b64_decode("aGVs\nbG8=", 9, out, sizeof(out)), 5);
	assert_int_equal(b64_decode("a*b", 3, out, sizeof(out)), -1);
	assert_int_equal(b64_decode("aGVsbG8K", 8, out, 3), -1); /* never past out */
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(ud_detect("#cloud-config\n", 14), UD_CLOUD_CONFIG);
	assert_int_equal(ud_detect("#!/bin/sh\n", 10), UD_SCRIPT);
	assert_int_equal(ud_detect("Content-Type: multipart/mixed", 29), UD_MIME);
	assert_int_equal(ud_detect("\x1f\x8b\x08", 3), UD_GZIP);
	assert_int_equal(ud_detect("hello", 5), UD_UNKNOWN);
	assert_int_equal(ud_detect("", 0), UD_EMPTY);
}

static void test_unknown_and_gzip_warn(void **state)
{
	(void)state;
	ud_split("ud", "just text", 9, &sink);
	ud_split("ud", "\x1f\x8b\x08\x00", 4, &sink);
	assert_int_equal(nparts, 0);
	assert_int_equal(nwarn, 2);
	assert_non_null(strstr(warned, "ud: not #cloud-config"));
	assert_non_null(strstr(warned, "gzip"));
}

static const char mime[] = "Content-Type: multipart/mixed; boundary=\"===XYZ==\"\n"
			   "MIME-Version: 1.0\n"
			   "\n"
			   "--===XYZ==\n"
			   "Content-Type: text/cloud-config; charset=\"us-ascii\"\n"
			   "\n"
			   "#cloud-config\n"
			   "hostname: m\n"
			   "\n"
			   "--===XYZ==\n"
			   "Content-Type: text/x-shellscript\n"
			   "Content-Transfer-Encoding: base64\n"
			   "\n"
			   "IyEvYmluL3NoCmVjaG8gaGkK\n"
			   "--===XYZ==\n"
			   "Content-Type: text/x-include-url\n"
			   "\n"
			   "http://example/\n"
			   "--===XYZ==--\n";

static void test_mime(void **state)
{
	(void)state;
	ud_split("ud", mime, sizeof(mime) - 1, &sink);
	assert_int_equal(nparts, 2);
	assert_non_null(strstr(parts, "[cloud-config|ud: MIME part 1 (text/cloud-config; "
				      "charset=\"us-ascii\")|#cloud-config\nhostname: m\n]"));
	assert_non_null(strstr(parts, "|#!/bin/sh\necho hi\n]"));
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(warned, "MIME part 3 (text/x-include-url): unsupported part type"));
}

static void test_mime_no_boundary(void **state)
{
	static const char m[] = "Content-Type: multipart/mixed\n\nbody\n";
	(void)state;
	ud_split("ud", m, sizeof(m) - 1, &sink);
	assert_int_equal(nparts, 0);
	assert_non_null(strstr(warned, "without a boundary"));
}

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* s (len bytes) as one line: \n, \\ and bytes outside printable ASCII escaped. */
static void put_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\\')
			fputs("\\\\", f);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

static void put_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s=", key);
	if (s)
		put_escaped(f, s, strlen(s));
	else
		fputs("(null)", f);
	fputc('\n', f);
}

/* KEY.n=N, then KEY[i]=v each. */
static void put_strv(FILE *f, const char *key, char *const *v)
{
	size_t n = 0;
	char k[128];

	for (; v && v[n]; n++) {
		snprintf(k, sizeof(k), "%s[%zu]", key, n);
		put_str(f, k, v[n]);
	}
	fprintf(f, "%s.n=%zu\n", key, n);
}

static void put_user(FILE *f, size_t i, const struct cc_user *u)
{
	char k[64];

	fprintf(f, "users[%zu].name=%s\n", i, u->name);
	snprintf(k, sizeof(k), "users[%zu].groups", i);
	put_strv(f, k, u->groups);
	snprintf(k, sizeof(k), "users[%zu].keys", i);
	put_strv(f, k, u->keys);
	fprintf(f, "users[%zu].lock_passwd=%d\nusers[%zu].system=%d\n", i, u->lock_passwd, i,
		u->system);
	fprintf(f, "users[%zu].no_create_home=%d\nusers[%zu].has_uid=%d\nusers[%zu].uid=%u\n", i,
		u->no_create_home, i, u->has_uid, i, (unsigned)u->uid);
}

/* files[i]=PATH, then that file's fields by its path: files[PATH].mode=0644 ... */
static void put_file(FILE *f, size_t i, const struct cc_file *w)
{
	fprintf(f, "files[%zu]=%s\n", i, w->path);
	fprintf(f, "files[%s].len=%zu\nfiles[%s].content=", w->path, w->len, w->path);
	put_escaped(f, (const char *)w->content, w->len);
	fprintf(f, "\nfiles[%s].mode=0%o\nfiles[%s].append=%d\nfiles[%s].defer=%d\n", w->path,
		(unsigned)w->mode, w->path, w->append, w->path, w->defer);
	fprintf(f, "files[%s].gzip=%d\n", w->path, w->gzip);
}

/* An argv list (bootcmd, runcmd): KEY[i][j]=word. */
static void put_cmds(FILE *f, const char *key, char **const *cmds, size_t n)
{
	char k[64];

	fprintf(f, "n%s=%zu\n", key, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s[%zu]", key, i);
		put_strv(f, k, cmds[i]);
	}
}

/* What c holds, a field a line ("KEY=VALUE"), for the cases' facts; malloc'd. */
static char *cc_dump(const struct cloudcfg *c)
{
	char *text = NULL, k[64];
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	fputc('\n', f); /* every line between two newlines */
	put_str(f, "hostname", c->hostname);
	put_str(f, "fqdn", c->fqdn);
	fprintf(f, "preserve_hostname=%d\nnusers=%zu\n", c->preserve_hostname, c->nusers);
	for (size_t i = 0; i < c->nusers; i++)
		put_user(f, i, &c->users[i]);
	fprintf(f, "ngroups=%zu\n", c->ngroups);
	for (size_t i = 0; i < c->ngroups; i++) {
		fprintf(f, "groups[%zu].name=%s\n", i, c->groups[i].name);
		snprintf(k, sizeof(k), "groups[%zu].members", i);
		put_strv(f, k, c->groups[i].members);
	}
	put_strv(f, "ssh_keys", c->ssh_keys);
	fprintf(f, "nfiles=%zu\n", c->nfiles);
	for (size_t i = 0; i < c->nfiles; i++)
		put_file(f, i, &c->files[i]);
	put_cmds(f, "bootcmd", c->bootcmd, c->nbootcmd);
	put_cmds(f, "runcmd", c->runcmd, c->nruncmd);
	put_str(f, "wisp_units", c->wisp_units);
	put_strv(f, "fw_allow", c->fw_allow);
	put_str(f, "bridge_subnet", c->bridge_subnet);
	put_str(f, "update_url", c->update_url);
	put_str(f, "update_sha256", c->update_sha256);
	put_str(f, "update_reboot", c->update_reboot);
	put_str(f, "final_message", c->final_message);
	put_str(f, "timezone", c->timezone);
	put_str(f, "power_mode", c->power_mode);
	put_str(f, "power_message", c->power_message);
	put_str(f, "power_cond", c->power_cond);
	fprintf(f, "power_delay_s=%u\nntp=%d\n", c->power_delay_s, c->ntp);
	put_strv(f, "ntp_servers", c->ntp_servers);
	fprintf(f, "nmounts=%zu\n", c->nmounts);
	for (size_t i = 0; i < c->nmounts; i++)
		fprintf(f,
			"mounts[%zu].dev=%s\nmounts[%zu].dir=%s\nmounts[%zu].type=%s\n"
			"mounts[%zu].opts=%s\n",
			i, c->mounts[i].dev, i, c->mounts[i].dir, i, c->mounts[i].type, i,
			c->mounts[i].opts);
	fclose(f);
	return text;
}

/* A #cloud-config and what loading it must give. */
struct cc_case {
	const char *name, *text; /* loaded from tmpdir/name (its messages name it) */
	int nwarn;		 /* the warnings counted; -1: not checked */
	/* lines of cc_dump(); "!KEY": no line starts with KEY */
	const char *facts[32];
	/* in the warnings; "!TEXT": not in them */
	const char *warns[8];
};

static bool has_fact(const char *dump, const char *fact)
{
	char line[1024];

	snprintf(line, sizeof(line), "\n%s%s", fact + (fact[0] == '!'), fact[0] == '!' ? "" : "\n");
	return (strstr(dump, line) != NULL) != (fact[0] == '!');
}

/* Load t's text into c (the warnings counted afresh) and check it: the case is named
 * (table[i] and its file) on the first difference, with what was loaded. */
static void check_cc(const char *table, size_t i, const struct cc_case *t, struct cloudcfg *c)
{
	char *dump;

	reset(NULL);
	cloudcfg_load(write_tmp(t->name, t->text), c, &sink);
	dump = cc_dump(c);
	for (int k = 0; k < 32 && t->facts[k]; k++)
		if (!has_fact(dump, t->facts[k])) {
			print_message("%s[%zu] (%s): fact \"%s\" not so in:%s", table, i, t->name,
				      t->facts[k], dump);
			fail();
		}
	free(dump);
	for (int k = 0; k < 8 && t->warns[k]; k++) {
		const char *w = t->warns[k] + (t->warns[k][0] == '!');

		if ((strstr(warned, w) != NULL) == (t->warns[k][0] == '!')) {
			print_message("%s[%zu] (%s): warning \"%s\" %s in:\n%s", table, i, t->name,
				      w, t->warns[k][0] == '!' ? "is" : "not", warned);
			fail();
		}
	}
	if (t->nwarn >= 0 && nwarn != t->nwarn) {
		print_message("%s[%zu] (%s): %d warnings, not %d:\n%s", table, i, t->name, nwarn,
			      t->nwarn, warned);
		fail();
	}
}

/* #cloud-config texts (cloudcfg.c): what each loads to, and what it warns. */
static void test_cloudcfg_cases(void **state)
{
	static const struct cc_case cases[] = {
	    /* default, sudo and packages: one warning each, with their place */
	    {"cc1",
	     "#cloud-config\n"
	     "hostname: web\n"
	     "fqdn: web.example.org\n"
	     "users:\n"
	     "  - default\n"
	     "  - name: alice\n"
	     "    groups: wheel, adm\n"
	     "    ssh-authorized-keys: [k1, k2]\n"
	     "    lock_passwd: false\n"
	     "    uid: 1500\n"
	     "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
	     "groups: [g1, {g2: [alice]}]\n"
	     "ssh_authorized_keys: [top]\n"
	     "bootcmd: [echo a, [ls, -l]]\n"
	     "runcmd:\n  - touch /x\n"
	     "packages: [vim]\n",
	     3,
	     {"hostname=web", "fqdn=web.example.org", "nusers=1", "users[0].name=alice",
	      "users[0].groups[1]=adm", "users[0].keys[1]=k2", "users[0].lock_passwd=0",
	      "users[0].has_uid=1", "users[0].uid=1500", "ngroups=2", "groups[1].members[0]=alice",
	      "ssh_keys[0]=top", "nbootcmd=2", "bootcmd[0][2]=echo a", "bootcmd[1][1]=-l",
	      "nruncmd=1"},
	     {"cc1:5:5: users: \"default\"", ":11:11: users[0].sudo: Wisp has no sudo",
	      ":17:1: packages: not supported by Wisp"}},
	    {"ccn",
	     "#cloud-config\n"
	     "users:\n"
	     "  - name: \"x:0:0\"\n"
	     "  - name: ok\n"
	     "    gecos: \"a:b\"\n"
	     "  - name: ok2\n"
	     "    groups: [\"evil\\nroot\"]\n"
	     "  - fine\n"
	     "groups: [\"g:x\", good]\n",
	     4,
	     {"nusers=1", "users[0].name=fine", "ngroups=1", "groups[0].name=good"},
	     {"ccn:3:5: users: a user needs a name", "ccn:9:10: groups: invalid group"}},
	    /* relative is left out; gzip: base64 undone now, gunzip when written (busybox, in
	     * ccapply's hook); bad permissions: the default */
	    {"cc2",
	     "#cloud-config\n"
	     "write_files:\n"
	     "  - path: /a\n"
	     "    content: aGk=\n"
	     "    encoding: b64\n"
	     "    permissions: '0600'\n"
	     "  - path: /b\n"
	     "    content: x\n"
	     "    permissions: 0755\n"
	     "    append: true\n"
	     "    defer: true\n"
	     "  - path: /c\n"
	     "    content: H4sI\n"
	     "    encoding: gzip+base64\n"
	     "  - path: /d\n"
	     "    permissions: rw\n"
	     "  - path: relative\n"
	     "  - path: /e\n"
	     "    encoding: rot13\n"
	     "    content: plain\n",
	     -1,
	     {"nfiles=5", "files[0]=/a", "files[/a].len=2", "files[/a].content=hi",
	      "files[/a].mode=0600", "files[1]=/b", "files[/b].mode=0755", "files[/b].append=1",
	      "files[/b].defer=1", "files[2]=/c", "files[/c].gzip=1", "files[/a].gzip=0",
	      "files[/c].len=3", "files[/c].content=\\x1f\\x8b\\x08", "files[3]=/d",
	      "files[/d].mode=0644", "files[4]=/e", "files[/e].content=plain"},
	     {"!write_files[2]", "cc2:16:18: write_files[3].permissions: expected octal",
	      "cc2:17:5: write_files[4]: needs an absolute path",
	      "write_files[5].encoding: unknown encoding"}},
	    /* bad YAML: what came before it is kept */
	    {"cc3",
	     "#cloud-config\n"
	     "hostname: ok\n"
	     "users: 5x: [\n",
	     -1,
	     {"hostname=ok"},
	     {"cc3:3:"}},
	    /* keys given twice (found by fuzz_cloudcfg): the last wins, nothing leaks or overflows
	     */
	    {"cc5",
	     "#cloud-config\n"
	     "runcmd: [a]\n"
	     "bootcmd: [x, y]\n"
	     "runcmd: [b, c, d]\n"
	     "bootcmd: [z]\n"
	     "users:\n"
	     "  - {name: al, groups: [a], groups: [b, c], ssh-authorized-keys: [k1],\n"
	     "     ssh_authorized_keys: [k2]}\n",
	     -1,
	     {"nruncmd=3", "runcmd[2][2]=d", "nbootcmd=1", "nusers=1", "users[0].groups[1]=c",
	      "users[0].keys[0]=k2"},
	     {}},
	    /* a key entry with a line break (quoted, or a plain scalar folded over CRs, as the
	     * fuzzer found) is dropped with a warning; the plan reader refuses any such key, so
	     * keeping it cost the whole user-data */
	    {"cc6",
	     "#cloud-config\n"
	     "users:\n"
	     "  - name: al\n"
	     "    ssh_authorized_keys: [\"k1\\nk2\", k3]\n"
	     "ssh_authorized_keys: [a\r\r\rb, top]\n",
	     2,
	     {"users[0].keys[0]=k3", "users[0].keys.n=1", "ssh_keys[0]=top", "ssh_keys.n=1"},
	     {"a key with a line break inside"}},
	    /* wisp.update (docs/update.md): url (http:// only), sha256, reboot; a bad value warned
	     * and left out */
	    {"cc9",
	     "#cloud-config\n"
	     "wisp:\n"
	     "  update:\n"
	     "    url: ftp://example.com/b\n"
	     "    url: http://10.0.2.2:8080/wisp-update.bundle?v=2\n"
	     "    sha256: ABCD\n"
	     "    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	     "    reboot: '25:00'\n"
	     "    reboot: '03:30'\n"
	     "    when: now\n",
	     -1,
	     {"update_url=http://10.0.2.2:8080/wisp-update.bundle?v=2",
	      "update_sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	      "update_reboot=03:30"},
	     {"cc9:4:10: wisp.update.url: not an http:// or https:// URL",
	      "cc9:6:13: wisp.update.sha256: not 64 lower-case hex",
	      "cc9:8:13: wisp.update.reboot: not now, never or HH:MM",
	      "cc9:10:5: wisp.update.when: unknown key"}},
	    /* no valid url: sha256 and reboot go too (the plan's reader takes them only with one;
	     * fuzz_cloudcfg found the parser keeping them) */
	    {"cc10",
	     "#cloud-config\nwisp:\n  update:\n    url: htts://x/b\n"
	     "    reboot: now\n",
	     -1,
	     {"update_url=(null)", "update_reboot=(null)"},
	     {"cc10:", "wisp.update: no (valid) url"}},
	    /* wisp.registries: containerd-lite's files, as write_files entries (ccreg.c); the
	     * credentials 0600 (the runtime refuses them readable by others), base64 of
	     * bot:p"w:1, and auth as given */
	    {"cc11",
	     "#cloud-config\n"
	     "wisp:\n"
	     "  registries:\n"
	     "    docker.io: {mirrors: [mirror.lan:5000, 'bad host']}\n"
	     "    mirror.lan:5000: {insecure: true}\n"
	     "    10.0.2.2:5443:\n"
	     "      ca: |\n"
	     "        -----BEGIN CERTIFICATE-----\n"
	     "        MIIB\n"
	     "        -----END CERTIFICATE-----\n"
	     "      username: bot\n"
	     "      password: 'p\"w:1'\n"
	     "    ghcr.io: {auth: Ym90OnB3, ca: /etc/ssl/ghcr.pem}\n"
	     "    q.io: {username: a, insecur: true, ca: 'not pem', auth: '!!'}\n"
	     "    'a b': {insecure: true}\n",
	     -1,
	     {"files[/etc/wisp/registries.json].mode=0644",
	      "files[/etc/wisp/registries.json].content={\"registries\": {\\n    \"docker.io\": "
	      "{\"mirrors\": [\"mirror.lan:5000\"]},\\n    \"mirror.lan:5000\": {\"insecure\": "
	      "true},\\n    \"10.0.2.2:5443\": {\"ca\": "
	      "\"/etc/wisp/registry-ca/10.0.2.2:5443.pem\"},\\n    \"ghcr.io\": {\"ca\": "
	      "\"/etc/ssl/ghcr.pem\"}\\n}}\\n",
	      "files[/etc/wisp/registry-auth.json].mode=0600",
	      "files[/etc/wisp/registry-auth.json].content={\"auths\": {\\n    \"10.0.2.2:5443\": "
	      "{\"auth\": \"Ym90OnAidzox\"},\\n    \"ghcr.io\": {\"auth\": \"Ym90OnB3\"}\\n}}\\n",
	      "files[/etc/wisp/registry-ca/10.0.2.2:5443.pem].content=-----BEGIN "
	      "CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"},
	     {"cc11:4:26: wisp.registries.docker.io.mirrors: not a registry host",
	      "cc11:14:11: wisp.registries.q.io: username and password go together",
	      "cc11:14:25: wisp.registries.q.io.insecur: unknown key",
	      "cc11:14:44: wisp.registries.q.io.ca: neither PEM certificates nor",
	      "cc11:14:61: wisp.registries.q.io.auth: not base64 of USER:PASSWORD",
	      "cc11:15:5: wisp.registries.a b: not a registry host"}},
	    /* nothing valid: no file at all */
	    {"cc12",
	     "#cloud-config\nwisp:\n  registries: {x.io: {ca: /a/../b}}\n",
	     -1,
	     {"!files[/etc/wisp/registries.json]", "!files[/etc/wisp/registry-auth.json]"},
	     {}},
	    /* a host twice: the last wins, written once */
	    {"cc12b",
	     "#cloud-config\nwisp:\n  registries:\n"
	     "    a.io: {insecure: true}\n    b.io: {insecure: true}\n"
	     "    a.io: {mirrors: [m.lan]}\n",
	     -1,
	     {"files[/etc/wisp/registries.json].content={\"registries\": {\\n    \"a.io\": "
	      "{\"mirrors\": [\"m.lan\"]},\\n    \"b.io\": {\"insecure\": true}\\n}}\\n"},
	     {}},
	    /* ca_certs (cloud-init's): the trusted certificates appended to the system bundle, or
	     * replacing it with remove_defaults (ccca.c); the image's CAs stay: remove_default
	     * is a typo */
	    {"cc13",
	     "#cloud-config\n"
	     "ca_certs:\n"
	     "  trusted:\n"
	     "  - |\n"
	     "    -----BEGIN CERTIFICATE-----\n"
	     "    MIIB\n"
	     "    -----END CERTIFICATE-----\n"
	     "  - 'not a certificate'\n"
	     "  - \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END "
	     "CERTIFICATE-----\"\n"
	     "  remove_default: true\n",
	     -1,
	     {"nfiles=1", "files[0]=/etc/ssl/certs/ca-certificates.crt",
	      "files[/etc/ssl/certs/ca-certificates.crt].append=1",
	      "files[/etc/ssl/certs/ca-certificates.crt].content=-----BEGIN "
	      "CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n-----BEGIN "
	      "CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
	      "files[/etc/ssl/certs/ca-certificates.crt].mode=0644"},
	     {"cc13:4:3: ca_certs.trusted: not a PEM certificate; ignored",
	      "cc13:10:3: ca_certs.remove_default: unknown key"}},
	    /* the old hyphenated names too; no defaults, no trusted: an empty bundle */
	    {"cc14",
	     "#cloud-config\nca-certs: {remove-defaults: true}\n",
	     -1,
	     {"nfiles=1", "files[0]=/etc/ssl/certs/ca-certificates.crt",
	      "files[/etc/ssl/certs/ca-certificates.crt].append=0",
	      "files[/etc/ssl/certs/ca-certificates.crt].len=0"},
	     {}},
	    {"cc15",
	     "#cloud-config\nca_certs: [x]\n",
	     -1,
	     {"nfiles=0"},
	     {"cc15:2:11: ca_certs: expected a mapping"}},
	    /* power_state's delay "+N": minutes, as shutdown(8) */
	    {"cc10",
	     "#cloud-config\n"
	     "final_message: done after $UPTIME s\n"
	     "timezone: EST5EDT\n"
	     "power_state:\n"
	     "  mode: reboot\n"
	     "  delay: '+2'\n"
	     "  message: bye\n"
	     "  timeout: 30\n"
	     "  condition: [test, -e, /x]\n"
	     "ntp:\n"
	     "  enabled: true\n"
	     "  servers: [ntp.example]\n"
	     "  pools: [pool.example]\n",
	     0,
	     {"final_message=done after $UPTIME s", "timezone=EST5EDT", "power_mode=reboot",
	      "power_delay_s=120", "power_message=bye", "power_cond='test' '-e' '/x'", "ntp=1",
	      "ntp_servers[0]=ntp.example", "ntp_servers[1]=pool.example"},
	     {}},
	    /* warned: what the script would split or run; no delay: "now" */
	    {"cc11",
	     "#cloud-config\n"
	     "power_state: {mode: poweroff, condition: false}\n"
	     "ntp: {enabled: false, servers: ['a b', 'x;reboot', '[fe80::1]']}\n",
	     2,
	     {"ntp_servers[0]=[fe80::1]", "ntp_servers.n=1", "power_delay_s=0", "power_cond=false",
	      "ntp=0"},
	     {"cc11:3:", "ntp.servers: not a host name or address; ignored"}},
	    /* no ntp key: no ntpd */
	    {"cc12", "#cloud-config\nhostname: h\n", -1, {"ntp=-1", "power_mode=(null)"}, {}},
	    {"cc13",
	     "#cloud-config\n"
	     "timezone: ../../etc/passwd\n"
	     "power_state:\n"
	     "  mode: sleep\n"
	     "  delay: soon\n"
	     "ntp: 5\n"
	     "mounts: 5\n",
	     5,
	     {"timezone=(null)", "power_mode=(null)", "ntp=-1"},
	     {"cc13:2:11: timezone: neither a POSIX TZ string",
	      "cc13:5:10: power_state.delay: expected",
	      "cc13:4:3: power_state.mode: expected poweroff", "cc13:6:6: ntp: expected a mapping",
	      "cc13:7:9: mounts: expected a list"}},
	    /* values as cloud-init's PyYAML (YAML 1.1) and its modules read them (yvalue.c):
	     * permissions: the integer is the mode, YAML 1.1 octal, octal text, 644 decimal (as
	     * cloud-init: warned), null and 0891: the default; append translate_bool("yes"),
	     * defer "y": no YAML 1.1 boolean, a string, false; lock_passwd 'no': a non-empty
	     * string, true in Python; ~: falsy, as kwargs.get() gives it. Warned, as
	     * cloud-init's schema does: 644, 0891; append 'yes', defer y, lock_passwd 'no',
	     * system 1, lock_passwd ~, no_create_home "", preserve_hostname y: not booleans */
	    {"cc30",
	     "#cloud-config\n"
	     "write_files:\n"
	     "  - {path: /a, permissions: 384}\n"
	     "  - {path: /b, permissions: 0600}\n"
	     "  - {path: /c, permissions: '0600'}\n"
	     "  - {path: /d, permissions: \"0o600\"}\n"
	     "  - {path: /e, permissions: 0x1ed}\n"
	     "  - {path: /f, permissions: 644}\n"
	     "  - {path: /g, permissions: ~}\n"
	     "  - {path: /h, permissions: '0891'}\n"
	     "  - {path: /i, append: 'yes', defer: y}\n"
	     "users:\n"
	     "  - {name: a, lock_passwd: no}\n"
	     "  - {name: b, lock_passwd: 'no'}\n"
	     "  - {name: c, lock_passwd: Off, system: 1, uid: 0x3e8}\n"
	     "  - {name: d, lock_passwd: ~, no_create_home: \"\"}\n"
	     "ssh_pwauth: no\n"
	     "preserve_hostname: y\n"
	     "timezone: Europe/Berlin\n",
	     9,
	     {"nfiles=9",
	      "files[0]=/a",
	      "files[/a].mode=0600",
	      "files[1]=/b",
	      "files[/b].mode=0600",
	      "files[2]=/c",
	      "files[/c].mode=0600",
	      "files[3]=/d",
	      "files[/d].mode=0600",
	      "files[4]=/e",
	      "files[/e].mode=0755",
	      "files[5]=/f",
	      "files[/f].mode=01204",
	      "files[6]=/g",
	      "files[/g].mode=0644",
	      "files[7]=/h",
	      "files[/h].mode=0644",
	      "files[8]=/i",
	      "files[/i].append=1",
	      "files[/i].defer=0",
	      "users[0].lock_passwd=0",
	      "users[1].lock_passwd=1",
	      "users[2].lock_passwd=0",
	      "users[2].system=1",
	      "users[2].has_uid=1",
	      "users[2].uid=1000",
	      "users[3].lock_passwd=0",
	      "users[3].no_create_home=0",
	      "preserve_hostname=0",
	      "timezone=Europe/Berlin"},
	     {"cc30:8:29: write_files[5].permissions: 644 unquoted is a decimal integer: mode "
	      "01204",
	      "write_files[7].permissions: expected octal",
	      "users[1].lock_passwd: expected true or false; cloud-init takes the string \"no\" as "
	      "true",
	      "!ssh_pwauth"}},
	    /* power_cond: a string, the command true; ntp: is_false("off"); warned: ssh_pwauth,
	     * enabled 'off' (a string) */
	    {"cc31",
	     "#cloud-config\n"
	     "ssh_pwauth: true\n"
	     "preserve_hostname: on\n"
	     "power_state: {mode: halt, delay: 0x2, timeout: '1.5', condition: 'true'}\n"
	     "ntp: {enabled: 'off'}\n",
	     2,
	     {"preserve_hostname=1", "power_mode=halt", "power_delay_s=120", "power_cond=true",
	      "ntp=0"},
	     {"cc31:2:13: ssh_pwauth: Wisp's SSH server has no password"}},
	    /* cloud-init: "condition type ... invalid" */
	    {"cc32",
	     "#cloud-config\npower_state: {mode: reboot, condition: 1}\n",
	     -1,
	     {"power_mode=(null)"},
	     {"power_state.condition: expected true, false"}},
	    {"cc33",
	     "#cloud-config\npower_state: {mode: reboot, timeout: ~}\n",
	     -1,
	     {"power_mode=(null)"},
	     {}},
	    /* mounts: sdc removed, sdd none, swap refused, bad ones left out; mount_default_fields
	     * given after */
	    {"cc14",
	     "#cloud-config\n"
	     "mounts:\n"
	     "  - [/dev/vdb, /mnt/data]\n"
	     "  - [LABEL=logs, /srv/logs, ext4, 'ro,nofail', '0', '2']\n"
	     "  - [sdc, /mnt/c]\n"
	     "  - [sdc]\n"
	     "  - [sdd, none]\n"
	     "  - [/dev/vde, /mnt/e, swap]\n"
	     "  - [ephemeral0, /mnt/eph]\n"
	     "  - [UUID=1234-ABCD, relative]\n"
	     "mount_default_fields: [~, ~, ext4, 'defaults,nofail', '0', '2']\n",
	     3,
	     {"nmounts=2", "mounts[0].dev=/dev/vdb", "mounts[0].dir=/mnt/data",
	      "mounts[0].type=ext4", "mounts[0].opts=defaults,nofail", "mounts[1].dev=LABEL=logs",
	      "mounts[1].type=ext4", "mounts[1].opts=ro,nofail"},
	     {"cc14:8:5: mounts: swap is not supported",
	      "cc14:9:5: mounts[6]: needs an absolute mountpoint",
	      "cc14:10:5: mounts[7]: needs an absolute mountpoint"}},
	    /* cloud-init's defaults */
	    {"cc15",
	     "#cloud-config\nmounts: [[/dev/vdb, /d]]\n",
	     -1,
	     {"mounts[0].type=auto", "mounts[0].opts=defaults,nofail"},
	     {}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cloudcfg c;

		check_cc("cases", i, &cases[i], &c);
		cloudcfg_free(&c);
	}
}

static void test_modes_and_lines(void **state)
{
	mode_t m;
	char *argv[] = {"echo", "it's", "a b", NULL}, *sh[] = {"/bin/sh", "-c", "ls | wc", NULL};
	char *l;
	(void)state;
	assert_int_equal(cc_parse_mode("0644", &m), 0);
	assert_int_equal(m, 0644);
	assert_int_equal(cc_parse_mode("0o750", &m), 0);
	assert_int_equal(m, 0750);
	assert_int_equal(cc_parse_mode("4755", &m), 0);
	assert_int_equal(m, 04755);
	assert_int_equal(cc_parse_mode("0891", &m), -1);
	assert_int_equal(cc_parse_mode("", &m), -1);
	l = cc_shell_line(argv);
	assert_string_equal(l, "'echo' 'it'\\''s' 'a b'");
	free(l);
	l = cc_shell_line(sh);
	assert_string_equal(l, "ls | wc");
	free(l);
}

static void test_wisp_key(void **state)
{
	static const struct cc_case t = {
	    "cc4",
	    "#cloud-config\n"
	    "wisp:\n"
	    "  services:\n"
	    "    - name: web\n"
	    "      command: [/bin/web, \"8080\"]\n"
	    "  other: 1\n"
	    "  firewall:\n"
	    "    allow: [8080, 53/udp, '443/tcp', 0, 22/sctp]\n"
	    "    deny: [1]\n"
	    "  bridge: {subnet: 10.77.0.1/24}\n"
	    "  bridge: {subnet: 10.77.0.0/24}\n",
	    -1,
	    {"!wisp_units=(null)", "fw_allow.n=3", "fw_allow[0]=8080/tcp", "fw_allow[1]=53/udp",
	     "fw_allow[2]=443/tcp", "bridge_subnet=10.77.0.0/24"},
	    /* firewall.allow: normalised PORT/PROTO, bad ones warned and left out;
	     * bridge.subnet: a CIDR without host bits, a bad one warned and left out */
	    {"cc4:6:3: wisp: unknown key",
	     "cc4:8:12: wisp.firewall.allow: not PORT, PORT/tcp or PORT/udp (1-65535); ignored",
	     "cc4:9:5: wisp.firewall.deny: unknown key",
	     "cc4:10:20: wisp.bridge.subnet: not an IPv4 subnet"}};
	struct cloudcfg c;
	struct decls set = {0};
	char path[256];

	(void)state;
	check_cc("wisp_key", 0, &t, &c);
	/* the rendered text reads back as a declarations file */
	write_tmp("units.yaml", c.wisp_units);
	snprintf(path, sizeof(path), "%s/units.yaml", tmpdir);
	assert_int_equal(decl_load_file(&set, path, NULL, NULL), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].name, "web");
	assert_string_equal(set.v[0].argv[1], "8080");
	decls_free(&set);
	cloudcfg_free(&c);
}

/* The value checks the parser and the plan's reader share. */
static bool value_ok(const char *check, const char *s)
{
	if (!strcmp(check, "reboot") || !strcmp(check, "url"))
		return cc_update_value(check, s);
	if (!strcmp(check, "registry path"))
		return reg_path_ok(s);
	if (!strcmp(check, "posix tz"))
		return cc_posix_tz(s);
	assert_string_equal(check, "zone name");
	return cc_zone_name(s);
}

static void test_value_checks(void **state)
{
	static const struct {
		const char *check, *s;
		bool ok;
	} cases[] = {
	    /* wisp.update's (cc_update_value) */
	    {"reboot", "never", true},
	    {"reboot", "23:59", true},
	    {"reboot", "24:00", false},
	    {"reboot", "3:30", false},
	    {"url", "http://a b", false},
	    {"url", "http://\"x", false},
	    {"url", "https://a/b", true},
	    {"url", "https://", false},
	    /* the scheme in any case (RFC 3986 3.1), as the updater takes it */
	    {"url", "HTTPS://a/b", true},
	    {"url", "Http://a/b", true},
	    {"url", "HTTPS://", false},
	    {"url", "HTTPX://a/b", false},
	    {"registry path", "/etc/a.pem", true},
	    {"registry path", "/etc/..", false},
	    {"registry path", "/a\"b", false},
	    {"registry path", "rel/a.pem", false},
	    {"posix tz", "UTC", true},
	    {"posix tz", "EST5EDT", true},
	    {"posix tz", "CET-1CEST", true},
	    {"posix tz", "<+0530>-5:30", true},
	    {"posix tz", "EST5EDT,M3.2.0,M11.1.0", true},
	    {"posix tz", "CET-1CEST,M3.5.0,M10.5.0/3", true},
	    {"posix tz", "Etc/GMT+5", false},
	    {"posix tz", "Europe/Paris", false},
	    {"posix tz", "EST", false},
	    {"posix tz", "5EST", false},
	    {"posix tz", "EST5$(reboot)", false},
	    {"posix tz", "EST5 EDT", false},
	    {"zone name", "Europe/Berlin", true},
	    {"zone name", "Etc/GMT+5", true},
	    {"zone name", "../../etc/passwd", false},
	    {"zone name", "/etc/passwd", false},
	    {"zone name", "Europe//Berlin", false},
	    {"zone name", "a b", false},
	    {"zone name", "", false},
	};
	char *lt = strdup("<");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = value_ok(cases[i].check, cases[i].s);

		if (ok != cases[i].ok)
			print_message("cases[%zu]: %s \"%s\": %d\n", i, cases[i].check, cases[i].s,
				      ok);
		assert_int_equal(ok, cases[i].ok);
	}
	/* A lone "<" on the heap: the check read two bytes past it (found by fuzz_cloudcfg). */
	assert_false(cc_posix_tz(lt));
	free(lt);
}

/* The table the build made from tzdata (rootfs/tzrules.py), looked up as provision does. */
static void test_tz_rules(void **state)
{
	char rule[64];

	(void)state;
	assert_int_equal(tz_rule(TZRULES_BUILT, "Europe/Berlin", rule, sizeof(rule)), 0);
	assert_string_equal(rule, "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(tz_rule(TZRULES_BUILT, "America/New_York", rule, sizeof(rule)), 0);
	assert_string_equal(rule, "EST5EDT,M3.2.0,M11.1.0");
	assert_int_equal(tz_rule(TZRULES_BUILT, "Europe/Berli", rule, sizeof(rule)), -1);
	assert_int_equal(tz_rule(TZRULES_BUILT, "Nowhere/City", rule, sizeof(rule)), -1);
	assert_int_equal(tz_rule("/nonexistent/tzrules", "UTC", rule, sizeof(rule)), -1);
}

static void test_mime_per_freq(void **state)
{
	const char *mime = "Content-Type: multipart/mixed; boundary=\"B\"\n"
			   "MIME-Version: 1.0\n\n"
			   "--B\nContent-Type: text/x-shellscript-per-boot\n\n#!/bin/sh\nb\n"
			   "--B\nContent-Type: text/x-shellscript-per-instance\n\n#!/bin/sh\ni\n"
			   "--B\nContent-Type: text/x-shellscript-per-once\n\n#!/bin/sh\no\n"
			   "--B--\n";
	(void)state;
	ud_split("ud", mime, strlen(mime), &sink);
	assert_int_equal(nwarn, 0);
	assert_int_equal(nparts, 3);
	assert_non_null(strstr(parts, "[per-boot script|ud: MIME part 1"));
	assert_non_null(strstr(parts, "[per-instance script|ud: MIME part 2"));
	assert_non_null(strstr(parts, "[per-once script|ud: MIME part 3"));
	assert_non_null(strstr(parts, "#!/bin/sh\no]"));
}

/* ccapply's gunzip hook: init's runs busybox; here a stand-in that checks its input. */
static int fake_gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *n)
{
	if (len < 2 || in[0] != 0x1f || in[1] != 0x8b)
		return -1;
	*out = (unsigned char *)strdup("unpacked\n");
	*n = 9;
	return 0;
}

static void test_apply_gzip_files(void **state)
{
	struct cloudcfg c;
	char buf[256];
	struct err e;
	struct cc_env env = {.etc = "/nonexistent",
			     .root = tmpdir,
			     .per_instance = true,
			     .warn = &sink,
			     .gunzip = fake_gunzip};
	const char *p = write_tmp("cc16", "#cloud-config\n"
					  "write_files:\n"
					  "  - path: /gz/ok\n"
					  "    encoding: gz+b64\n"
					  "    content: H4sIAA==\n"
					  "  - path: /gz/bad\n"
					  "    encoding: gzip+base64\n"
					  "    content: aGk=\n");
	(void)state;
	cloudcfg_load(p, &c, &sink);
	assert_int_equal(nwarn, 0);
	cc_apply_files(&c, false, &env);
	snprintf(buf, sizeof(buf), "%s/gz/ok", tmpdir);
	assert_int_equal(read_text(buf, buf, sizeof(buf), &e), 9);
	assert_string_equal(buf, "unpacked\n");
	snprintf(buf, sizeof(buf), "%s/gz/bad", tmpdir);
	assert_int_equal(access(buf, F_OK), -1);
	assert_non_null(strstr(warned, "write_files: /gz/bad: not valid gzip; not written"));
	env.gunzip = NULL; /* no way to gunzip: refused, not written compressed */
	snprintf(buf, sizeof(buf), "%s/gz/ok", tmpdir);
	unlink(buf);
	cc_apply_files(&c, false, &env);
	assert_int_equal(access(buf, F_OK), -1);
	cloudcfg_free(&c);
}

static void test_apply_users_files(void **state)
{
	struct cloudcfg c;
	char etc[128], buf[1024];
	struct err e;
	struct stat st;
	struct cc_env env = {.etc = etc, .root = tmpdir, .per_instance = true, .warn = &sink};
	const char *p;

	(void)state;
	snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
	mkdir(etc, 0755);
	write_tmp("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	write_tmp("etc/group", "root:x:0:\ntty:x:5:\n");
	write_tmp("etc/shadow", "root:*:::::::\n");
	p = write_tmp("cc5", "#cloud-config\n"
			     "users:\n"
			     "  - name: bob\n"
			     "    groups: [tty, ops]\n"
			     "    hashed_passwd: $6$x$y\n"
			     "ssh_authorized_keys: [ssh-ed25519 AAAA bob@x]\n"
			     "write_files:\n"
			     "  - path: /srv/f\n"
			     "    content: one\n"
			     "    permissions: '0640'\n"
			     "  - path: /srv/f\n"
			     "    content: two\n"
			     "    append: true\n"
			     "    defer: true\n");
	cloudcfg_load(p, &c, &sink);
	assert_int_equal(nwarn, 0);
	cc_apply_files(&c, false, &env);
	cc_apply_users(&c, &env);
	cc_apply_files(&c, true, &env);
	snprintf(buf, sizeof(buf), "%s/passwd", etc);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "bob:x:1000:1000::/home/bob:/bin/sh\n"));
	snprintf(buf, sizeof(buf), "%s/group", etc);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "tty:x:5:bob\n"));
	assert_non_null(strstr(buf, "bob:x:1000:\n"));
	assert_non_null(strstr(buf, "ops:x:1001:bob\n"));
	snprintf(buf, sizeof(buf), "%s/shadow", etc);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "bob:!$6$x$y:")); /* lock_passwd defaults to true */
	snprintf(buf, sizeof(buf), "%s/home/bob/.ssh/authorized_keys", tmpdir);
	assert_int_equal(stat(buf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_string_equal(buf, "ssh-ed25519 AAAA bob@x\n");
	snprintf(buf, sizeof(buf), "%s/srv/f", tmpdir);
	assert_int_equal(stat(buf, &st), 0);
	/* as cloud-init: an appending entry sets its own mode (default 0644) */
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_string_equal(buf, "onetwo");
	/* not a new instance: only /etc and /run files are written again */
	env.per_instance = false;
	cc_apply_files(&c, true, &env);
	snprintf(buf, sizeof(buf), "%s/srv/f", tmpdir);
	assert_true(read_text(buf, buf, sizeof(buf), &e) > 0);
	assert_string_equal(buf, "onetwo");
	cloudcfg_free(&c);
}

/* The count decides whether init runs an SSH server (sshd.c): only keys really written count. */
static void test_apply_users_key_count(void **state)
{
	struct cloudcfg c;
	char etc[128];
	struct cc_env env = {.etc = etc, .root = tmpdir, .per_instance = true, .warn = &sink};
	const char *p;

	(void)state;
	snprintf(etc, sizeof(etc), "%s/etck", tmpdir);
	mkdir(etc, 0755);
	write_tmp("etck/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	write_tmp("etck/group", "root:x:0:\n");
	write_tmp("etck/shadow", "root:*:::::::\n");
	write_tmp("blocker", "a file where a home directory would go\n");
	p = write_tmp("cck1",
		      "#cloud-config\n"
		      "users:\n"
		      "  - name: ann\n"
		      "    ssh_authorized_keys: [ssh-ed25519 AAAA a@x, ssh-ed25519 BBBB b@x]\n"
		      "  - name: cy\n"
		      "  - name: dee\n"
		      "    homedir: /blocker/dee\n"
		      "    ssh_authorized_keys: [ssh-ed25519 DDDD d@x]\n"
		      "ssh_authorized_keys: [ssh-ed25519 CCCC c@x]\n");
	cloudcfg_load(p, &c, &sink);
	assert_int_equal(nwarn, 0);
	/* ann's two and the top-level one; dee's cannot be written (a warning) */
	assert_int_equal(cc_apply_users(&c, &env), 3);
	assert_int_equal(nwarn, 1);
	cloudcfg_free(&c);
	p = write_tmp("cck2", "#cloud-config\nusers: [eve]\n");
	cloudcfg_load(p, &c, &sink);
	assert_int_equal(cc_apply_users(&c, &env), 0);
	cloudcfg_free(&c);
}

/* A path under tmpdir/kr (the fake root of the next tests). */
static const char *kr(const char *name)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/kr%s", tmpdir, name);
	return path[i];
}

static void mkdir_owned(const char *name, uid_t uid, mode_t mode)
{
	assert_int_equal(mkdir(kr(name), mode), 0);
	assert_int_equal(chown(kr(name), uid, uid), 0);
}

static void assert_stat(const char *path, uid_t uid, mode_t mode, const char *text)
{
	struct stat st;
	char buf[256];
	struct err e;

	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_mode & 07777, mode);
	if (text) {
		assert_true(read_text(path, buf, sizeof(buf), &e) >= 0);
		assert_string_equal(buf, text);
	}
}

/*
 * A link of root's is followed, its text walked by the same rule: through
 * mal's symlink in it, root's link reaches nothing (the kernel followed
 * root's link whole, mal's with it, before dirwalk.c).
 */
static void links_of_root(const struct cc_env *env)
{
	struct cloudcfg c;
	const char *p;

	assert_int_equal(symlink(kr("/var"), kr("/rok")), 0);
	assert_int_equal(symlink("../home/mal/ud", kr("/var/rl")), 0);
	assert_int_equal(symlink(kr("/var/cloud"), kr("/home/mal/ud")), 0);
	assert_int_equal(lchown(kr("/home/mal/ud"), 1000, 1000), 0);
	p = write_tmp("cck4", "#cloud-config\n"
			      "write_files:\n"
			      "  - {path: /rok/ok.txt, content: ok}\n"
			      "  - {path: /rok/rl/x, content: y}\n");
	cloudcfg_load(p, &c, &sink);
	reset(NULL);
	cc_apply_files(&c, false, env);
	assert_stat(kr("/var/ok.txt"), 0, 0644, "ok");
	assert_non_null(
	    strstr(warned, "/rok/rl: symlink ud of uid 1000 on the way, not followed\n"));
	assert_int_equal(access(kr("/var/cloud/x"), F_OK), -1);
	cloudcfg_free(&c);
}

/*
 * Keys are written as root, at every boot, in directories their users own
 * (issue 10): a user's symlink is never followed, a hard link is replaced
 * rather than written through, a home of another user is left alone.
 */
static void test_keys_user_plants(void **state)
{
	struct cloudcfg c;
	char etc[160], root[160];
	struct cc_env env = {.etc = etc, .root = root, .per_instance = true, .warn = &sink};
	struct stat st, sec;
	const char *p;

	(void)state;
	snprintf(etc, sizeof(etc), "%s", kr("/etc"));
	snprintf(root, sizeof(root), "%s", kr(""));
	assert_int_equal(mkdir(kr(""), 0755), 0);
	mkdir_owned("/etc", 0, 0755);
	write_tmp("kr/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	write_tmp("kr/etc/group", "root:x:0:\n");
	write_tmp("kr/etc/shadow", "root:*:::::::\n");
	mkdir_owned("/var", 0, 0755);
	mkdir_owned("/var/cloud", 0, 0750);
	write_tmp("kr/var/secret", "root only\n");
	assert_int_equal(chmod(kr("/var/secret"), 0600), 0);
	mkdir_owned("/home", 0, 0755);
	/* mal: ~/.ssh is his symlink to a directory of root's */
	mkdir_owned("/home/mal", 1000, 0755);
	assert_int_equal(symlink(kr("/var/cloud"), kr("/home/mal/.ssh")), 0);
	assert_int_equal(lchown(kr("/home/mal/.ssh"), 1000, 1000), 0);
	/* ann: ~/.ssh/authorized_keys is a hard link to a file of root's */
	mkdir_owned("/home/ann", 1001, 0755);
	mkdir_owned("/home/ann/.ssh", 1001, 0700);
	assert_int_equal(link(kr("/var/secret"), kr("/home/ann/.ssh/authorized_keys")), 0);
	/* bea: her home is another user's; cyd: his home is reached by mal's symlink */
	mkdir_owned("/home/bea", 4242, 0755);
	assert_int_equal(symlink(kr("/var/cloud"), kr("/lnk")), 0);
	assert_int_equal(lchown(kr("/lnk"), 1000, 1000), 0);
	p = write_tmp("cck3",
		      "#cloud-config\n"
		      "users:\n"
		      "  - {name: mal, uid: 1000, ssh_authorized_keys: [k-mal]}\n"
		      "  - {name: ann, uid: 1001, ssh_authorized_keys: [k-ann]}\n"
		      "  - {name: bea, uid: 1002, ssh_authorized_keys: [k-bea]}\n"
		      "  - {name: cyd, uid: 1003, homedir: /lnk/cyd,"
		      " ssh_authorized_keys: [k-cyd]}\n"
		      "write_files:\n"
		      "  - {path: /home/ann/.ssh/authorized_keys, content: x, defer: true}\n");
	cloudcfg_load(p, &c, &sink);
	assert_int_equal(nwarn, 0);
	assert_int_equal(lstat(kr("/var/secret"), &sec), 0);
	/* every boot: twice, as a reboot would */
	for (int boot = 0; boot < 2; boot++) {
		reset(NULL);
		assert_int_equal(cc_apply_users(&c, &env), 1); /* ann's key alone */
		assert_non_null(strstr(warned, "cloud-config: user mal: keys not written: .ssh: a "
					       "symlink or not a directory\n"));
		assert_non_null(strstr(warned, "cloud-config: user bea: keys not written: "));
		assert_non_null(strstr(warned, "/home/bea: owned by uid 4242\n"));
		assert_non_null(strstr(warned, "cloud-config: user cyd: keys not written: "));
		assert_non_null(strstr(warned, "/lnk/cyd: symlink lnk of uid 1000 on the way, not "
					       "followed\n"));
		/* root's directory and file: owner, mode and content as they were */
		assert_stat(kr("/var/cloud"), 0, 0750, NULL);
		assert_int_equal(access(kr("/var/cloud/authorized_keys"), F_OK), -1);
		assert_int_equal(access(kr("/var/cloud/cyd"), F_OK), -1);
		assert_stat(kr("/var/secret"), 0, 0600, "root only\n");
		assert_int_equal(lstat(kr("/var/secret"), &st), 0);
		assert_int_equal(st.st_ino, sec.st_ino);
		/* ann's link was replaced by her own file */
		assert_stat(kr("/home/ann/.ssh/authorized_keys"), 1001, 0600, "k-ann\n");
		assert_stat(kr("/home/ann/.ssh"), 1001, 0700, NULL);
		assert_stat(kr("/home/bea"), 4242, 0755, NULL);
		assert_int_equal(access(kr("/home/bea/.ssh"), F_OK), -1);
	}
	/* write_files through a hard link in a user's directory: refused, root's file intact */
	unlink(kr("/home/ann/.ssh/authorized_keys"));
	assert_int_equal(link(kr("/var/secret"), kr("/home/ann/.ssh/authorized_keys")), 0);
	reset(NULL);
	cc_apply_files(&c, true, &env);
	assert_non_null(strstr(warned,
			       "write_files: /home/ann/.ssh/authorized_keys: not a "
			       "regular file, or a hard link in a directory of uid 1001\n"));
	assert_stat(kr("/var/secret"), 0, 0600, "root only\n");
	cloudcfg_free(&c);
	links_of_root(&env);
}

/* Seed files: all or nothing, regular files only (issue 10). */
static void test_read_file(void **state)
{
	char *buf = malloc(YAML_MAX_BYTES + 1), path[256];
	struct err e;
	FILE *f;

	(void)state;
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i <= YAML_MAX_BYTES; i++) /* one byte over */
		fputc(i % 64 ? 'x' : '\n', f);
	fclose(f);
	assert_int_equal(read_file(path, buf, YAML_MAX_BYTES + 1, &e), -1);
	assert_int_equal(e.num, EFBIG);
	assert_non_null(strstr(e.msg, "/big: 1048577 bytes, over the limit of 1048576"));
	assert_int_equal(truncate(path, YAML_MAX_BYTES), 0); /* at the limit: whole */
	assert_int_equal(read_file(path, buf, YAML_MAX_BYTES + 1, &e), YAML_MAX_BYTES);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0); /* no writer: would block without O_NONBLOCK */
	assert_int_equal(read_file(path, buf, 64, &e), -1);
	assert_non_null(strstr(e.msg, "/fifo: not a regular file"));
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(read_file(path, buf, 64, &e), -1);
	assert_int_equal(e.num, ELOOP);
	free(buf);
}

/* lib's mkdir -p -m and whole-file writer (PID 1's /etc and logs, provision's files). */
static void test_mkdir_p_write_file(void **state)
{
	char path[256], file[256], link[256];
	mode_t old = umask(022);
	struct stat st;
	struct err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	assert_int_equal(mkdir_p(path, 0700, &e), 0);
	assert_stat(path, getuid(), 0700, NULL); /* the directory itself: mode */
	snprintf(path, sizeof(path), "%s/a/b", tmpdir);
	assert_stat(path, getuid(), 0755, NULL); /* those above it: 0755 */
	assert_int_equal(mkdir_p(path, 0700, &e), 0);
	assert_stat(path, getuid(), 0755, NULL); /* an existing one is left as it is */
	snprintf(file, sizeof(file), "%s/a/f", tmpdir);
	assert_int_equal(write_file(file, "old text\n", 9, 0600, &e), 0);
	assert_int_equal(write_file(file, "x\n", 2, 0640, &e), 0); /* truncated */
	assert_stat(file, getuid(), 0600, "x\n"); /* an existing file keeps its mode */
	snprintf(path, sizeof(path), "%s/a/f/g/h", tmpdir);
	assert_int_equal(mkdir_p(path, 0755, &e), -1);
	assert_int_equal(e.num, ENOTDIR);
	assert_non_null(strstr(e.msg, "/a/f/g: Not a directory")); /* names the one that failed */
	assert_int_equal(lstat(path, &st), -1);
	snprintf(link, sizeof(link), "%s/a/link", tmpdir);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(write_file(link, "y\n", 2, 0644, &e), -1); /* never through a link */
	assert_int_equal(e.num, ELOOP);
	assert_non_null(strstr(e.msg, "create "));
	assert_stat(file, getuid(), 0600, "x\n");
	umask(old);
}

/* User-data over the limit on a seed is refused whole, with its size (issue 10). */
static void test_ds_too_big(void **state)
{
	struct ds_found f;
	char line[512], out[160], path[256];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/bigseed", tmpdir);
	mkdir(path, 0755);
	write_tmp("bigseed/meta-data", "instance-id: i-big\n");
	snprintf(path, sizeof(path), "%s/bigseed/user-data", tmpdir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("#cloud-config\nhostname: applied-if-cut\n", fp);
	for (int i = 0; i < YAML_MAX_BYTES; i++)
		fputc(i % 64 ? ' ' : '\n', fp);
	fclose(fp);
	snprintf(out, sizeof(out), "%s/bigout", tmpdir);
	snprintf(line, sizeof(line), "ds=nocloud;s=file://%s/bigseed", tmpdir);
	assert_int_equal(ds_find(line, out, &f, &sink), 1);
	ds_meta_read(out, &f, &sink);
	assert_string_equal(f.iid, "i-big");
	assert_non_null(strstr(warned, "datasource: ")); /* the seed's file, its size */
	assert_non_null(
	    strstr(warned, "/bigseed/user-data: 1048615 bytes, over the limit of 1048576"));
	snprintf(path, sizeof(path), "%s/user-data", out);
	assert_int_equal(access(path, F_OK), -1);
	strv_free(f.keys);
}

static void test_sem(void **state)
{
	struct err e;
	char dir[128];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/instances/i-1", tmpdir);
	assert_int_equal(cc_sem_take(dir, "config_runcmd", &e), 1);
	assert_int_equal(cc_sem_take(dir, "config_runcmd", &e), 0);
	snprintf(dir, sizeof(dir), "%s/instances/i-2", tmpdir);
	assert_int_equal(cc_sem_take(dir, "config_runcmd", &e), 1); /* a new instance */
}

/* UDF (Azure's provisioning media): the NSR descriptor at sector 17 (mkudffs) or 19 (a
 * bridge disc: iso9660's descriptor and terminator first, as genisoimage -udf writes);
 * nothing past the bytes read, nothing without NSR. */
static void test_udf(void **state)
{
	unsigned char *b = calloc(1, 40960);

	(void)state;
	assert_false(ds_udf(b, 40960));
	memcpy(b + 16 * 2048 + 1, "BEA01", 5);
	memcpy(b + 17 * 2048 + 1, "NSR03", 5);
	assert_true(ds_udf(b, 40960));
	memset(b, 0, 40960);
	memcpy(b + 16 * 2048, "\1CD001", 6);
	memcpy(b + 17 * 2048, "\377CD001", 6);
	memcpy(b + 18 * 2048 + 1, "BEA01", 5);
	memcpy(b + 19 * 2048 + 1, "NSR02", 5);
	assert_true(ds_udf(b, 40960));
	assert_false(ds_udf(b, 19 * 2048 + 5)); /* cut before its descriptor ends */
	b[19 * 2048] = 1;			/* not a VRS descriptor (its type is 0) */
	assert_false(ds_udf(b, 40960));
	free(b);
}

/* Filesystem labels (ds.c): an ISO 9660 volume's and a FAT boot sector's (FAT12/16's
 * extended BPB at 38, FAT32's at 66), in images of zeros with these bytes put in. */
static void test_labels(void **state)
{
	static const struct {
		size_t len; /* what ds_label is given */
		struct {
			size_t at, n;
			const char *bytes;
		} put[4]; /* up to n 0 */
		int r;
		const char *label, *fs;
	} cases[] = {
	    {.len = 40000, .r = -1},
	    {.len = 40000,
	     .put = {{.at = 32768, .n = 6, .bytes = "\1CD001"},
		     {.at = 32768 + 40, .n = 32, .bytes = "cidata                          "}},
	     .label = "cidata",
	     .fs = "iso9660"},
	    {.len = 512,
	     .put = {{.at = 510, .n = 2, .bytes = "\x55\xaa"},
		     {.at = 38, .n = 1, .bytes = "\x29"},
		     {.at = 43, .n = 11, .bytes = "CIDATA     "},
		     {.at = 54, .n = 8, .bytes = "FAT12   "}},
	     .label = "CIDATA",
	     .fs = "vfat"},
	    {.len = 512,
	     .put = {{.at = 510, .n = 2, .bytes = "\x55\xaa"},
		     {.at = 66, .n = 1, .bytes = "\x29"},
		     {.at = 71, .n = 11, .bytes = "config-2   "},
		     {.at = 82, .n = 8, .bytes = "FAT32   "}},
	     .label = "config-2",
	     .fs = "vfat"},
	};
	unsigned char *b = malloc(40000);

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char label[64] = "";
		const char *fs = NULL;
		int r;

		memset(b, 0, 40000);
		for (int k = 0; k < 4 && cases[i].put[k].n; k++)
			memcpy(b + cases[i].put[k].at, cases[i].put[k].bytes, cases[i].put[k].n);
		r = ds_label(b, cases[i].len, label, sizeof(label), &fs);
		print_message("cases[%zu]: %d \"%s\" %s\n", i, r, label, fs ? fs : "-");
		assert_int_equal(r, cases[i].r);
		if (r == 0) {
			assert_string_equal(label, cases[i].label);
			assert_string_equal(fs, cases[i].fs);
		}
	}
	free(b);
}

static void test_ds_cmdline(void **state)
{
	struct ds_found f;
	char line[512], out[160], path[256], buf[256];
	struct err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/seed", tmpdir);
	mkdir(path, 0755);
	write_tmp("seed/user-data", "#cloud-config\n");
	write_tmp("seed/META-DATA", "instance-id: i-77\nlocal-hostname: h1\n");
	snprintf(out, sizeof(out), "%s/out1", tmpdir);
	snprintf(line, sizeof(line), "quiet ds=nocloud;s=file://%s/seed/ console=ttyS0", tmpdir);
	assert_int_equal(ds_find(line, out, &f, &sink), 1);
	ds_meta_read(out, &f, &sink);
	assert_string_equal(f.iid, "i-77"); /* META-DATA: names are matched in any case */
	assert_string_equal(f.hostname, "h1");
	snprintf(path, sizeof(path), "%s/user-data", out);
	assert_int_equal(read_text(path, buf, sizeof(buf), &e), 14);

	/* wisp.userdata=: base64 user-data, an instance-id from its bytes */
	snprintf(out, sizeof(out), "%s/out2", tmpdir);
	assert_int_equal(
	    ds_find("wisp.userdata=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogeAo=", out, &f, &sink), 1);
	assert_int_equal(strncmp(f.iid, "iid-cmdline-", 12), 0);
	snprintf(path, sizeof(path), "%s/user-data", out);
	assert_int_equal(read_text(path, buf, sizeof(buf), &e), 26);
	assert_string_equal(buf, "#cloud-config\nhostname: x\n");
	strv_free(f.keys);

	/* garbage: a warning, no datasource (and no disk scan with wisp.ds=cmdline) */
	assert_int_equal(ds_find("wisp.ds=cmdline wisp.userdata=!!!", out, &f, &sink), 0);
	assert_non_null(strstr(warned, "wisp.userdata=: not valid base64"));
	assert_int_equal(ds_find("wisp.ds=none ds=nocloud;i=x", out, &f, &sink), 0);

	/* wisp.ds=ec2: a bad wisp.imds= is refused before anything runs; a helper that
	 * fails (here: none installed) is one warning naming the endpoint */
	fw_waits = 0;
	assert_int_equal(ds_find("wisp.ds=ec2 wisp.imds=x;reboot", out, &f, &sink), 0);
	assert_non_null(strstr(warned, "wisp.imds=x;reboot: not a host[:port]"));
	assert_int_equal(fw_waits, 0);
	assert_int_equal(ds_find("wisp.ds=ec2 wisp.imds=10.0.2.2:8169", out, &f, &sink), 0);
	assert_non_null(strstr(warned, "nothing from the metadata service at 10.0.2.2:8169\n"));
	/* the helper's lease brings up an interface: it waited for the firewall first */
	assert_int_equal(fw_waits, 1);
}

static void meta_seed(const char *dir, const char *file, const char *text, struct ds_found *f)
{
	char line[512], out[160], path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/user-data", dir);
	write_tmp(path, "#cloud-config\n");
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	write_tmp(path, text);
	snprintf(out, sizeof(out), "%s/%s-out", tmpdir, dir);
	snprintf(line, sizeof(line), "ds=nocloud;s=file://%s/%s", tmpdir, dir);
	assert_int_equal(ds_find(line, out, f, &sink), 1);
	ds_meta_read(out, f, &sink);
}

/* meta-data comes from the same disk as user-data: parsed in the unprivileged child. A
 * child that dies costs the meta-data (one warning), not the datasource; a key that is
 * not one line would be lines of authorized_keys: dropped. */
static void test_ds_meta_child(void **state)
{
	struct ds_found f;

	(void)state;
	meta_seed("m1", "meta-data", "instance-id: i-m1\nwisp-fault: abort\n", &f);
	assert_string_equal(f.iid, "");
	/* abort() asks for a call outside the allowlist first (glibc): a signal either way */
	assert_non_null(strstr(warned, "datasource: meta-data parser killed by signal "));
	assert_non_null(strstr(warned, "; meta-data of NoCloud (kernel command line) not used\n"));
	strv_free(f.keys);

	warned[0] = '\0';
	meta_seed("m2", "meta-data", "instance-id: i-m2\nwisp-fault: open\n", &f);
	assert_string_equal(f.iid, "");
	assert_non_null(strstr(warned, "meta-data parser killed by signal 31 (SYS)"));
	strv_free(f.keys);

	warned[0] = '\0';
	meta_seed("m3", "meta-data",
		  "instance-id: i-m3\nlocal-hostname: m3\n"
		  "public-keys: [ssh-ed25519 AAAA one, \"ssh-ed25519 AAAA two\\ncommand=x\"]\n",
		  &f);
	assert_string_equal(f.iid, "i-m3");
	assert_string_equal(f.hostname, "m3");
	assert_non_null(f.keys);
	assert_string_equal(f.keys[0], "ssh-ed25519 AAAA one");
	assert_null(f.keys[1]);
	assert_non_null(
	    strstr(warned, "m3-out/meta-data:3:37: a public key that is not one line; ignored\n"));
	strv_free(f.keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_b64, reset),
	    cmocka_unit_test_setup(test_detect, reset),
	    cmocka_unit_test_setup(test_unknown_and_gzip_warn, reset),
	    cmocka_unit_test_setup(test_mime, reset),
	    cmocka_unit_test_setup(test_mime_no_boundary, reset),
	    cmocka_unit_test_setup(test_cloudcfg_cases, reset),
	    cmocka_unit_test_setup(test_modes_and_lines, reset),
	    cmocka_unit_test_setup(test_wisp_key, reset),
	    cmocka_unit_test_setup(test_value_checks, reset),
	    cmocka_unit_test_setup(test_tz_rules, reset),
	    cmocka_unit_test_setup(test_mime_per_freq, reset),
	    cmocka_unit_test_setup(test_apply_gzip_files, reset),
	    cmocka_unit_test_setup(test_apply_users_files, reset),
	    cmocka_unit_test_setup(test_apply_users_key_count, reset),
	    cmocka_unit_test_setup(test_keys_user_plants, reset),
	    cmocka_unit_test_setup(test_read_file, reset),
	    cmocka_unit_test_setup(test_mkdir_p_write_file, reset),
	    cmocka_unit_test_setup(test_ds_too_big, reset),
	    cmocka_unit_test_setup(test_sem, reset),
	    cmocka_unit_test_setup(test_labels, reset),
	    cmocka_unit_test(test_udf),
	    cmocka_unit_test_setup(test_ds_cmdline, reset),
	    cmocka_unit_test_setup(test_ds_meta_child, reset),
	};
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wisp-cc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
