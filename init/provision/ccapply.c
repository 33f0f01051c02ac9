/*
 * ccapply.c: apply a parsed #cloud-config: host name, users and groups
 * (rendered into the /etc overlay, so again at every boot), homes with
 * authorized keys, and write_files.
 *
 * /etc is rebuilt from ROOT at every boot (etc.c), so what cloud-init does
 * once per instance to /etc (users, groups) Wisp does at every boot from
 * the same user-data; the result is the same host. Files outside /etc
 * and /run, and homes, persist in /var and are written once per instance.
 * Since they keep their owners' numbers, a user or group is given again
 * the id it had at earlier boots, and no name the id of another
 * (env->ids, idmap.c), as a distribution's persistent /etc/passwd would.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_UID 1000u
#define FIRST_SYS 100u
#define MAX_ETC	  (256 * 1024)

struct etcfile {
	char path[256];
	char *text; /* whole file, malloc'd; grows as lines are added */
	size_t len;
};

static int etc_read(struct etcfile *f, const char *etc, const char *name)
{
	struct err e;

	if (fmt_path(f->path, sizeof(f->path), "%s/%s", etc, name) < 0)
		return -1;
	f->text = malloc(MAX_ETC);
	if (!f->text)
		return -1;
	int n = read_text(f->path, f->text, MAX_ETC, &e);
	f->len = n < 0 ? 0 : (size_t)n;
	f->text[f->len] = '\0';
	return 0;
}

