/* test_cl_pull.c: the parsers of `image pull` (issue 15), table-driven:
 * references normalised as docker does, WWW-Authenticate challenges,
 * Content-Range, URL origins (a redirect's Authorization), the token
 * URL and answer, docker config.json auths (and the file's mode),
 * registries.json, an index's linux/amd64 choice, and a manifest
 * document's type (its mediaType against the Content-Type). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/pull.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_refs(void **state)
{
	static const struct {
		const char *in, *host, *api, *repo, *tag, *digest, *full;
	} ok[] = {
	    {"nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", "",
	     "docker.io/library/nginx:latest"},
	    {"nginx:1.25", "docker.io", "registry-1.docker.io", "library/nginx", "1.25", "",
	     "docker.io/library/nginx:1.25"},
	    {"docker.io/nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", "",
	     "docker.io/library/nginx:latest"},
	    {"index.docker.io/library/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
	     "latest", "", "docker.io/library/nginx:latest"},
	    {"bitnami/redis", "docker.io", "registry-1.docker.io", "bitnami/redis", "latest", "",
	     "docker.io/bitnami/redis:latest"},
	    {"ghcr.io/org/app:1.4", "ghcr.io", "ghcr.io", "org/app", "1.4", "",
	     "ghcr.io/org/app:1.4"},
	    {"host:5000/x/y@sha256:" D64, "host:5000", "host:5000", "x/y", "", "sha256:" D64,
	     "host:5000/x/y@sha256:" D64},
	    {"127.0.0.1:5000/a:b", "127.0.0.1:5000", "127.0.0.1:5000", "a", "b", "",
	     "127.0.0.1:5000/a:b"},
	    {"localhost/a", "localhost", "localhost", "a", "latest", "", "localhost/a:latest"},
	    {"localhost:5000/a/b-c__d.e:v1.0_rc-1@sha256:" D64, "localhost:5000", "localhost:5000",
	     "a/b-c__d.e", "v1.0_rc-1", "sha256:" D64,
	     "localhost:5000/a/b-c__d.e:v1.0_rc-1@sha256:" D64},
	    {"[::1]:5000/a", "[::1]:5000", "[::1]:5000", "a", "latest", "", "[::1]:5000/a:latest"},
	    {"my-reg.example.com/a---b", "my-reg.example.com", "my-reg.example.com", "a---b",
	     "latest", "", "my-reg.example.com/a---b:latest"},
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "empty"},
	    {"Nginx", "must be lowercase"},
	    {"ghcr.io/Org/app", "must be lowercase"},
	    {"a//b", "empty path component"},
	    {"a/", "empty path component"},
	    {"-a", "start and end"},
	    {"a-", "start and end"},
	    {"a_._b", "start and end"},
	    {"a___b", "start and end"},
	    {"a:", "invalid tag"},
	    {"a:.x", "invalid tag"},
	    {"a:b c", "invalid tag"},
	    {"a@sha256:abc", "the digest"},
	    {"a@md5:" D64, "the digest"},
	    {"a@sha256:" D64 "0", "the digest"},
	    {"host:port/a", "invalid registry port"},
	    {"host:123456/a", "invalid registry port"},
	    {"-host.io/a", "invalid registry host"},
	    {"ho_st.io/a", "invalid registry host"},
	    {"[zz]:5000/a", "IPv6"},
	    {"a b", "invalid character"},
	};
	struct img_ref r;
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (img_ref_parse(ok[i].in, &r, &e) < 0)
			fail_msg("%s: %s", ok[i].in, e.msg);
		assert_string_equal(r.host, ok[i].host);
		assert_string_equal(r.api_host, ok[i].api);
		assert_string_equal(r.repo, ok[i].repo);
		assert_string_equal(r.tag, ok[i].tag);
		assert_string_equal(r.digest, ok[i].digest);
		assert_string_equal(r.full, ok[i].full);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (img_ref_parse(bad[i].in, &r, &e) == 0)
			fail_msg("%s: accepted", bad[i].in);
		if (!strstr(e.msg, bad[i].why) || strncmp(e.msg, "reference ", 10))
			fail_msg("%s: %s (want %s)", bad[i].in, e.msg, bad[i].why);
	}
	/* 256 characters of name is too long */
	char lng[300];
	memset(lng, 'a', 256);
	lng[256] = 0;
	assert_int_equal(img_ref_parse(lng, &r, &e), -1);
	assert_non_null(strstr(e.msg, "longer than 255"));
}

