/* tlsget.c: GET one URL with the image's libcurl and wolfSSL (static musl),
 * the proof that they work (tests/tls/test_tls.py) and the program whose size
 * docs/tls.md reports.
 *
 *   tlsget [--cacert FILE] [-o FILE] URL
 *
 * Follows redirects (http and https only), verifies the server's certificate
 * and name against FILE (no default: libcurl is built without a CA path).
 * Prints "status CODE bytes N" on stdout and writes the body to -o's FILE;
 * on failure one line "tlsget: URL: reason" on stderr and exit status 1.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct opts {
	const char *cacert;
	const char *out;
	const char *url;
};

struct sink {
	FILE *f;
	curl_off_t bytes;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	s->bytes += (curl_off_t)n;
	if (s->f && fwrite(data, size, n, s->f) != n)
		return 0; /* curl then fails with CURLE_WRITE_ERROR */
	return n;
}

static int usage(void)
{
	fputs("usage: tlsget [--cacert FILE] [-o FILE] URL\n", stderr);
	return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--cacert"))
			o->cacert = argv[i + 1];
		else if (!strcmp(argv[i], "-o"))
			o->out = argv[i + 1];
		else
			return usage();
	}
	if (i != argc - 1)
		return usage();
	o->url = argv[i];
	return 0;
}

/* The options of a careful client: redirects within http(s), a bound on
 * every transfer, no signals (the resolver runs in a thread). */
static CURLcode setup(CURL *c, const struct opts *o, struct sink *s, char *err)
{
	CURLcode r = CURLE_OK;

	r = r ? r : curl_easy_setopt(c, CURLOPT_URL, o->url);
	r = r ? r : curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	r = r ? r : curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	r = r ? r : curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	r = r ? r : curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	r = r ? r : curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	r = r ? r : curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	r = r ? r : curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r = r ? r : curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	r = r ? r : curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	if (o->cacert)
		r = r ? r : curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	return r;
}

static int get(const struct opts *o, FILE *out)
{
	char err[CURL_ERROR_SIZE] = "";
	struct sink s = {out, 0};
	long status = 0;
	CURLcode r;
	CURL *c = curl_easy_init();

	if (!c) {
		fprintf(stderr, "tlsget: %s: curl_easy_init failed\n", o->url);
		return -1;
	}
	r = setup(c, o, &s, err);
	r = r ? r : curl_easy_perform(c);
	if (!r)
		r = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (r) {
		/* curl's class of error, then its detail (wolfSSL's reason) */
		fprintf(stderr, "tlsget: %s: %s%s%s\n", o->url, curl_easy_strerror(r),
			err[0] ? ": " : "", err);
		return -1;
	}
	printf("status %ld bytes %lld\n", status, (long long)s.bytes);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	FILE *out = NULL;
	int ret;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.out && !(out = fopen(o.out, "wb"))) {
		fprintf(stderr, "tlsget: %s: cannot write %s\n", o.url, o.out);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "tlsget: %s: curl_global_init failed\n", o.url);
		return 1;
	}
	ret = get(&o, out);
	curl_global_cleanup();
	if (out && fclose(out) != 0 && ret == 0) {
		fprintf(stderr, "tlsget: %s: cannot write %s\n", o.url, o.out);
		ret = -1;
	}
	return ret < 0 ? 1 : 0;
}