static int etc_write(struct etcfile *f, mode_t mode, struct err *e)
{
	char tmp[300];
	int r;

	if (fmt_path(tmp, sizeof(tmp), "%s.cloud-new", f->path) < 0)
		return err_set(e, ENAMETOOLONG, "%s", f->path);
	r = write_file(tmp, f->text, f->len, mode, e);
	/* exactly mode (shadow's 0600), whatever the umask or a left-over temporary had */
	if (r == 0 && chmod(tmp, mode) < 0)
		r = err_set(e, errno, "chmod %s", tmp);
	if (r == 0 && rename(tmp, f->path) < 0)
		r = err_set(e, errno, "rename %s", tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The line of f starting "name:", or NULL. */
static char *etc_find(struct etcfile *f, const char *name)
{
	size_t n = strlen(name);
	for (char *p = f->text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':')
			return p;
	return NULL;
}

/* The line of f whose id (field 3) is id, or NULL. */
static char *etc_id_line(struct etcfile *f, unsigned id)
{
	for (char *p = f->text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *c = strchr(p, ':');
		if (c && (c = strchr(c + 1, ':')) && strtoul(c + 1, NULL, 10) == id)
			return p;
	}
	return NULL;
}

static void etc_add(struct etcfile *f, const char *line)
{
	size_t n = strlen(line);
	if (f->len + n + 2 >= MAX_ETC)
		return;
	if (f->len && f->text[f->len - 1] != '\n')
		f->text[f->len++] = '\n';
	memcpy(f->text + f->len, line, n);
	f->len += n;
	f->text[f->len++] = '\n';
	f->text[f->len] = '\0';
}

/* Field 2 (the id) of a passwd or group line; 0 if the line is cut short. */
static unsigned field_id(const char *line)
{
	const char *c = strchr(line, ':');
	c = c ? strchr(c + 1, ':') : NULL;
	return c ? (unsigned)strtoul(c + 1, NULL, 10) : 0;
}

struct etcset {
	struct etcfile pw, gr, sh;
	const struct cc_env *env; /* env->ids: the ids given at earlier boots */
};

/* The first id from `from` that f does not have and that was never given to another name
 * than name (idmap.c: a removed user's files keep their id, so nobody else may get it). */
static unsigned free_id(struct etcset *s, enum id_kind k, const char *name, unsigned from)
{
	struct etcfile *f = k == ID_USER ? &s->pw : &s->gr;

	while (etc_id_line(f, from) || idmap_owner(s->env->ids, k, from, name))
		from++;
	return from;
}

/* The group (or user, k) of f that holds id now, named in a warning: "%.*s". */
static int holder(struct etcfile *f, unsigned id, const char **name)
{
	*name = etc_id_line(f, id);
	return *name ? (int)strcspn(*name, ":") : 0;
}

/*
 * A new name's id: the one it was given before, else want (if free), else the first
 * free from from. -1 (warned) when the one it was given is held in /etc by another name
 * (an image that added a user or group): giving it another would leave its files to
 * that one without a word; user-data's `uid:` can move it.
 */
static long new_id(struct etcset *s, enum id_kind k, const char *name, long want, unsigned from)
{
	struct etcfile *f = k == ID_USER ? &s->pw : &s->gr;
	long old = idmap_get(s->env->ids, k, name);
	const char *who;
	int n;

	if (old < 0 && want >= 0 && !etc_id_line(f, (unsigned)want) &&
	    !idmap_owner(s->env->ids, k, (unsigned)want, name))
		return want;
	if (old < 0)
		return free_id(s, k, name, from);
	if (!(n = holder(f, (unsigned)old, &who)))
		return old;
	s->env->warn->warn(
	    s->env->warn->ctx,
	    "cloud-config: %s %s: %s %ld (given at an earlier boot, %s) is %.*s's in "
	    "the image's %s now; %s not added%s",
	    k == ID_USER ? "user" : "group", name, k == ID_USER ? "uid" : "gid", old,
	    s->env->ids->path, n, who, f->path, name,
	    k == ID_USER ? " (a uid: in user-data gives it another)" : "");
	return -1;
}

/* Add member to the line of group name, creating the group (its id: new_id(want)). Returns
 * its gid, or -1 (warned: the gid it was given is another group's now). */
static long group_add(struct etcset *s, const char *name, const char *member, long want)
{
	struct etcfile *g = &s->gr;
	char *line = etc_find(g, name), buf[512];
	long id;

	if (!line) {
		unsigned from = want >= 0 ? (unsigned)want : FIRST_UID;

		if ((id = new_id(s, ID_GROUP, name, want, from)) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "%s:x:%ld:%s", name, id, member ? member : "");
		etc_add(g, buf);
		idmap_note(s->env->ids, ID_GROUP, name, (unsigned)id);
		return id;
	}
	id = field_id(line);
	if (member) { /* insert ",member" (or "member") at the end of the line */
		size_t at = (size_t)(strchrnul(line, '\n') - g->text);
		bool first = g->text[at - 1] == ':';
		size_t add = strlen(member) + (first ? 0 : 1);
		if (g->len + add + 1 >= MAX_ETC)
			return id;
		memmove(g->text + at + add, g->text + at, g->len - at + 1);
		if (!first)
			g->text[at++] = ',';
		memcpy(g->text + at, member, strlen(member));
		g->len += add;
	}
	return id;
}

static void warnf(const struct cc_env *env, const char *what, const struct err *e)
{
	env->warn->warn(env->warn->ctx, "cloud-config: %s: %s", what, e->msg);
}

/* ROOT's /home is read-only: homes live in /var/home, bound on /home. */
static void homes_writable(const struct cc_env *env)
{
	/* access(W_OK) fails on a read-only filesystem: bound once, writable after */
	if (*env->root || access("/home", W_OK) == 0)
		return;
	mkdir("/var/home", 0755);
	if (mount("/var/home", "/home", NULL, MS_BIND, NULL) < 0) {
		struct err e;
		err_set(&e, errno, "bind /var/home on /home");
		warnf(env, "users", &e);
	}
}

/* fchown, but in a fake tree (--root) the build host's user owns everything: no chown. */
static int chown_fd(int fd, uid_t uid, gid_t gid, const struct cc_env *env)
{
	return env->fake_root ? 0 : fchown(fd, uid, gid);
}

/* fd (a directory a user's files live in) belongs to uid or to root? e says whose it is. */
static bool owned(int fd, uid_t uid, const char *what, const struct cc_env *env, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, errno, "%s", what), false;
	if (st.st_uid != uid && st.st_uid != 0 && !(env->fake_root && st.st_uid == geteuid()))
		return err_set(e, 0, "%s: owned by uid %u", what, (unsigned)st.st_uid), false;
	return true;
}

/* The user's ~/.ssh, made if missing: never a symlink, nor a foreign user's. */
static int ssh_dir(int home, uid_t uid, gid_t gid, const struct cc_env *env, struct err *e)
{
	int fd = openat(home, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && mkdirat(home, ".ssh", 0700) == 0)
		fd = openat(home, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return err_set(e, 0, ".ssh: a symlink or not a directory");
	if (fd < 0)
		return err_set(e, errno, ".ssh");
	if (owned(fd, uid, ".ssh", env, e)) {
		if (chown_fd(fd, uid, gid, env) == 0 && fchmod(fd, 0700) == 0)
			return fd;
		err_set(e, errno, ".ssh");
	}
	close(fd);
	return -1;
}

/*
 * authorized_keys, every boot, as root, in a directory its user owns: a
 * new file renamed over the old one, so a hard link planted there is
 * replaced, not written through. Returns the number of keys written.
 */
static unsigned write_keys(const char *name, const char *home, uid_t uid, gid_t gid, char **a,
			   char **b, const struct cc_env *env)
{
	static const char tmp[] = ".authorized_keys.new";
	char path[4096];
	struct err e;
	int hfd = -1, dfd = -1, fd = -1;
	unsigned n = 0;

	if (!strv_len(a) && !strv_len(b))
		return 0;
	snprintf(path, sizeof(path), "%s%s", env->root, home);
	if ((hfd = dir_walk(path, true, &e)) < 0 || !owned(hfd, uid, path, env, &e) ||
	    (dfd = ssh_dir(hfd, uid, gid, env, &e)) < 0)
		goto out;
	unlinkat(dfd, tmp, 0); /* a previous boot's, or a plant */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || chown_fd(fd, uid, gid, env) < 0 || fchmod(fd, 0600) < 0) {
		err_set(&e, errno, ".ssh/authorized_keys");
		goto out;
	}
	for (char **v = a; v && *v; v++)
		dprintf(fd, "%s\n", *v);
	for (char **v = b; v && *v; v++)
		dprintf(fd, "%s\n", *v);
	if (renameat(dfd, tmp, dfd, "authorized_keys") < 0)
		err_set(&e, errno, ".ssh/authorized_keys");
	else
		n = (unsigned)(strv_len(a) + strv_len(b));
out:
	if (!n) {
		env->warn->warn(env->warn->ctx, "cloud-config: user %s: keys not written: %s", name,
				e.msg);
		if (dfd >= 0)
			unlinkat(dfd, tmp, 0);
	}
	close(fd), close(dfd), close(hfd); /* -1 for those never opened: EBADF, harmless */
	return n;
}

/* The user's shell if ROOT has it, else /bin/sh: a login shell that does not exist
 * (/bin/bash: Wisp has busybox's sh and ash) would leave the user unable to log in,
 * and nothing would say why. Checked under env->root, as every other path. */
static const char *login_shell(const struct cc_user *u, const struct cc_env *env)
{
	char path[4096];
	struct stat st;

	if (!u->shell || !*u->shell || !strcmp(u->shell, "/bin/sh"))
		return "/bin/sh"; /* cloud-init gives useradd no empty shell either */
	if (u->shell[0] == '/' && fmt_path(path, sizeof(path), "%s%s", env->root, u->shell) == 0 &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return u->shell;
	env->warn->warn(env->warn->ctx,
			"%s: user %s: shell %s is not in the image; /bin/sh instead",
			env->src ? env->src : "cloud-config", u->name, u->shell);
	return "/bin/sh";
}

/*
 * A new user's uid. user-data's `uid:` wins (a name it moves keeps its old id
 * reserved), but never over another name's: an id held in /etc, or given to another
 * name at an earlier boot, is refused, as useradd refuses a uid that is not unique
 * (on a distribution that other user would still be in /etc/passwd). -1: refused.
 */
static long new_uid(struct etcset *s, const struct cc_user *u)
{
	const struct cc_env *env = s->env;
	long old = idmap_get(env->ids, ID_USER, u->name);
	const char *who;
	int n;

	if (!u->has_uid)
		return new_id(s, ID_USER, u->name, -1, u->system ? FIRST_SYS : FIRST_UID);
	if ((n = holder(&s->pw, u->uid, &who)) ||
	    (who = idmap_owner(env->ids, ID_USER, u->uid, u->name))) {
		env->warn->warn(env->warn->ctx,
				"cloud-config: user %s: uid %u is %.*s's (%s); %s not added",
				u->name, (unsigned)u->uid, n ? n : (int)strlen(who), who,
				n ? s->pw.path : env->ids->path, u->name);
		return -1;
	}
	if (old >= 0 && old != (long)u->uid)
		env->warn->warn(
		    env->warn->ctx,
		    "cloud-config: user %s: uid %u (user-data), not %ld as at earlier boots: "
		    "files of uid %ld are not given to it",
		    u->name, (unsigned)u->uid, old, old);
	return (long)u->uid;
}

/* The passwd and shadow lines of u, a user /etc does not have yet. 0, or -1: refused
 * (new_uid, or the gid of its group). */
static int add_entry(struct etcset *s, const struct cc_user *u, const char *home, unsigned *uid,
		     unsigned *gid)
{
	char line[1024];
	long id, gr;

	if ((id = new_uid(s, u)) < 0)
		return -1;
	/* its own group takes the uid as gid when that is free, as useradd gives it */
	gr = u->primary_group ? group_add(s, u->primary_group, NULL, -1)
			      : group_add(s, u->name, NULL, id);
	if (gr < 0)
		return -1;
	*uid = (unsigned)id, *gid = (unsigned)gr;
	idmap_note(s->env->ids, ID_USER, u->name, *uid);
	snprintf(line, sizeof(line), "%s:x:%u:%u:%s:%s:%s", u->name, *uid, *gid,
		 u->gecos ? u->gecos : "", home, login_shell(u, s->env));
	etc_add(&s->pw, line);
	const char *pw = u->passwd ? u->passwd : "";
	snprintf(line, sizeof(line), "%s:%s%s:19000:0:99999:7:::", u->name,
		 u->lock_passwd || !*pw ? "!" : "", pw);
	etc_add(&s->sh, line);
	return 0;
}

static unsigned add_user(struct etcset *s, const struct cc_user *u, char **extra_keys,
			 const struct cc_env *env)
{
	char home[512];
	unsigned uid, gid;
	char *existing = etc_find(&s->pw, u->name);

	snprintf(home, sizeof(home), "%s", u->homedir ? u->homedir : "");
	if (!*home)
		snprintf(home, sizeof(home), "/home/%s", u->name);
	if (existing) { /* cloud-init leaves an existing user's entry alone */
		uid_t eu = 0;
		gid_t eg = 0;
		bool hg = false;
		user_lookup(env->etc, u->name, &eu, &eg, &hg);
		uid = eu, gid = eg;
	} else if (add_entry(s, u, home, &uid, &gid) < 0)
		return 0; /* no entry: no groups, no home, no keys */
	for (char **g = u->groups; g && *g; g++)
		group_add(s, *g, u->name, -1);
	if (!u->no_create_home && !u->system)
		homes_writable(env); /* before any home is touched, at every boot */
	if (!u->no_create_home && !u->system && env->per_instance) {
		char path[4096];
		struct err e;
		int fd;
		snprintf(path, sizeof(path), "%s%s", env->root, home);
		/* through the fd: not a user's symlink; not another user's home */
		if ((fd = dir_walk(path, true, &e)) >= 0 && owned(fd, uid, path, env, &e))
			(void)!chown_fd(fd, uid, gid, env);
		else if (fd >= 0)
			env->warn->warn(env->warn->ctx, "cloud-config: user %s: %s", u->name,
					e.msg);
		close(fd);
	}
	return write_keys(u->name, home, uid, gid, u->keys, extra_keys, env);
}

unsigned cc_apply_users(const struct cloudcfg *c, const struct cc_env *env)
{
	struct etcset s = {.env = env};
	unsigned keys = 0;
	struct err e;

	if (!c->nusers && !c->ngroups)
		return 0;
	if (etc_read(&s.pw, env->etc, "passwd") < 0 || etc_read(&s.gr, env->etc, "group") < 0 ||
	    etc_read(&s.sh, env->etc, "shadow") < 0)
		goto out;
	for (size_t i = 0; i < c->ngroups; i++)
		if (group_add(&s, c->groups[i].name, NULL, -1) >= 0)
			for (char **m = c->groups[i].members; m && *m; m++)
				group_add(&s, c->groups[i].name, *m, -1);
	/* top-level ssh_authorized_keys go to the first user: Wisp has no default user */
	for (size_t i = 0; i < c->nusers; i++)
		keys += add_user(&s, &c->users[i], i == 0 ? c->ssh_keys : NULL, env);
	if (etc_write(&s.gr, 0644, &e) < 0 || etc_write(&s.pw, 0644, &e) < 0 ||
	    etc_write(&s.sh, 0600, &e) < 0)
		warnf(env, "users", &e);
out:
	free(s.pw.text), free(s.gr.text), free(s.sh.text);
	return keys;
}

static bool volatile_path(const char *p)
{
	return !strncmp(p, "/etc/", 5) || !strncmp(p, "/run/", 5);
}

static void owner_ids(const char *owner, const struct cc_env *env, uid_t *uid, gid_t *gid)
{
	char u[128], *g;
	bool hg = false;

	*uid = 0, *gid = 0;
	if (!owner)
		return;
	snprintf(u, sizeof(u), "%s", owner);
	if ((g = strchr(u, ':')))
		*g++ = '\0';
	if (user_lookup(env->etc, u, uid, gid, &hg) < 0)
		env->warn->warn(env->warn->ctx, "cloud-config: write_files: owner %s: no such user",
				owner);
	if (g && group_lookup(env->etc, g, gid) < 0)
		env->warn->warn(env->warn->ctx,
				"cloud-config: write_files: owner %s: no such group", owner);
}

/*
 * f's file, opened through an fd of its directory (dir_walk: no user's
 * symlink on the way) and emptied unless appended to. Nothing but a
 * regular file, and no hard link in a directory a user owns: there a
 * user could have linked a file of root's.
 */
static int open_file(const struct cc_file *f, const struct cc_env *env, struct err *e)
{
	char path[4096], *base;
	struct stat dir, st;
	int dfd, fd = -1;

	snprintf(path, sizeof(path), "%s%s", env->root, f->path);
	base = strrchr(path, '/');
	*base++ = '\0';
	if ((dfd = dir_walk(*path ? path : "/", true, e)) < 0)
		return -1;
	fd = openat(dfd, base,
		    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
			(f->append ? O_APPEND : 0),
		    f->mode);
	if (fd < 0 || fstat(fd, &st) < 0 || fstat(dfd, &dir) < 0)
		err_set(e, errno, "create %s", f->path);
	else if (!S_ISREG(st.st_mode) || (st.st_nlink > 1 && dir.st_uid != 0))
		err_set(e, 0, "%s: not a regular file, or a hard link in a directory of uid %u",
			f->path, (unsigned)dir.st_uid);
	else if (!f->append && ftruncate(fd, 0) < 0)
		err_set(e, errno, "truncate %s", f->path);
	else {
		close(dfd);
		return fd;
	}
	close(fd), close(dfd);
	return -1;
}

static void write_one(const struct cc_file *f, const struct cc_env *env)
{
	struct err e;
	uid_t uid;
	gid_t gid;
	int fd;

	const unsigned char *data = f->content;
	unsigned char *raw = NULL;
	size_t len = f->len;

	/* gzip: undone here rather than when parsing, so only files written pay for it */
	if (f->gzip && (!env->gunzip || env->gunzip(f->content, f->len, &raw, &len) < 0)) {
		env->warn->warn(env->warn->ctx,
				"cloud-config: write_files: %s: not valid gzip; not written",
				f->path);
		return;
	}
	data = raw ? raw : data;
	fd = open_file(f, env, &e);
	if (fd < 0) {
		warnf(env, "write_files", &e);
		free(raw);
		return;
	}
	owner_ids(f->owner, env, &uid, &gid);
	/* Owner and permission bits before the content: a file that existed keeps no wider
	 * mode while the new bytes go in; the set-id bits last, as a chown clears them. */
	if (chown_fd(fd, uid, gid, env) < 0 || fchmod(fd, f->mode & 0777) < 0 ||
	    write_all(fd, data, len) < 0 || fchmod(fd, f->mode) < 0) {
		err_set(&e, errno, "write %s", f->path);
		warnf(env, "write_files", &e);
	}
	close(fd);
	free(raw);
}

void cc_apply_files(const struct cloudcfg *c, bool deferred, const struct cc_env *env)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].defer == deferred &&
		    (env->per_instance || volatile_path(c->files[i].path)))
			write_one(&c->files[i], env);
}