static void test_challenges(void **state)
{
	static const struct {
		const char *in, *scheme, *realm, *service, *scope;
	} ok[] = {
	    {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	     "scope=\"repository:library/nginx:pull\"",
	     "Bearer", "https://auth.docker.io/token", "registry.docker.io",
	     "repository:library/nginx:pull"},
	    {"bearer  REALM = \"https://a/t\" , Service=reg", "bearer", "https://a/t", "reg", ""},
	    {"Bearer realm=\"https://a/t?x=1\",scope=\"repository:a:pull,push\",error=\"x\"",
	     "Bearer", "https://a/t?x=1", "", "repository:a:pull,push"},
	    {"Bearer realm=\"https://a/\\\"q\\\"\"", "Bearer", "https://a/\"q\"", "", ""},
	    {"Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", "", ""},
	    {"Basic", "Basic", "", "", ""},
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "no scheme"},
	    {"Bearer service=x", "without a realm"},
	    {"Bearer realm=\"unterminated", "bad parameter"},
	    {"Bearer realm", "bad parameter"},
	    {"Bearer realm=\"a\" service=\"b\"", "',' expected"},
	};
	struct img_challenge c;
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (img_challenge_parse(ok[i].in, &c, &e) < 0)
			fail_msg("%s: %s", ok[i].in, e.msg);
		assert_string_equal(c.scheme, ok[i].scheme);
		assert_string_equal(c.realm, ok[i].realm);
		assert_string_equal(c.service, ok[i].service);
		assert_string_equal(c.scope, ok[i].scope);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (img_challenge_parse(bad[i].in, &c, &e) == 0)
			fail_msg("%s: accepted", bad[i].in);
		if (!strstr(e.msg, bad[i].why) || strncmp(e.msg, "WWW-Authenticate", 16))
			fail_msg("%s: %s (want %s)", bad[i].in, e.msg, bad[i].why);
	}
}

static void test_content_range(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t first, last;
		int64_t total;
	} t[] = {
	    {"bytes 100-199/200", 0, 100, 199, 200},
	    {"bytes 0-0/1", 0, 0, 0, 1},
	    {"Bytes 5-9/*", 0, 5, 9, -1},
	    {" bytes 1-2/3\r\n", 0, 1, 2, 3},
	    {"bytes 18446744073709551614-18446744073709551614/*", 0, 18446744073709551614ull,
	     18446744073709551614ull, -1},
	    {"bytes 100-199/150", -1, 0, 0, 0}, /* past the end */
	    {"bytes 200-100/300", -1, 0, 0, 0}, /* backwards */
	    {"bytes */200", -1, 0, 0, 0},	/* unsatisfied-range form */
	    {"items 0-1/2", -1, 0, 0, 0},
	    {"bytes -1-2/3", -1, 0, 0, 0},
	    {"bytes 1-2/3x", -1, 0, 0, 0},
	    {"bytes 1-2", -1, 0, 0, 0},
	    {"bytes 99999999999999999999-1/2", -1, 0, 0, 0},
	    {"", -1, 0, 0, 0},
	};
	uint64_t first, last;
	int64_t total;
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = img_content_range_parse(t[i].in, &first, &last, &total, &e);
		if (r != t[i].ok)
			fail_msg("'%s': %d, want %d", t[i].in, r, t[i].ok);
		if (r < 0) {
			assert_non_null(strstr(e.msg, "Content-Range"));
			continue;
		}
		assert_true(first == t[i].first && last == t[i].last && total == t[i].total);
	}
}

