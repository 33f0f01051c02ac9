/*
 * ccfinal.c: the #cloud-config keys that act on the running host rather
 * than on files: mounts (before any unit starts), timezone, ntp (a
 * unit), and the script of the
 * cloud-final unit (per-once, per-boot, per-instance scripts, runcmd,
 * final_message, power_state).
 *
 * The work is done by busybox applets and the shell script CF_SH
 * (rootfs/skel/usr/share/wisp/cloud-final): in short bounded children
 * while provision runs (mount), or as the units cloud-final and ntpd,
 * declared in /run/wisp/units. gzip is unpacked by the parser child
 * (parse/gunzip.c, zlib). Under --root (prov.dry) nothing runs: each
 * command is recorded in the report.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define CF_SH	   "/usr/share/wisp/cloud-final"
#define MOUNT_MS   15000u /* CF_SH waits 10 s for the device, then mounts */
#define SCRIPTS_AT CLOUD_DIR "/scripts"

/* ntp: asked for by some part (a later one wins); the unit is declared at the end. */
static bool ntp_on;
/* timezone: the last part's; 00-environment.yaml hands it to every unit as TZ. */
static char unit_tz_text[64];

/*
 * The mountpoint, made and opened by dir_walk(): mounts: at every boot, and
 * a user who owns a directory on the way (a home: /home/alice/data) could
 * make it a symlink to /etc/wisp while the device is away for one boot, and
 * have the next boot mount her file system there. One under ROOT's empty,
 * read-only /mnt gets a tmpfs on /mnt first.
 */
