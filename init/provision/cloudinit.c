/*
 * cloudinit.c: the provisioning step of the boot (docs/cloud-config.md).
 *
 * After /etc and /var are up and before the units load: find a
 * datasource (ds.c), keep per-instance state under /var/lib/cloud as
 * cloud-init does (instance -> instances/<id>, sem/ files), then apply
 * every #cloud-config part (ccapply.c) and run bootcmd. Per-instance
 * scripts (runcmd, #! parts) run as the oneshot unit cloud-final, declared
 * to start once the network units have (runcmd expects the network).
 * Every problem is one warning line; the boot goes on with whatever is
 * valid. Paths are the host's, under prov.root (root.c) for --root.
 */
#include "provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOOTCMD_TIMEOUT_MS 120000u

static struct {
	struct ds_found ds;
	char idir[256]; /* CLOUD_DIR/instances/<iid> */
	bool found, per_instance, have_var;
	bool have_iid;	/* the datasource's meta-data gave an instance id */
	bool user_done; /* its default user (Azure's admin) was given to a cloud-config part */
	int nparts, nscripts;
	char *runcmd; /* script text gathered from every cloud-config part */
	size_t runlen;
	unsigned nkeys;	      /* authorized keys written this boot: then an SSH server */
	struct cloudcfg host; /* hostname, fqdn, preserve_hostname of every part, merged */
	char *update[3];      /* wisp.update's url, sha256, reboot: the last part's (update.c) */
	struct idmap ids;     /* the users' and groups' ids of earlier boots (idmap.c) */
} ci;
/* Apart from ci: an initialiser would move ci (kilobytes of bss) into the file. */
static struct warner warner = {.who = "cloud-init"};

static void write_text(const char *path, const char *text, mode_t mode)
{
	struct err e;

	if (write_file(path, text, strlen(text), mode, &e) < 0)
		report_warn(&warner, "%s", e.msg);
}

/* An id names a directory under instances/: ".", ".." or a '/' would name another. */
static bool iid_valid(const char *id)
{
	size_t n = 0; /* printable up to here: a control character is not echoed */

	while ((unsigned char)id[n] >= 0x20 && id[n] != 0x7f)
		n++;
	if (!id[n] && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, ".."))
		return n > 0;
	report_warn(
	    &warner,
	    "instance-id \"%.*s\"%s: not a directory name (\".\", \"..\", a '/' or a control "
	    "character); using iid-datasource-none",
	    (int)n, id, id[n] ? "..." : "");
	return false;
}

/* instance -> instances/<iid>, data/instance-id, previous-instance-id; first boot? */
static void instance_state(void)
{
	char path[512], old[256] = "";
	struct err e;
	int r;

	if (!iid_valid(ci.ds.iid))
		snprintf(ci.ds.iid, sizeof(ci.ds.iid), "iid-datasource-none");
	snprintf(ci.idir, sizeof(ci.idir), CLOUD_DIR "/instances/%s", ci.ds.iid);
	r = cc_sem_take(ROOTED(ci.idir), "config_per_instance", &e);
	if (r < 0) {
		report_warn(&warner, "%s; per-instance work (runcmd, scripts, homes) skipped",
			    e.msg);
		return;
	}
	ci.have_var = true;
	ci.per_instance = r == 1;
	(void)mkdir_p(ROOTED(CLOUD_DIR "/data"), 0755, &e); /* failed: write_text() warns */
	read_text(ROOTED(CLOUD_DIR "/data/instance-id"), old, sizeof(old), &e);
	old[strcspn(old, "\n")] = '\0';
	if (*old && strcmp(old, ci.ds.iid) != 0) {
		snprintf(path, sizeof(path), "%s\n", old);
		write_text(ROOTED(CLOUD_DIR "/data/previous-instance-id"), path, 0644);
	}
	snprintf(path, sizeof(path), "%s\n", ci.ds.iid);
	write_text(ROOTED(CLOUD_DIR "/data/instance-id"), path, 0644);
	unlink(ROOTED(CLOUD_DIR "/instance"));
	snprintf(path, sizeof(path), "instances/%s", ci.ds.iid);
	if (symlink(path, ROOTED(CLOUD_DIR "/instance")) < 0)
		report_warn(&warner, "symlink " CLOUD_DIR "/instance: %s", strerror(errno));
}