static void test_origins(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} t[] = {
	    {"https://reg.io/v2/a/blobs/x", "https://reg.io/other", true},
	    {"https://reg.io/v2/", "https://reg.io:443/v2/", true},
	    {"http://reg.io/v2/", "http://REG.io:80/x", true},
	    {"https://reg.io/v2/", "http://reg.io/v2/", false},
	    {"https://reg.io/v2/", "https://cdn.reg.io/v2/", false},
	    {"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/v2/", false},
	    {"http://[::1]:5000/", "http://[::1]:5000/v2", true},
	    {"http://[::1]/", "http://[::1]:80/", true},
	    {"https://reg.io/", "https://reg.io@evil.io/", false},
	    {"reg.io/", "reg.io/", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (img_same_origin(t[i].a, t[i].b) != t[i].same)
			fail_msg("%s vs %s: want %d", t[i].a, t[i].b, t[i].same);
}

/* A URL's host as an address. */
static void test_url_ip(void **state)
{
	static const struct {
		const char *url;
		size_t len;
		unsigned char ip[16];
	} t[] = {
	    {"https://10.0.2.2:5000/v2/", 4, {10, 0, 2, 2}},
	    {"https://127.0.0.1/v2/a", 4, {127, 0, 0, 1}},
	    {"https://[::1]:5000/v2/", 16, {[15] = 1}},
	    {"https://[fd00::1]/", 16, {0xfd, [15] = 1}},
	    {"https://registry.example/v2/", 0, {0}},
	    {"https://10.0.2/v2/", 0, {0}},
	    {"https://10.0.2.2.example/", 0, {0}},
	    {"https://[::1/", 0, {0}},
	    {"10.0.2.2:5000/v2/", 0, {0}},
	    {"https://[1234567890123456789012345678901234567890123456789012345678901234]/", 0, {0}},
	};
	unsigned char ip[16];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = img_url_ip(t[i].url, ip);

		if (n != t[i].len || memcmp(ip, t[i].ip, n) != 0)
			fail_msg("%s: %zu bytes, want %zu", t[i].url, n, t[i].len);
	}
}

/* What an error line shows of its URLs (a redirect's, a token realm's, a mirror's): no
 * userinfo (a password), no query (a presigned URL's token); an '@' past the host stays. */
static void test_url_secrets(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"GET https://h/v2/x: HTTP 404", "GET https://h/v2/x: HTTP 404"},
	    {"GET https://h/b?sig=s: HTTP 403", "GET https://h/b: HTTP 403"},
	    {"GET https://h/b?sig=s:", "GET https://h/b:"},
	    {"GET https://u:pw@h/b: HTTP 403", "GET https://h/b: HTTP 403"},
	    {"GET https://u:pw@h:5000/b?sig=s: HTTP 403", "GET https://h:5000/b: HTTP 403"},
	    {"GET https://u@h/b: x", "GET https://h/b: x"},
	    {"GET https://u:p@ss@h/b: x", "GET https://h/b: x"},
	    {"GET https://u:pw@h: x", "GET https://h: x"},
	    {"GET https://u:pw@h?q=1 x", "GET https://h x"},
	    {"GET http://u:pw@[::1]:5000/v2/: x", "GET http://[::1]:5000/v2/: x"},
	    {"GET http://[::1]:5000/v2/: x", "GET http://[::1]:5000/v2/: x"},
	    {"GET https://h/a@b/c: x", "GET https://h/a@b/c: x"},
	    {"GET https://h/b?to=a@b: x", "GET https://h/b: x"},
	    {"GET https://h?to=a@b: x", "GET https://h: x"},
	    {"GET https://u:p@h/a@b?c@d: x", "GET https://h/a@b: x"},
	    {"redirect https://a:1@h/x to https://b:2@g/y?s=1",
	     "redirect https://h/x to https://g/y"},
	    {"pull u:pw@h/x: no such host", "pull u:pw@h/x: no such host"}, /* no scheme: no URL */
	    {"mail me@h: x", "mail me@h: x"},
	    {"https://u:pw@", "https://"},
	    {"", ""},
	};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", t[i].in);
		img_strip_url_secrets(msg);
		if (strcmp(msg, t[i].want) != 0)
			fail_msg("%s: %s, want %s", t[i].in, msg, t[i].want);
	}
}

/* A URL's scheme in any case (RFC 3986 3.1), and its userinfo refused: the fetcher and the
 * pull send no credentials of a URL's (curl would send them as Basic), and the refusal
 * names the URL without them. */