static int mountpoint(const char *dir, struct err *e)
{
	int fd = dir_walk(dir, true, e);

	if (fd < 0 && e->num == EROFS && strncmp(dir, "/mnt/", 5) == 0) {
		if (mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") < 0)
			return err_set(e, errno, "mount a tmpfs on /mnt");
		fd = dir_walk(dir, true, e);
	}
	return fd;
}

/* CF_SH mounts on /proc/self/fd/N, the directory opened here (inherited): the
 * kernel follows that link to it, nothing of the path is looked up again. */
static void mount_one(const struct cc_mount *m, struct ud_sink *w)
{
	char at[32], what[600];
	char *argv[] = {"/bin/sh", CF_SH, "mount", m->dev, m->dir, m->type, m->opts, NULL};
	struct err e;
	int fd;

	snprintf(what, sizeof(what), "mounts: %s on %s", m->dev, m->dir);
	if (prov.dry) {
		cc_run(what, argv, NULL, MOUNT_MS, w); /* recorded */
		return;
	}
	if ((fd = mountpoint(m->dir, &e)) < 0 || fcntl(fd, F_SETFD, 0) < 0) {
		w->warn(w->ctx, "%s: not mounted: %s", what, fd < 0 ? e.msg : strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(at, sizeof(at), "/proc/self/fd/%d", fd);
	argv[4] = at;
	if (cc_run(what, argv, NULL, MOUNT_MS, w) != 0)
		w->warn(w->ctx, "%s: not mounted", what);
	else
		log_msg(LOG_INFO, "cloud-init: %s (%s, %s)", what, m->type, m->opts);
	close(fd);
}

/* A POSIX rule as it is; a zone name (the parser checked it) by the image's table. */
static void set_tz(const char *tz, const char *src, struct ud_sink *w)
{
	char line[200], rule[64]; /* cc_posix_tz() takes less than 60 */
	struct err e;

	if (!cc_posix_tz(tz)) {
		if (tz_rule(ROOTED(TZ_RULES), tz, rule, sizeof(rule)) < 0) {
			w->warn(w->ctx,
				"%s: timezone: %s: not a time zone of " TZ_RULES
				"; the time zone stays UTC",
				src, tz);
			return;
		}
		tz = rule;
	}

	snprintf(line, sizeof(line), "%s\n", tz);
	if (write_file(ROOTED("/etc/TZ"), line, strlen(line), 0644, &e) < 0)
		w->warn(w->ctx, "timezone: write /etc/TZ: %s", strerror(e.num));
	snprintf(unit_tz_text, sizeof(unit_tz_text), "%s", tz); /* cc_environment_add() */
}

/* NAME='value' to CF_ENV: the script sources it. */
static void put_var(FILE *f, const char *name, char *val)
{
	char *argv[] = {val, NULL}, *q = cc_shell_line(argv);

	fprintf(f, "%s=%s\n", name, q ? q : "''");
	free(q);
}

void cc_apply_late(const struct cloudcfg *c, const char *src, struct ud_sink *w)
{
	FILE *f;

	for (size_t i = 0; i < c->nmounts; i++)
		mount_one(&c->mounts[i], w);
	if (c->timezone)
		set_tz(c->timezone, src, w);
	if (!(f = fopen(ROOTED(CF_ENV), "ae")))
		return;
	if (c->final_message)
		put_var(f, "FINAL_MESSAGE", c->final_message);
	if (c->power_mode) {
		put_var(f, "POWER_MODE", c->power_mode);
		put_var(f, "POWER_MESSAGE", c->power_message ? c->power_message : "");
		put_var(f, "POWER_COND", c->power_cond ? c->power_cond : "true");
		fprintf(f, "POWER_DELAY=%u\n", c->power_delay_s);
	}
	if (c->ntp >= 0)
		ntp_on = c->ntp;
	if (c->ntp_servers) { /* host names only (cloudcfg.c): no quoting needed */
		fputs("NTP_SERVERS='", f);
		for (char **v = c->ntp_servers; *v; v++)
			fprintf(f, " %s", *v);
		fputs("'\n", f);
	}
	fclose(f);
}

int cc_unit_add(int nn, const char *name, const char *const *argv, enum unit_kind kind,
		char *const *after, const char *about)
{
	const struct wunit u = {.name = name,
				.kind = kind,
				.argv = (char *const *)argv,
				.restart = kind == KIND_SERVICE ? RESTART_ALWAYS : RESTART_NO,
				.after = after,
				.about = about};

	return declw_unit(nn, &u);
}

void cc_ntp_add(void)
{
	static const char *const argv[] = {"/bin/sh", CF_SH, "ntpd", NULL};

	if (ntp_on)
		cc_unit_add(30, "ntpd", argv, KIND_SERVICE, NULL, "NTP: cloud-config's ntp");
}

/* The time zone is the host's, not one unit's: a top-level environment: applies to
 * every unit PID 1 loads (a unit's own TZ wins). cc_posix_tz() checked the value (a
 * zone's rule from the table too). */
void cc_environment_add(void)
{
	char text[256];

	if (!*unit_tz_text)
		return;
	snprintf(text, sizeof(text),
		 "# cloud-config's timezone, for every unit (written by provision: "
		 "docs/provisioning.md)\nenvironment: [\"TZ=%s\"]\n",
		 unit_tz_text);
	declw_text(0, "environment", text);
}

/* The script's (CF_SH) own variables; the rest came from cc_apply_late(). */
void cc_final_script(const char *idir, bool per_instance, const char *ds, const char *net_wait,
		     struct ud_sink *w)
{
	FILE *f = fopen(ROOTED(CF_ENV), "ae");

	if (!f) {
		w->warn(w->ctx, "open " CF_ENV ": %s", strerror(errno));
		return;
	}
	put_var(f, "IDIR", (char *)idir);
	put_var(f, "DATASOURCE", (char *)ds);
	put_var(f, "NET_WAIT", (char *)net_wait);
	fprintf(f, "PER_INSTANCE=%d\nVERSION=" WISP_VERSION "\n", per_instance);
	fclose(f);
}

const char *cc_script_dir(enum ud_kind k)
{
	return k == UD_SCRIPT_BOOT	 ? SCRIPTS_AT "/per-boot"
	       : k == UD_SCRIPT_INSTANCE ? SCRIPTS_AT "/per-instance"
	       : k == UD_SCRIPT_ONCE	 ? SCRIPTS_AT "/per-once"
					 : NULL;
}