/* bootcmd: every boot, one at a time, before any unit starts (bounded). */
static void run_now(char *const *argv)
{
	char iid[160], what[300];
	struct ud_sink w = {.ctx = &warner, .warn = report_warn};
	int st;

	snprintf(iid, sizeof(iid), "INSTANCE_ID=%s", ci.ds.iid);
	snprintf(what, sizeof(what), "bootcmd: %s", argv[strv_len(argv) - 1]);
	st = cc_run(what, argv, iid, BOOTCMD_TIMEOUT_MS, &w);
	if (st > 0)
		report_warn(&warner, "%s: failed (status %d)", what, st);
}

static void gather_runcmd(const struct cloudcfg *c)
{
	for (size_t i = 0; i < c->nruncmd; i++) {
		char *line = cc_shell_line(c->runcmd[i]);
		size_t n = line ? strlen(line) : 0;
		char *nv = line ? realloc(ci.runcmd, ci.runlen + n + 2) : NULL;
		if (nv) {
			ci.runcmd = nv;
			memcpy(ci.runcmd + ci.runlen, line, n);
			ci.runlen += n;
			ci.runcmd[ci.runlen++] = '\n';
			ci.runcmd[ci.runlen] = '\0';
		}
		free(line);
	}
}

/* user-data's wisp: key, already a declarations text: NN-user-data.yaml, NN its part. */
static void write_units(const char *text)
{
	declw_text(ci.nparts, "user-data", text);
}

/* cloud-init merges vendor-data and user-data (user-data's keys win) and sets the
 * host name once, after bootcmd and write_files: a later part's hostname or fqdn
 * replaces an earlier one's, and so does its preserve_hostname (true keeps the image's). */
static void host_note(const struct cloudcfg *c)
{
	char **to[] = {&ci.host.hostname, &ci.host.fqdn};
	char *from[] = {c->hostname, c->fqdn};

	for (size_t i = 0; i < ARRAY_LEN(to); i++)
		if (from[i]) {
			free(*to[i]);
			*to[i] = strdup(from[i]);
		}
	if (c->preserve_hostname >= 0)
		ci.host.preserve_hostname = c->preserve_hostname;
}

/* One cloud-config part of the plan (c is the plan's: the meta-data keys join it). */
static void apply_config(struct cloudcfg *c, const char *src)
{
	struct ud_sink w = {.ctx = &warner, .warn = report_warn};
	/* no gunzip: the parser child unpacked every gzip file (a gzip one left is refused) */
	struct cc_env env = {.etc = ROOTED("/etc"),
			     .root = prov.root,
			     .fake_root = prov.dry,
			     .per_instance = ci.per_instance,
			     .src = src,
			     .ids = &ci.ids,
			     .warn = &w};
	bool keys_here = ci.nparts == 1; /* meta-data's keys join the first part */

	if (*ci.ds.user && !ci.user_done) {	 /* the keys' receiver, as cloud-init's default */
		ci.user_done = keys_here = true; /* and its keys, should part 1 be a script */
		if (ds_user_first(c, ci.ds.user) < 0)
			report_warn(&warner, "default user %s: out of memory", ci.ds.user);
	}
	if (ci.ds.keys && !c->nusers && keys_here)
		report_warn(&warner, "meta-data public keys: no user in users: to receive them");
	for (size_t i = 0; ci.ds.keys && ci.ds.keys[i] && keys_here; i++)
		c->ssh_keys = strv_push(c->ssh_keys, ci.ds.keys[i]);
	host_note(c);
	cc_apply_files(c, false, &env);
	ci.nkeys += cc_apply_users(c, &env);
	cc_apply_files(c, true, &env);
	for (size_t i = 0; i < c->nbootcmd; i++)
		run_now(c->bootcmd[i]);
	cc_apply_late(c, src, &w); /* mounts (bounded), timezone; ntp, final, power recorded */
	gather_runcmd(c);
	if (c->wisp_units)
		write_units(c->wisp_units);
	for (char **v = c->fw_allow; v && *v; v++)
		fw_allow(*v); /* applied at provision's end with the rest (firewall.c) */
	if (c->bridge_subnet)
		bridge_subnet(c->bridge_subnet);
	if (c->update_url) { /* declared by cloudinit_final, once the network units are */
		const char *v[3] = {c->update_url, c->update_sha256, c->update_reboot};
		for (int i = 0; i < 3; i++)
			free(ci.update[i]), ci.update[i] = v[i] ? strdup(v[i]) : NULL;
	}
}