static void test_url_userinfo(void **state)
{
	static const struct {
		const char *url;
		int tls;	 /* img_url_tls */
		const char *why; /* img_url_no_userinfo's message, NULL: none */
	} t[] = {
	    {"https://h/x", 1, NULL},
	    {"HTTPS://h/x", 1, NULL},
	    {"Http://h/x", 0, NULL},
	    {"http://[::1]:80/a@b?c@d", 0, NULL}, /* '@' past the authority */
	    {"ftp://h/x", -1, NULL},
	    {"https:/h/x", -1, NULL},
	    {"h/x", -1, NULL},
	    {"http://user:hunter2@h/x", 0, "to http://h/x: credentials in a URL are not supported"},
	    {"https://u@h/x", 1, "to https://h/x: credentials in a URL are not supported"},
	    {"HTTPS://u:hunter2@h:8443/x", 1,
	     "to HTTPS://h:8443/x: credentials in a URL are not supported"},
	    {"http://:hunter2@h", 0, "to http://h: credentials in a URL are not supported"},
	    {"http://u:p@hunter2@h/x", 0, "to http://h/x: credentials in a URL are not supported"},
	    /* any scheme: checked before "not an http(s) URL" names it */
	    {"ftp://u:hunter2@h/x", -1, "to ftp://h/x: credentials in a URL are not supported"},
	};
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = img_url_no_userinfo(t[i].url, "to ", &e);

		if (img_url_tls(t[i].url) != t[i].tls)
			fail_msg("%s: img_url_tls %d, want %d", t[i].url, img_url_tls(t[i].url),
				 t[i].tls);
		if (r != (t[i].why ? -1 : 0) || (t[i].why && strcmp(e.msg, t[i].why)))
			fail_msg("%s: %d %s, want %s", t[i].url, r, r ? e.msg : "",
				 t[i].why ?: "none");
	}
}

static void test_token(void **state)
{
	struct img_challenge c = {"Bearer", "https://auth.io/token", "reg.io", ""};
	char url[512], *t;
	struct cl_err e;

	(void)state;
	assert_int_equal(img_token_url(&c, "repository:a/b:pull", url, sizeof(url), &e), 0);
	assert_string_equal(url,
			    "https://auth.io/token?service=reg.io&scope=repository%3Aa%2Fb%3Apull");
	snprintf(c.realm, sizeof(c.realm), "https://auth.io/t?x=1");
	snprintf(c.scope, sizeof(c.scope), "repository:c:pull");
	assert_int_equal(img_token_url(&c, "ignored", url, sizeof(url), &e), 0);
	assert_string_equal(url,
			    "https://auth.io/t?x=1&service=reg.io&scope=repository%3Ac%3Apull");
	snprintf(c.realm, sizeof(c.realm), "file:///etc/passwd");
	assert_int_equal(img_token_url(&c, "x", url, sizeof(url), &e), -1);
	assert_non_null(strstr(e.msg, "not an http(s) URL"));
	/* a realm's scheme in any case; its userinfo refused, not sent as Basic by curl */
	snprintf(c.realm, sizeof(c.realm), "HTTPS://auth.io/t");
	assert_int_equal(img_token_url(&c, "x", url, sizeof(url), &e), 0);
	snprintf(c.realm, sizeof(c.realm), "https://u:hunter2@auth.io/t");
	assert_int_equal(img_token_url(&c, "x", url, sizeof(url), &e), -1);
	assert_string_equal(
	    e.msg, "token realm https://auth.io/t: credentials in a URL are not supported");

	static const struct {
		const char *body, *token, *why;
	} ans[] = {
	    {"{\"token\":\"abc\"}", "abc", NULL},
	    {"{\"access_token\":\"def\",\"expires_in\":60}", "def", NULL},
	    {"{\"token\":\"\",\"access_token\":\"ghi\"}", "ghi", NULL},
	    {"{\"nothing\":1}", NULL, "no token"},
	    {"{\"token\":\"a\\r\\nX-Evil: 1\"}", NULL, "no token"},
	    {"not json", NULL, "token answer:"},
	};
	for (size_t i = 0; i < sizeof(ans) / sizeof(ans[0]); i++) {
		t = img_token_parse(ans[i].body, strlen(ans[i].body), &e);
		if (ans[i].token) {
			assert_non_null(t);
			assert_string_equal(t, ans[i].token);
		} else {
			assert_null(t);
			if (!strstr(e.msg, ans[i].why))
				fail_msg("%s: %s", ans[i].body, e.msg);
		}
		free(t);
	}
}

