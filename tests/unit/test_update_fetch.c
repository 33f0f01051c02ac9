/* test_update_fetch.c: how the updater's messages name a bundle's URL (init/update/fetch.c):
 * without its query (a presigned URL's token) nor its userinfo (a password), as git's
 * transport_anonymize_url drops "user:password@"; a file's path as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "update/update.h"

static void shown(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"https://host/b.bundle", "https://host/b.bundle"},
	    {"https://host/b.bundle?X-Amz-Signature=s", "https://host/b.bundle"},
	    {"https://host/b.bundle#frag", "https://host/b.bundle"},
	    {"https://user:pw@host/b.bundle", "https://host/b.bundle"},
	    {"http://user:pw@host:8080/b?sig=s", "http://host:8080/b"},
	    {"https://user@host/b", "https://host/b"},
	    {"https://:pw@host/b", "https://host/b"},
	    {"https://u:p@ss@host/b", "https://host/b"}, /* the last '@' ends the userinfo */
	    {"https://user:pw@host", "https://host"},
	    {"https://user:pw@host?q=1", "https://host"},
	    {"https://user:pw@[::1]:8443/b", "https://[::1]:8443/b"},
	    {"https://[::1]:8443/b", "https://[::1]:8443/b"},
	    {"https://host/a@b/c", "https://host/a@b/c"},     /* in the path: no userinfo */
	    {"https://host/b?to=a@b", "https://host/b"},      /* in the query */
	    {"https://host?to=a@b", "https://host"},	      /* a query straight after the host */
	    {"https://host#x@y", "https://host"},	      /* a fragment */
	    {"https://u:p@host/a@b?c@d", "https://host/a@b"}, /* both */
	    /* the scheme in any case (RFC 3986 3.1): a URL, not a file's path shown whole */
	    {"HTTPS://u:p@h/x", "HTTPS://h/x"},
	    {"Http://user:pw@host:8080/b?sig=s", "Http://host:8080/b"},
	    {"hTTpS://host/b#f", "hTTpS://host/b"},
	    {"httpx://u:p@h/x", "httpx://u:p@h/x"},		/* another scheme: a file's path */
	    {"user:pw@host/b.bundle", "user:pw@host/b.bundle"}, /* no scheme: a file's path */
	    {"/var/tmp/a@b:c.bundle", "/var/tmp/a@b:c.bundle"},
	    {"-", "-"},
	};
	char out[UPD_URL_SHOWN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = fetch_shown(cases[i].in, out, sizeof(out));

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: shown as %s, want %s", cases[i].in, got, cases[i].want);
	}
}

/* What the updater takes for a URL (fetched) rather than a file's path. */
static void is_url(void **state)
{
	static const struct {
		const char *in;
		bool url;
	} cases[] = {
	    {"http://h/b", true},   {"https://h/b", true}, {"HTTPS://u:p@h/x", true},
	    {"HTTP://h/b", true},   {"hTtPs://h/b", true}, {"https:/h/b", false},
	    {"httpx://h/b", false}, {"ftp://h/b", false},  {"/var/tmp/b.bundle", false},
	    {"http", false},	    {"", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (fetch_is_url(cases[i].in) != cases[i].url)
			fail_msg("%s: a URL %d, want %d", cases[i].in, !cases[i].url, cases[i].url);
}

/* Cut to the buffer, never past it. */
static void shown_cut(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(fetch_shown("https://u:p@host/long/path", out, sizeof(out)),
			    "https://host/lo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shown),
	    cmocka_unit_test(is_url),
	    cmocka_unit_test(shown_cut),
	};

	return cmocka_run_group_tests_name("update_fetch", tests, NULL, NULL);
}