static void part_warnings(const struct plan_part *pp)
{
	for (char **v = pp->warn; v && *v; v++)
		report_warn(&warner, "%s", *v);
}

/* The datasource's default user when no cloud-config part took it (no user-data, or
 * a script): made alone, with the datasource's keys. */
static void default_user_alone(void)
{
	struct ud_sink w = {.ctx = &warner, .warn = report_warn};
	struct cc_env env = {.etc = ROOTED("/etc"),
			     .root = prov.root,
			     .fake_root = prov.dry,
			     .per_instance = ci.per_instance,
			     .src = "meta-data",
			     .ids = &ci.ids,
			     .warn = &w};
	struct cloudcfg c = {0};

	if (!*ci.ds.user || ci.user_done)
		return;
	for (size_t i = 0; ci.ds.keys && ci.ds.keys[i]; i++)
		c.ssh_keys = strv_push(c.ssh_keys, ci.ds.keys[i]);
	if (ds_user_first(&c, ci.ds.user) < 0)
		report_warn(&warner, "default user %s: out of memory", ci.ds.user);
	else
		ci.nkeys += cc_apply_users(&c, &env);
	cloudcfg_free(&c);
}

/* One part of the plan, numbered as the child numbered it: a script is kept, a
 * cloud-config part is applied (a copy of a MIME or gzip part is kept for its messages). */
static void on_part(struct plan_part *pp)
{
	char dir[512], path[540];
	struct err e;

	ci.nparts++;
	if (pp->kind == UD_CLOUD_CONFIG && pp->whole) {
		part_warnings(pp); /* the file itself: messages name its lines */
		apply_config(&pp->cc, pp->name);
		return;
	}
	if (pp->kind != UD_CLOUD_CONFIG)
		part_warnings(pp); /* none from this child today; shown if a plan has them */
	if (pp->kind == UD_CLOUD_CONFIG)
		snprintf(dir, sizeof(dir), "%s", ROOTED(CLOUD_RUN));
	else if (ci.per_instance && cc_script_dir(pp->kind)) /* MIME per-boot, -instance, -once */
		snprintf(dir, sizeof(dir), "%s", ROOTED(cc_script_dir(pp->kind)));
	else if (ci.per_instance)
		snprintf(dir, sizeof(dir), "%s/scripts", ROOTED(ci.idir));
	else
		return; /* a script of an instance that already ran them */
	snprintf(path, sizeof(path), "%s/part-%03d%s", dir, ci.nparts,
		 pp->kind == UD_CLOUD_CONFIG ? ".yaml" : "");
	(void)mkdir_p(dir, 0755, &e); /* failed: the write below warns */
	if (write_file(path, pp->data ? pp->data : "", pp->data ? pp->len : 0,
		       pp->kind != UD_CLOUD_CONFIG ? 0700 : 0600, &e) < 0) {
		report_warn(&warner, "%s: %s", pp->name, e.msg);
		return;
	}
	if (pp->kind == UD_CLOUD_CONFIG) {
		log_msg(LOG_INFO, "cloud-init: %s is %s", pp->name, path);
		part_warnings(pp);
		apply_config(&pp->cc, pp->name);
	} else
		ci.nscripts++;
}

/* Everything the child found, in its order: its warnings and notes, and the parts. */
static void apply_plan(struct parse_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct plan_item *it = &p->items[i];
		if (it->kind == PLAN_WARN)
			report_warn(&warner, "%s", it->text);
		else if (it->kind == PLAN_INFO)
			log_msg(LOG_INFO, "cloud-init: %s", it->text);
		else
			on_part(it->part);
	}
}

/* One file alone, when the datasource's child failed: a child that crashes, hangs or
 * writes a plan that does not read costs this file, nothing else. */
