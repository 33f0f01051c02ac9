/*
 * dsuser.c: the datasource's default user. Azure names one (IMDS's
 * adminUsername, the user its portal and CLI log in as), and cloud-init
 * makes it its default user: created, and the receiver of the
 * datasource's SSH keys and of top-level ssh_authorized_keys. Wisp has no
 * default user otherwise (those keys go to the first user of users:), so
 * the datasource's is made the first user: added when users: does not
 * name it, moved to the front when it does.
 */
#include "provision.h"

#include <stdlib.h>
#include <string.h>

int ds_user_first(struct cloudcfg *c, const char *user)
{
	struct cc_user u;
	size_t i = 0;

	while (i < c->nusers && strcmp(c->users[i].name, user))
		i++;
	if (i == c->nusers) { /* as cloud-config's bare "- NAME": the defaults, no password */
		struct cc_user *nv = realloc(c->users, (c->nusers + 1) * sizeof(*nv));
		char *name = nv ? strdup(user) : NULL;
		if (nv)
			c->users = nv;
		if (!name)
			return -1;
		c->users[c->nusers++] = (struct cc_user){.name = name, .lock_passwd = true};
	}
	u = c->users[i];
	memmove(c->users + 1, c->users, i * sizeof(*c->users));
	c->users[0] = u;
	return 0;
}
