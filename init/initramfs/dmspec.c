/*
 * dmspec.c: one device of dm-mod.create='s syntax (the kernel's
 * Documentation/admin-guide/device-mapper/dm-init.rst), as a slot's
 * /A/slot.cfg writes it: "NAME,UUID,MINOR,FLAGS,START LENGTH TARGET ARGS".
 * Only what a slot's root uses: one device, one target line, FLAGS "ro" or
 * "rw", MINOR empty (the kernel picks it, as dm-init does without one).
 */
#include "initramfs.h"

#include <string.h>

/* Copy the field up to SEP into out (size bytes): the character after SEP, or NULL. */
static const char *field(const char *p, char sep, char *out, size_t size)
{
	const char *end = strchr(p, sep);

	if (!end || (size_t)(end - p) >= size)
		return NULL;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return end + 1;
}

static int bad(struct err *e, const char *what)
{
	return err_set(e, 0, INITRAMFS_DM_KEY ": %s", what);
}

/* "START LENGTH TARGET ARGS" */
static int table_line(const char *p, struct dm_spec *s, struct err *e)
{
	size_t n;

	if (!(p = dec_scan(p, &s->start)) || *p++ != ' ' || !(p = dec_scan(p, &s->length)) ||
	    *p++ != ' ')
		return bad(e, "the table does not start with START LENGTH");
	if (!s->length)
		return bad(e, "the table's length is 0 sectors");
	if (!(p = field(p, ' ', s->target, sizeof(s->target))) || !*s->target)
		return bad(e, "no target type, or a longer one than the kernel's 15 characters");
	if (strpbrk(p, ";\n"))
		return bad(e, "more than one device or target line");
	if ((n = strlen(p)) == 0 || n >= sizeof(s->params))
		return bad(e, "the target's arguments are missing or too long");
	memcpy(s->params, p, n + 1);
	return 0;
}

int dm_spec_parse(const char *text, struct dm_spec *s, struct err *e)
{
	char minor[16], flags[8];
	const char *p = text;

	memset(s, 0, sizeof(*s));
	if (!(p = field(p, ',', s->name, sizeof(s->name))) || !*s->name)
		return bad(e, "no device name before the first comma");
	if (!(p = field(p, ',', s->uuid, sizeof(s->uuid))))
		return bad(e, "no UUID field (it may be empty)");
	if (!(p = field(p, ',', minor, sizeof(minor))) || *minor)
		return bad(e, "the MINOR field must be empty");
	if (!(p = field(p, ',', flags, sizeof(flags))) ||
	    (strcmp(flags, "ro") != 0 && strcmp(flags, "rw") != 0))
		return bad(e, "FLAGS must be ro or rw");
	s->read_only = flags[1] == 'o';
	return table_line(p, s, e);
}