static void test_creds(void **state)
{
	/* dXNlcjpwYXNz = user:pass; YWJj = abc (no ':') */
	static const struct {
		const char *json, *host, *basic, *why;
	} t[] = {
	    {"{\"auths\":{\"reg.io\":{\"auth\":\"dXNlcjpwYXNz\"}}}", "reg.io", "dXNlcjpwYXNz",
	     NULL},
	    {"{\"auths\":{\"https://reg.io/v2/\":{\"auth\":\"dXNlcjpwYXNz\"}}}", "reg.io",
	     "dXNlcjpwYXNz", NULL},
	    {"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYXNz\"}}}",
	     "docker.io", "dXNlcjpwYXNz", NULL},
	    {"{\"auths\":{\"reg.io:5000\":{\"auth\":\"dXNlcjpwYXNz\"}}}", "reg.io", NULL, NULL},
	    {"{\"auths\":{\"reg.io\":{\"auth\":\"dXNlcjpwYXNz\"}}}", "other.io", NULL, NULL},
	    {"{\"auths\":{\"reg.io\":{\"username\":\"user\",\"password\":\"pass\"}}}", "reg.io",
	     "dXNlcjpwYXNz", NULL},
	    {"{\"credsStore\":\"x\"}", "reg.io", NULL, NULL},
	    {"{\"auths\":{\"reg.io\":{\"auth\":\"YWJj\"}}}", "reg.io", NULL,
	     "not base64 of user:password"},
	    {"{\"auths\":{\"reg.io\":{\"auth\":\"dXNl\\r\\ncjpwYXNz\"}}}", "reg.io", NULL,
	     "not base64"},
	    {"{\"auths\":{\"reg.io\":{}}}", "reg.io", NULL, "no auth"},
	    {"{\"auths\":{\"reg.io\":1}}", "reg.io", NULL, "not an object"},
	    {"{\"auths\":[]}", "reg.io", NULL, "not a docker config.json"},
	    {"[1]", "reg.io", NULL, "not a docker config.json"},
	    {"{", "reg.io", NULL, "line 1"},
	};
	struct cl_err e;
	char *basic;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = img_creds_parse(t[i].json, strlen(t[i].json), "auth.json", t[i].host,
					&basic, &e);
		if (t[i].why) {
			if (r == 0 || !strstr(e.msg, t[i].why) || strncmp(e.msg, "auth.json: ", 11))
				fail_msg("%s: %d %s (want %s)", t[i].json, r, e.msg, t[i].why);
			continue;
		}
		if (r < 0)
			fail_msg("%s: %s", t[i].json, e.msg);
		if (t[i].basic)
			assert_string_equal(basic, t[i].basic);
		else
			assert_null(basic);
		free(basic);
	}
}