void cc_apply_hostname(const struct cloudcfg *c, const char *meta_hostname,
		       const struct cc_env *env)
{
	char name[80] = "", hosts[512], line[200], path[300];
	const char *src = c && c->hostname ? c->hostname : c && c->fqdn ? c->fqdn : meta_hostname;
	struct err e;
	int n;

	if ((c && c->preserve_hostname == 1) || !src || !*src)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(src, "."), src);
	if (hostname_parse(name, line, sizeof(line)) < 0) {
		env->warn->warn(env->warn->ctx,
				"cloud-config: hostname \"%s\": not a valid host name", src);
		return;
	}
	snprintf(path, sizeof(path), "%s/hostname", env->etc);
	snprintf(line, sizeof(line), "%s\n", name);
	if (write_file(path, line, strlen(line), 0644, &e) < 0)
		warnf(env, "hostname", &e);
	/* /etc/hosts names the fqdn first, as cloud-init's manage_etc_hosts does */
	const char *fq = c && c->fqdn ? c->fqdn : strchr(src, '.') ? src : NULL;
	snprintf(line, sizeof(line), fq ? "%s %s" : "%s", fq ? fq : name, name);
	n = etc_hosts_render(line, hosts, sizeof(hosts));
	snprintf(path, sizeof(path), "%s/hosts", env->etc);
	if (n >= 0)
		(void)write_file(path, hosts, (size_t)n, 0644, &e);
	if (!*env->root)
		hostname_setup("/etc/hostname");
}
