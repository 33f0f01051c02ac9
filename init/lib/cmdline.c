/*
 * cmdline.c: reading our keys (wisp.*) from the kernel command line.
 *
 * Split like the kernel's next_arg(): words separated by blanks, double
 * quotes group blanks into a word and are dropped; "--" ends the kernel's
 * part (what follows belongs to init's argv, not to parameters).
 */
#include "base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Copy the next word of *p (quotes removed) into word; advance *p. Returns false at the end. */
static bool next_word(const char **p, char *word, size_t size)
{
	const char *s = *p;
	bool quoted = false;
	size_t n = 0;

	while (is_blank(*s))
		s++;
	if (!*s)
		return false;
	for (; *s && (quoted || !is_blank(*s)); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < size)
			word[n++] = *s;
	}
	word[n] = '\0';
	*p = s;
	return true;
}

int cmdline_get(const char *line, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	char word[1024];
	int found = -1;

	while (next_word(&line, word, sizeof(word))) {
		if (strcmp(word, "--") == 0)
			break;
		if (strncmp(word, key, klen) != 0 || word[klen] != '=')
			continue;
		/* The kernel lets a later setting override an earlier one; so do we. */
		size_t len = strlen(word + klen + 1);
		if (len >= size)
			len = size ? size - 1 : 0;
		if (size) {
			memcpy(val, word + klen + 1, len);
			val[len] = '\0';
		}
		found = (int)len;
	}
	return found;
}

int cmdline_uint(const char *line, const char *key, unsigned max, unsigned *out, struct err *e)
{
	char val[32];
	const char *end;
	uint64_t v;

	if (cmdline_get(line, key, val, sizeof(val)) < 0)
		return 0;
	end = dec_scan(val, &v);
	if (!end || *end != '\0' || v > max)
		return err_set(e, 0, "%s=%s: not a number from 0 to %u", key, val, max);
	*out = (unsigned)v;
	return 1;
}

bool cmdline_live(const char *line)
{
	char v[8];

	return cmdline_get(line, "wisp.live", v, sizeof(v)) > 0 && strcmp(v, "0") != 0;
}