static void process(const struct parse_input *in)
{
	const char *file = strrchr(in->name, '/') + 1;
	struct parse_job job = {.in = in, .n = 1, .partdir = CLOUD_RUN, .nparts = ci.nparts};
	struct parse_plan plan;
	struct err e;

	if (sandbox_plan(parse_userdata, &job, &plan, &e) < 0) {
		report_warn(&warner, "%s %s; %s of %s not applied", file, e.msg, file, ci.ds.name);
		return;
	}
	apply_plan(&plan);
	plan_free(&plan);
}

/* Azure's ovf-env.xml may carry the admin's password (UserPassword, which Wisp does not
 * use): once read, its copy is not kept in /run (cloud-init keeps one with the password
 * redacted; Wisp reads the disc again at every boot). */
static void forget_ovf(const char *run)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", run, AZURE_OVF_FILE);
	if (unlink(path) < 0 && errno != ENOENT)
		report_warn(&warner, "%s: %s", path, strerror(errno));
}

/* ovf-env.xml's CustomData alone, when the datasource's child failed: after vendor-data,
 * as the one child orders them; a CustomData the parser cannot take costs itself. */
static void process_custom(const struct parse_input *meta, size_t nmeta)
{
	struct parse_job job = {
	    .meta = meta, .nmeta = nmeta, .partdir = CLOUD_RUN, .nparts = ci.nparts};
	struct parse_plan plan;
	struct err e;

	if (sandbox_plan(parse_customdata, &job, &plan, &e) < 0) {
		report_warn(&warner, "%s's CustomData: %s; not applied", AZURE_OVF_FILE, e.msg);
		return;
	}
	apply_plan(&plan);
	plan_free(&plan);
}

/* Not read beside CustomData, which is the user-data (cloud-init's DataSourceAzure). */
static bool customdata_replaces(const struct parse_input *in)
{
	const char *file = strrchr(in->name, '/') + 1;

	if (!ci.ds.customdata || strcmp(file, "user-data"))
		return false;
	log_msg(LOG_INFO, "cloud-init: %s: not read: %s's CustomData is the user-data", in->name,
		AZURE_OVF_FILE);
	return true;
}

/*
 * The datasource's meta-data, vendor-data and user-data are parsed by one
 * child (one fork on a seed boot, not three); its plan is applied once the
 * instance is known. If that child fails, each file gets a child of its
 * own, so that the failure costs the file that caused it, nothing else;
 * ovf-env.xml's CustomData gets one too, after its meta-data's.
 */
static void parse_and_apply(const char *run, struct ud_sink *w)
{
	static const char *const files[] = {"vendor-data", "user-data"};
	struct parse_input in[2], meta[DS_META_FILES];
	char path[2][512], mpath[DS_META_FILES][512];
	struct parse_job job = {.in = in, .partdir = CLOUD_RUN, .meta = meta};
	struct parse_plan plan;
	struct err e;
	bool together;

	/* a file that cannot be read (over its limit) is a warning; nothing of it is applied */
	job.n = ds_read_inputs(run, files, ARRAY_LEN(files), in, path, "", "; nothing applied", w);
	job.nmeta = ds_meta_inputs(run, meta, mpath, w);
	together = (job.n || job.nmeta) && sandbox_plan(parse_datasource, &job, &plan, &e) == 0;
	if (together)
		ds_meta_take(&plan.meta, &ci.ds);
	else if (job.n || job.nmeta) {
		log_msg(LOG_INFO, "cloud-init: the datasource's %s; its files one by one", e.msg);
		ds_meta_read(run, &ci.ds, w);
	}
	ci.have_iid = *ci.ds.iid != '\0';
	instance_state();
	log_msg(LOG_NOTICE, "cloud-init: datasource %s, instance-id %s%s", ci.ds.name, ci.ds.iid,
		ci.per_instance ? " (new instance)" : "");
	cloudinit_report("datasource: %s\ninstance-id: %s%s", ci.ds.name, ci.ds.iid,
			 ci.per_instance ? " (new instance)" : "");
	if (together) {
		apply_plan(&plan);
		plan_free(&plan);
	}
	for (size_t i = 0; !together && i < job.n; i++)
		if (!customdata_replaces(&in[i]))
			process(&in[i]);
	if (!together && ci.ds.customdata)
		process_custom(meta, job.nmeta);
	ds_inputs_free(in, job.n);
	ds_inputs_free(meta, job.nmeta);
	forget_ovf(run);
}