/* The file: refused when others may read it; missing is none unless named. */
static void test_creds_file(void **state)
{
	char dir[] = "/tmp/test_cl_pull.XXXXXX", path[100];
	struct cl_err e;
	char *basic;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/auth.json", dir);
	assert_int_equal(img_creds_load(path, false, "reg.io", &basic, &e), 0);
	assert_null(basic);
	assert_int_equal(img_creds_load(path, true, "reg.io", &basic, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"auths\":{\"reg.io\":{\"auth\":\"dXNlcjpwYXNz\"}}}", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(img_creds_load(path, false, "reg.io", &basic, &e), -1);
	assert_non_null(strstr(e.msg, "mode 644: others may read it"));
	chmod(path, 0600);
	assert_int_equal(img_creds_load(path, false, "reg.io", &basic, &e), 0);
	assert_string_equal(basic, "dXNlcjpwYXNz");
	free(basic);
	unlink(path);
	rmdir(dir);
}

static void test_regcfg(void **state)
{
	static const struct {
		const char *json, *host;
		bool insecure;
		const char *ca, *mirror0;
		size_t nmirrors;
		const char *why;
	} t[] = {
	    {"{\"registries\":{\"a.io\":{\"insecure\":true}}}", "a.io", true, IMG_CA_DEFAULT, "", 0,
	     NULL},
	    {"{\"registries\":{\"a.io\":{\"insecure\":true}}}", "b.io", false, IMG_CA_DEFAULT, "",
	     0, NULL},
	    {"{\"registries\":{\"docker.io\":{\"mirrors\":[\"m.lan:5000\",\"m2.lan\"],"
	     "\"ca\":\"/etc/ca.pem\"}}}",
	     "docker.io", false, "/etc/ca.pem", "m.lan:5000", 2, NULL},
	    {"{}", "a.io", false, IMG_CA_DEFAULT, "", 0, NULL},
	    {"{\"registries\":{\"a.io\":{\"insecure\":\"yes\"}}}", "a.io", false, NULL, NULL, 0,
	     "registries.a.io.insecure: not true or false"},
	    {"{\"registries\":{\"a.io\":{\"ca\":\"rel.pem\"}}}", "a.io", false, NULL, NULL, 0,
	     "not an absolute path"},
	    {"{\"registries\":{\"a.io\":{\"mirrors\":[\"http://m\"]}}}", "a.io", false, NULL, NULL,
	     0, "not an array of at most 8 host[:port]"},
	    {"{\"registries\":{\"a.io\":{\"mirrors\":[\"m/x\"]}}}", "a.io", false, NULL, NULL, 0,
	     "mirrors: not"},
	    {"{\"registries\":{\"a.io\":{\"insecur\":true}}}", "a.io", false, NULL, NULL, 0,
	     "registries.a.io.insecur: unknown setting"},
	    /* another registry's bad entry fails too */
	    {"{\"registries\":{\"a.io\":{\"x\":1}}}", "b.io", false, NULL, NULL, 0,
	     "unknown setting"},
	    {"{\"registries\":{\"a.io\":[]}}", "a.io", false, NULL, NULL, 0, "not an object"},
	    {"{\"mirrors\":[]}", "a.io", false, NULL, NULL, 0, "one key expected"},
	};
	struct img_regcfg c;
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r =
		    img_regcfg_parse(t[i].json, strlen(t[i].json), "regs.json", t[i].host, &c, &e);
		if (t[i].why) {
			if (r == 0 || !strstr(e.msg, t[i].why) || strncmp(e.msg, "regs.json: ", 11))
				fail_msg("%s: %d %s (want %s)", t[i].json, r, e.msg, t[i].why);
			continue;
		}
		if (r < 0)
			fail_msg("%s: %s", t[i].json, e.msg);
		assert_int_equal(c.insecure, t[i].insecure);
		assert_string_equal(c.ca, t[i].ca);
		assert_int_equal(c.nmirrors, t[i].nmirrors);
		if (c.nmirrors)
			assert_string_equal(c.mirrors[0], t[i].mirror0);
	}
}

/* A registry's index: linux/amd64 by import's rule (baseline variant first). */
static void test_index_choice(void **state)
{
	static const struct {
		const char *platforms; /* os/arch[/variant] ... in index order */
		int want;	       /* index of the chosen one, -1 none */
		const char *why;
	} t[] = {
	    {"linux/arm64/v8 linux/amd64 linux/riscv64", 1, NULL},
	    {"linux/amd64/v3 linux/amd64/v2 linux/amd64", 2, NULL},
	    {"linux/amd64/v3 linux/amd64/v2", 1, NULL},
	    {"windows/amd64 linux/amd64", 1, NULL},
	    {"linux/arm64/v8 linux/riscv64", -1,
	     "no linux/amd64 manifest (found linux/arm64/v8, linux/riscv64)"},
	    {"", -1, "no manifests"},
	};
	struct cl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *idx = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests"), *d;
		char buf[200], *save = NULL;
		int n = 0;

		snprintf(buf, sizeof(buf), "%s", t[i].platforms);
		for (char *p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save), n++) {
			char *os = strtok(p, "/"), *arch = strtok(NULL, "/"),
			     *v = strtok(NULL, "/");
			json_t *plat = json_pack("{s:s, s:s}", "os", os, "architecture", arch);
			if (v)
				json_object_set_new(plat, "variant", json_string(v));
			json_array_append_new(json_object_get(idx, "manifests"),
					      json_pack("{s:i, s:o}", "n", n, "platform", plat));
		}
		d = img_index_choose(idx, NULL, &e);
		if (t[i].want < 0) {
			assert_null(d);
			if (!strstr(e.msg, t[i].why))
				fail_msg("%s: %s", t[i].platforms, e.msg);
		} else {
			assert_non_null(d);
			assert_int_equal(json_integer_value(json_object_get(d, "n")), t[i].want);
		}
		json_decref(idx);
	}
}

/* A manifest document's type: its own mediaType, a Content-Type that
 * disagrees refused; without one, the Content-Type's (image/mtype.c). */
