/*
 * main.c: /usr/libexec/wisp/update, the updater wispctl's `update` verb runs
 * (docs/update-bundle.md). A table of commands; each is a small function over
 * bundle.c's reader. Exit status: 0 done, 1 failed (one line on stderr),
 * 2 a usage error.
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	const char *name;
	int nargs;  /* operands after the command; -1: any number */
	bool trust; /* takes --keys and --now */
	int (*run)(const struct upd_args *a, struct err *e);
};

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void print_manifest(const struct upd_head *h)
{
	const struct upd_manifest *m = &h->m;
	char t[UPD_UTC_LEN], sum[2 * 32 + 1], id[2 * UPD_KEY_ID_LEN + 1];
	char comment[4 * UPD_COMMENT_MAX + 1];

	printf("bundle:   %s\nversion:  %s\nvariant:  %s\n", h->name, m->version_str, m->variant);
	printf("created:  %s\n", upd_utc(m->created, t));
	printf("expires:  %s\n", upd_utc(m->expires, t));
	printf("cmdline:  %s\n", m->cmdline);
	for (int i = 0; i < UPD_NPARTS; i++) {
		hex(m->part[i].sha256, 32, sum);
		printf("%s:%*s%llu bytes, sha256 %s\n", m->part[i].name,
		       (int)(9 - strlen(m->part[i].name)), "", (unsigned long long)m->part[i].size,
		       sum);
	}
	printf("verity:   root hash %s, %llu data blocks of %u, tree at block %llu\n",
	       m->verity.root_hash, (unsigned long long)m->verity.data_blocks,
	       m->verity.data_block_size, (unsigned long long)m->verity.hash_start_block);
	if (m->format >= 2)
		printf("boot:     Secure Boot signatures of the kernel (%zu bytes), slot A's "
		       "slot.cfg (%zu), slot B's (%zu)\n",
		       m->boot_sig[UPD_SIG_KERNEL].len, m->boot_sig[UPD_SIG_SLOT_A].len,
		       m->boot_sig[UPD_SIG_SLOT_B].len);
	upd_key_id_str(h->sig.id, id);
	printf("signed:   key %s (%s), %s\n", id, h->key ? h->key->file : "not checked",
	       h->sig.prehashed ? "prehashed (ED)" : "legacy (Ed)");
	/* from the bundle, and `inspect` checks nothing: no byte of it a terminal control */
	printf("trusted comment: %s\n",
	       text_escaped(h->sig.trusted, strlen(h->sig.trusted), comment, sizeof(comment)));
}

/* BUNDLE, or standard input for "-" (a download piped in). */
static int open_bundle(const char *path, struct err *e)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO)
					: open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	return fd;
}

int upd_parse_now(const char *s, uint64_t *now, struct err *e)
{
	const char *end;

	if (!s) {
		*now = (uint64_t)time(NULL);
		return 0;
	}
	end = dec_scan(s, now);
	if (!end || *end)
		return err_set(e, 0, "--now %s: not a number of seconds", s);
	return 0;
}

static int cmd_verify(const struct upd_args *a, struct err *e)
{
	static struct upd_keys keys;
	static struct upd_head h;
	uint64_t now;
	int fd, ret;

	if (upd_parse_now(a->now, &now, e) < 0 ||
	    upd_keys_load(a->keys ? a->keys : UPD_KEYS_DIR, &keys, e) < 0)
		return -1;
	fd = open_bundle(a->operand[0], e);
	if (fd < 0)
		return -1;
	ret = upd_bundle_verify(fd, a->operand[0], &keys, now, &h, e);
	close(fd);
	if (ret == 0)
		print_manifest(&h);
	return ret;
}

static int cmd_inspect(const struct upd_args *a, struct err *e)
{
	static struct upd_head h;
	int fd = open_bundle(a->operand[0], e), ret;

	if (fd < 0)
		return -1;
	ret = upd_head_read(fd, a->operand[0], &h, e) < 0 || upd_head_inspect(&h, e) < 0 ? -1 : 0;
	close(fd);
	if (ret == 0)
		print_manifest(&h);
	return ret;
}

static const struct cmd cmds[] = {
    {"verify", 1, true, cmd_verify},	  {"inspect", 1, false, cmd_inspect},
    {"apply", 1, true, cmd_apply},	  {"status", 0, false, cmd_status},
    {"rollback", 0, false, cmd_rollback}, {"mark-good", -1, false, cmd_mark_good},
    {"watch", 0, false, cmd_watch},
};

static int usage(const char *msg)
{
	fprintf(stderr, "update: %s (update --help for usage)\n", msg);
	return 2;
}

static int dispatch(const struct upd_args *a)
{
	struct err e = {0};
	char msg[128];

	for (size_t i = 0; i < ARRAY_LEN(cmds); i++) {
		const struct cmd *c = &cmds[i];

		if (strcmp(c->name, a->command) != 0)
			continue;
		if (c->nargs >= 0 && a->noperands != c->nargs) {
			snprintf(msg, sizeof(msg), "%s takes %d argument%s", c->name, c->nargs,
				 c->nargs == 1 ? "" : "s");
			return usage(msg);
		}
		if (!c->trust && (a->keys || a->now)) {
			snprintf(msg, sizeof(msg), "%s takes no --keys or --now", c->name);
			return usage(msg);
		}
		if ((a->deadline && strcmp(c->name, "watch")) ||
		    ((a->allow_downgrade || a->reboot || a->sha256 || a->reboot_at ||
		      a->if_newer) &&
		     strcmp(c->name, "apply"))) {
			snprintf(msg, sizeof(msg), "%s takes no %s", c->name,
				 a->deadline ? "--deadline" : "option of apply's");
			return usage(msg);
		}
		if (c->run(a, &e) < 0) {
			fprintf(stderr, "update: %s\n", e.msg);
			return 1;
		}
		return 0;
	}
	snprintf(msg, sizeof(msg), "unknown command %.64s", a->command);
	return usage(msg);
}

/* apply's URL from UPD_URL_ENV, after the line's operands: how wispctl and
 * provision's unit pass it, out of the argv every user can read. With a BUNDLE
 * on the line too, apply's usage error: which one is meant is not ours to guess. */
static void env_operand(struct upd_args *a)
{
	const char *url = getenv(UPD_URL_ENV);

	if (url && *url && !strcmp(a->command, "apply") &&
	    a->noperands < (int)ARRAY_LEN(a->operand))
		a->operand[a->noperands++] = url;
}

/*
 * No sodium_init(): it picks the fastest of libsodium's implementations for the CPU
 * and seeds its random generator, and linking it brings every picker and every
 * implementation into this program (45 KiB, half again its size). The updater uses
 * none of what it sets up: Ed25519 verification, SHA-256 and SHA-512 have one
 * implementation; BLAKE2b's starts as the portable one (blake2b-ref.c), the only one
 * rootfs.mk builds; nothing here needs random numbers.
 */
int main(int argc, char **argv)
{
	static struct upd_args a;

	switch (upd_args(argc, argv, &a)) {
	case UPD_HELP:
		fputs(upd_usage_text, stdout);
		return 0;
	case UPD_VERSION_ACT:
		printf("update (Wisp) %s\n", WISP_VERSION);
		return 0;
	case UPD_USAGE:
		return usage(a.msg);
	case UPD_RUN:
		break;
	}
	env_operand(&a);
	return dispatch(&a);
}