void cloudinit_setup(void)
{
	struct ud_sink w = {.ctx = &warner, .warn = report_warn};
	uint64_t t0 = now_ms();
	char line[4096] = "", run[4096];
	struct err e;
	int found, nw;

	if (!prov.dry && read_text("/proc/cmdline", line, sizeof(line), &e) < 0)
		line[0] = '\0';
	snprintf(run, sizeof(run), "%s", ROOTED(CLOUD_RUN));
	found = prov.seed ? ds_seed(prov.seed, run, &ci.ds, &w) : ds_find(line, run, &ci.ds, &w);
	if (!found) {
		log_msg(LOG_INFO, "cloud-init: no datasource (%llu ms)",
			(unsigned long long)(now_ms() - t0));
		cloudinit_report("datasource: none");
		return;
	}
	ci.found = true;
	/* users and groups keep their ids: their files on STATE have them */
	idmap_load(&ci.ids, ROOTED(ID_MAP), &w);
	parse_and_apply(run, &w);
	default_user_alone();
	idmap_save(&ci.ids, &w);
	idmap_free(&ci.ids);
	{ /* meta-data's local-hostname when no part names one */
		struct cc_env env = {
		    .etc = ROOTED("/etc"), .root = prov.root, .fake_root = prov.dry, .warn = &w};
		cc_apply_hostname(&ci.host, ci.ds.hostname, &env);
		free(ci.host.hostname), free(ci.host.fqdn);
	}
	if (ci.per_instance && ci.runcmd) {
		char path[300], *text = malloc(ci.runlen + 16);
		struct err e;

		snprintf(path, sizeof(path), "%s/scripts", ROOTED(ci.idir));
		(void)mkdir_p(path, 0755, &e); /* failed: write_text() warns */
		snprintf(path, sizeof(path), "%s/scripts/runcmd", ROOTED(ci.idir));
		if (text) {
			snprintf(text, ci.runlen + 16, "#!/bin/sh\n%s", ci.runcmd);
			write_text(path, text, 0700);
			ci.nscripts++;
		}
		free(text);
	}
	nw = warner.count + declw_warnings(); /* user-data's wisp: declarations too */
	log_msg(LOG_NOTICE, "cloud-init: applied %d part%s, %d warning%s (%llu ms)", ci.nparts,
		ci.nparts == 1 ? "" : "s", nw, nw == 1 ? "" : "s",
		(unsigned long long)(now_ms() - t0));
	cloudinit_report("applied: %d part%s, %d warning%s", ci.nparts, ci.nparts == 1 ? "" : "s",
			 nw, nw == 1 ? "" : "s");
}

/*
 * cloud-final, a oneshot declared at every boot with a datasource: it waits
 * for the network units to have started, for nothing else (a unit that never
 * comes up must not hold runcmd back); then its script waits for a DHCP lease
 * on one of NET_WAIT's interfaces, at most 120 s (cloud-init's final stage
 * comes after network-online: runcmd expects the network). The script is
 * ccfinal.c's.
 */
void cloudinit_final(void)
{
	static const char *const argv[] = {"/bin/sh", "/usr/share/wisp/cloud-final", NULL};
	struct ud_sink w = {.ctx = &warner, .warn = report_warn};

	free(ci.runcmd), ci.runcmd = NULL;
	if (ci.nkeys)
		sshd_add();
	cc_ntp_add();
	cc_environment_add();
	if (ci.update[0])
		update_unit(ci.update[0], ci.update[1], ci.update[2]);
	if (!ci.found)
		return;
	cc_final_script(ci.idir, ci.per_instance && ci.have_var, ci.ds.name, net_dhcp_ifs(), &w);
	cc_unit_add(90, "cloud-final", argv, KIND_ONESHOT, net_units(),
		    "cloud-final: runcmd, scripts, final_message, power_state");
	azure_ready(&ci.ds, ci.have_iid, &w); /* last: everything of the datasource applied */
}