static void test_doc_type(void **state)
{
#define OM    IMG_MT_OCI_MANIFEST
#define OI    IMG_MT_OCI_INDEX
#define DM    IMG_MT_DOCKER_MANIFEST
#define DL    IMG_MT_DOCKER_LIST
#define IMAGE "\"config\": {}, \"layers\": []"
#define LIST  "\"manifests\": []"
	/* want: the type, or (err set) the refusal's text */
	static const struct {
		const char *ctype, *doc, *want, *err;
	} t[] = {
	    /* its own mediaType: the header agrees, or says nothing */
	    {OM, "{\"mediaType\": \"" OM "\", " IMAGE "}", OM, NULL},
	    {OI, "{\"mediaType\": \"" OI "\", " LIST "}", OI, NULL},
	    {DM, "{\"mediaType\": \"" DM "\", " IMAGE "}", DM, NULL},
	    {DL, "{\"mediaType\": \"" DL "\", " LIST "}", DL, NULL},
	    {"", "{\"mediaType\": \"" OI "\", " LIST "}", OI, NULL},
	    {"application/json", "{\"mediaType\": \"" DL "\"}", DL, NULL},
	    {"APPLICATION/vnd.oci.image.index.v1+JSON", "{\"mediaType\": \"" OI "\"}", OI, NULL},
	    /* none: the Content-Type's, an OCI manifest when it says nothing */
	    {OI, "{" LIST "}", OI, NULL},
	    {OM, "{" IMAGE "}", OM, NULL},
	    {"", "{" IMAGE "}", OM, NULL},
	    {"application/json", "{}", OM, NULL},
	    {"text/plain", "{}", "text/plain", NULL},
	    /* the header says otherwise: refused, naming both */
	    {OM, "{\"mediaType\": \"" OI "\", " LIST "}", NULL,
	     "Content-Type " OM ", but its mediaType is " OI},
	    {OI, "{\"mediaType\": \"" OM "\", " IMAGE "}", NULL,
	     "Content-Type " OI ", but its mediaType is " OM},
	    {DL, "{\"mediaType\": \"" OI "\"}", NULL, "Content-Type " DL ", but"},
	    {DM, "{\"mediaType\": \"" OM "\"}", NULL, "Content-Type " DM ", but"},
	    {"text/plain", "{\"mediaType\": \"" OM "\"}", NULL, "Content-Type text/plain, but"},
	    /* the other kind's members: both at once, whatever says which */
	    {OI, "{\"mediaType\": \"" OI "\", " LIST ", " IMAGE "}", NULL,
	     "an index (" OI ") with config or layers"},
	    {OM, "{\"mediaType\": \"" OM "\", " LIST ", " IMAGE "}", NULL,
	     "a manifest (" OM ") with manifests"},
	    {OI, "{\"layers\": []}", NULL, "an index (" OI ") with config or layers"},
	    {"", "{" LIST "}", NULL, "a manifest (" OM ") with manifests"},
	    /* not a media type */
	    {OM, "{\"mediaType\": 2}", NULL, "mediaType is not a media type"},
	    {"", "{\"mediaType\": \"" OI "\\u0000x\"}", NULL, "mediaType is not a media type"},
	};
	struct cl_err e;
	char mt[128];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *doc = json_loads(t[i].doc, JSON_ALLOW_NUL, NULL);
		int r;

		assert_non_null(doc);
		e.msg[0] = 0;
		r = img_doc_type(t[i].ctype, doc, mt, &e);
		if (t[i].want && (r < 0 || strcmp(mt, t[i].want)))
			fail_msg("%zu %s: %s", i, t[i].doc, r < 0 ? e.msg : mt);
		if (!t[i].want && (r == 0 || !strstr(e.msg, t[i].err)))
			fail_msg("%zu %s: %s", i, t[i].doc, r == 0 ? mt : e.msg);
		json_decref(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refs),	  cmocka_unit_test(test_challenges),
	    cmocka_unit_test(test_content_range), cmocka_unit_test(test_origins),
	    cmocka_unit_test(test_token),	  cmocka_unit_test(test_creds),
	    cmocka_unit_test(test_creds_file),	  cmocka_unit_test(test_regcfg),
	    cmocka_unit_test(test_index_choice),  cmocka_unit_test(test_url_ip),
	    cmocka_unit_test(test_doc_type),	  cmocka_unit_test(test_url_secrets),
	    cmocka_unit_test(test_url_userinfo),
	};

	return cmocka_run_group_tests_name("cl_pull", tests, NULL, NULL);
}
