/* cli/cliopt.c: the option scanner of containerd-lite's command lines.
 *
 * Options may stand anywhere among the operands ("list --format json",
 * "image list --json"), as docker, kubectl and git take them; "--" ends
 * them. A table entry may belong to some commands only, which is how
 * runc's "-f" is --format for list and ps and --force for delete. */
#include "cliopt.h"

#include <string.h>

/* cmd is a word of only (space-separated); NULL only: every command. */
static bool only_has(const char *only, const char *cmd)
{
	size_t n;

	if (!only)
		return true;
	if (!cmd)
		return false;
	n = strlen(cmd);
	for (const char *p = only; (p = strstr(p, cmd)); p += n)
		if ((p == only || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* "--name", "--name=VALUE" or the short form: the entry, *val the
 * attached value or NULL. */
static const struct cli_opt *find(const struct cli_opt *tab, const char *cmd, const char *a,
				  const char **val)
{
	for (; tab && tab->lng; tab++) {
		size_t n = strlen(tab->lng);

		if (!only_has(tab->only, cmd))
			continue;
		if (strncmp(a, tab->lng, n) == 0 && (a[n] == '\0' || (a[n] == '=' && tab->value))) {
			*val = a[n] ? a + n + 1 : NULL;
			return tab;
		}
		if (tab->shrt && strcmp(a, tab->shrt) == 0) {
			*val = NULL;
			return tab;
		}
	}
	return NULL;
}

int cli_next(struct cli_scan *s, const struct cli_opt *tab, const struct cli_opt *tab2)
{
	while (s->i < s->argc) {
		const char *a = s->argv[s->i++];
		const struct cli_opt *o;

		s->arg = a;
		s->val = NULL;
		if (s->ended || a[0] != '-' || a[1] == '\0')
			return CLI_OPERAND;
		if (strcmp(a, "--") == 0) {
			s->ended = true;
			continue;
		}
		if (!(o = find(tab, s->cmd, a, &s->val)) && !(o = find(tab2, s->cmd, a, &s->val)))
			return CLI_UNKNOWN;
		if (o->value && !s->val) {
			if (s->i == s->argc)
				return CLI_NOVALUE;
			s->val = s->argv[s->i++];
		}
		return o->id;
	}
	return CLI_END;
}
