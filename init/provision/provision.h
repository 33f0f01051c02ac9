/*
 * provision/provision.h: the one header of /usr/libexec/wisp/provision:
 * datasources, user-data, cloud-config, network configuration, SSH, NTP,
 * image import and cloud-final, all turned into files (docs/provisioning.md,
 * docs/cloud-config.md). It includes no header of PID 1's: what it gives PID 1
 * are declaration files (lib/decl.h's format) and the report (lib/paths.h).
 */
#ifndef WISP_PROVISION_H
#define WISP_PROVISION_H

#include "../lib/decl.h"
#include "../lib/paths.h"
#include "parse/parse.h"

/* ---- root.c: where provision works and how much it may do ------------ */

struct prov_opts {
	const char
	    *root; /* "": this host; --root DIR: every path it reads or writes is under DIR */
	const char *seed; /* --seed DIR: the datasource (NoCloud or config drive files) */
	bool safe;	  /* --safe: no datasource, no user-data: the image's configuration only */
	bool dry;	  /* --root: nothing executed, mounted or set on the host (hostname) */
};
extern struct prov_opts prov;

/* path (absolute, as on the host) under prov.root, in buf; path itself when root is "". */
const char *rooted(const char *path, char *buf, size_t size);
#define ROOTED(path) rooted((path), (char[4096]){""}, 4096)

/* report.c: cloudinit_report() (parse.h) appends to path instead of CLOUD_REPORT. */
void cloudinit_report_to(const char *path);
/* A source of warnings (cloudinit.c, declw.c): its name in the log, and how many it gave. */
struct warner {
	const char *who;
	int count;
};
/* One warning from w, a struct warner (void *: a ud_sink's warn): the log line
 * "who: text" and the report's "warning: text". */
void report_warn(void *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* ---- console.c: provision's own console lines, never a blocking write -- */

/* log.c's console lines go to path (/dev/console), opened non-blocking: a line the
 * console has no room for within 1 s is dropped (kmsg has it), counted and said. */
void console_use(const char *path);

/* ---- declw.c: declarations written to CLOUD_UNITS --------------------- */

/* One unit provision wants PID 1 to run (docs/declarations.md). */
struct wunit {
	const char *name;
	enum unit_kind kind; /* KIND_SERVICE or KIND_ONESHOT */
	char *const *argv;
	enum restart restart;
	char *const *after; /* units it waits for (condition started); NULL: none */
	const char *about;  /* one comment line: why it is declared */
	char *const *env;   /* KEY=value for its environment; NULL: none */
};

/* Start a run: dir (made 0700) emptied of every declaration of an earlier run, and an empty
 * DECL_UNITS_FILE written. 0 or -1. */
int declw_open(const char *dir, struct err *e);
/* The declaration text of u (malloc'd), or NULL (out of memory). */
char *declw_render(const struct wunit *u);
/* Install text as dir/NN-name.yaml: written as .NN-name.yaml.tmp (0600), loaded with
 * decl_load_file(); renamed into place only with no problem and no unit name that an
 * earlier file of this run declared, then the directory compiled again into
 * DECL_UNITS_FILE (PID 1's); else every problem is a warning and it is removed.
 * Returns 0 or -1. */
int declw_text(int nn, const char *name, const char *text);
int declw_unit(int nn, const struct wunit *u);
/* A unit of that name was installed in this run. */
bool declw_declared(const char *name);
/* How many warnings the declarations cost in this run. */
int declw_warnings(void);
void declw_close(void);

/* ---- net.c: loopback, DHCP or static addresses ----------------------- */

/* lo up; one udhcpc unit per NIC, or the static configuration of DECL_DIR's network:
 * (the datasource's unless prov.safe), each declared in CLOUD_UNITS. */
void net_setup(const char *sys);
/* The network units net_setup() declared (NULL-terminated, maybe empty). */
char *const *net_units(void);
/* The interfaces net_setup() gave a DHCP unit, space-separated ("" for none): cloud-final
 * waits for a lease on one of them (its NET_WAIT). */
const char *net_dhcp_ifs(void);
/* Receives each unit the network needs: a udhcpc service, or a one-shot `ip` script. */
typedef void net_unit_fn(void *ctx, const char *name, char *const argv[], bool oneshot);
/* The units for the NICs under sys and the network: key of dir's YAML files, else the
 * datasource's network configuration in ds (NULL: none, safe mode); name servers of a
 * static configuration are written to resolv. (net_setup() without lo.) */
void net_plan(const char *sys, const char *dir, const char *ds, const char *resolv, net_unit_fn *fn,
	      void *ctx);

/* ---- idmap.c: the user and group ids given, kept on STATE -------------- */

#define ID_MAP "/var/lib/wisp/ids" /* "wisp-ids 1", then "user|group NAME ID" lines */
enum id_kind { ID_USER, ID_GROUP };
struct id_rec {
	unsigned char kind; /* enum id_kind */
	char name[33];
	unsigned id;
};
struct idmap {
	char path[4096];
	struct id_rec *rec; /* in the order given: a name's last one is its id now */
	size_t n, cap;
	bool usable; /* read, or none yet: it may be noted in and saved */
	bool changed;
};
/* path's ids into m (none when it does not exist). A file that is not provision's, or
 * does not read whole and strictly: one warning naming it and why; m then remembers
 * nothing and idmap_save() leaves the file alone. */
void idmap_load(struct idmap *m, const char *path, struct ud_sink *w);
/* The id of kind k name was given last, or -1. m may be NULL (none remembered). */
long idmap_get(const struct idmap *m, enum id_kind k, const char *name);
/* The name other than name that id of kind k was given to, or NULL. */
const char *idmap_owner(const struct idmap *m, enum id_kind k, unsigned id, const char *name);
/* name was given id (nothing to note if that is its id already). */
void idmap_note(struct idmap *m, enum id_kind k, const char *name, unsigned id);
/* Write m if it changed: whole or not at all (a synced temporary renamed over it), 0600.
 * A failure (STATE read-only) is one warning: this boot's new ids are not remembered. */
void idmap_save(struct idmap *m, struct ud_sink *w);
void idmap_free(struct idmap *m);

/* ---- ccapply.c: apply a cloudcfg to this host ------------------------ */

struct cc_env {
	const char *etc;   /* "/etc" */
	const char *root;  /* prefix of write_files paths and homes; "" */
	bool fake_root;	   /* a tree of the build host's user: no chown, it owns what root would */
	bool per_instance; /* first boot of this instance-id: per-instance work too */
	const char *src;   /* the cloud-config part, for messages of the applying side */
	struct idmap *ids; /* the ids given at earlier boots; NULL: none remembered */
	struct ud_sink *warn;
	/* gzip write_files: decompress (malloc'd *out); NULL: refused with a warning */
	int (*gunzip)(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen);
};

void cc_apply_hostname(const struct cloudcfg *c, const char *meta_hostname,
		       const struct cc_env *env);
/* Users, groups, homes, authorized keys. Returns the number of keys written. */
unsigned cc_apply_users(const struct cloudcfg *c, const struct cc_env *env);
void cc_apply_files(const struct cloudcfg *c, bool deferred, const struct cc_env *env);

/* ---- dirwalk.c: a directory root writes in, no user's symlink on the way -- */

/* An fd of directory path (absolute), walked a component at a time, missing ones
 * made 0755 when mk; a symlink followed only when root owns it (its text walked
 * the same way). Returns the fd or -1, e naming path and the component. */
int dir_walk(const char *path, bool mk, struct err *e);

/* ---- ds.c: datasources ------------------------------------------------ */

struct ds_found {
	char name[400];	       /* "NoCloud (/dev/sr0, iso9660)" */
	char iid[128];	       /* instance-id ("" if none given) */
	char hostname[80];     /* local-hostname / hostname ("" none) */
	char **keys;	       /* public keys from meta-data (config drive) */
	char user[33];	       /* the cloud's default user (Azure's admin), the keys' ("" none) */
	struct ds_ready ready; /* Azure's goal state, for its ready report ("" none) */
	char wireserver[128];  /* Azure's wire server HOST[:PORT] ("": not Azure) */
	bool customdata;       /* ovf-env.xml has CustomData: it is the user-data, not user-data */
};

/* The label of a filesystem in a superblock image (iso9660 or FAT). Returns 0 or -1. */
int ds_label(const unsigned char *buf, size_t len, char *label, size_t size, const char **fstype);
/* A device's first len bytes (from 0) show a UDF file system (its NSR descriptor). */
bool ds_udf(const unsigned char *buf, size_t len);
/* Find a datasource (cmdline, then cidata/config-2 disks); copy its files to dir. 1 found.
 * f gets its name and what the command line says (ds=nocloud;i=...;h=...); its meta-data
 * is parsed later, with its user-data (cloudinit.c). */
int ds_find(const char *cmdline, const char *dir, struct ds_found *f, struct ud_sink *warn);
/* The datasource in directory seed (--seed): NoCloud files, or a config drive's
 * openstack/latest/; copied to dir as ds_find() does. 1 found. */
int ds_seed(const char *seed, const char *dir, struct ds_found *f, struct ud_sink *warn);

/* ---- dsdev.c: the block devices the probe reads --------------------- */

/* Block device name (sr0) is a CD-ROM drive without a disc: nothing to read there. Its
 * size in sysblock ("/sys/class/block") says when the kernel saw a disc; else it asks. */
bool ds_no_media(const char *sysblock, const char *name);
/* Device name (under sysblock, "/sys/class/block") is this host's, in use: held (dm, md)
 * or mounted (its MAJOR:MINOR in mountinfo, /proc/self/mountinfo's text), or a disk one
 * of whose partitions is. */
bool ds_in_use(const char *sysblock, const char *name, const char *mountinfo);
/* Not worth reading for a seed: loop, ram, zram, dm-*, in use, a drive without a disc. */
bool ds_skip(const char *sysblock, const char *name, const char *mountinfo);
struct ds_dev {
	char name[32]; /* "sr0" */
	int rank;      /* 0 removable, 1 a whole disk, 2 a partition */
};
/* The devices of sysblock worth reading, in the order to read them: removable drives, whole
 * disks, partitions, each by name ("vda2" before "vda10"). Their number; *out malloc'd. */
size_t ds_devices(const char *sysblock, const char *mountinfo, struct ds_dev **out);

/* ---- dsuser.c: the datasource's default user (Azure's admin) ---------- */

/* user (a valid name) made c's first user, so that the datasource's keys and top-level
 * ssh_authorized_keys go to it: added with the defaults, or moved. 0, -1 out of memory. */
int ds_user_first(struct cloudcfg *c, const char *user);

/* ---- azure.c: the ready report to Azure's wire server ----------------- */

#define AZURE_WIRESERVER "168.63.129.16" /* wisp.wireserver=HOST[:PORT] for another */
/* On Azure (f->wireserver set): the health report Ready for f's goal state, written to
 * /run/wisp/azure-health.xml and POSTed by the helper azure-ready (not under --root),
 * once have_iid (IMDS gave a vmId). A failure is one warning naming the wire server. */
void azure_ready(const struct ds_found *f, bool have_iid, struct ud_sink *w);

/* ---- dsmeta.c: meta-data, parsed in the unprivileged child ----------- */

#define DS_META_FILES                                                                              \
	5 /* meta-data, meta_data.json, Azure's ovf-env.xml, IMDS answer, goal state */
/* dir's meta-data files that exist, read into in[DS_META_FILES] (as root: the child opens
 * nothing), named path[i]; one that cannot be read is a warning. Their number. */
size_t ds_meta_inputs(const char *dir, struct parse_input *in, char (*path)[512],
		      struct ud_sink *w);
/* The files names[0..n) of dir that exist, read into in[] (as root: the parser child
 * opens nothing; malloc'd, ds_inputs_free), named path[i]. One that cannot be read is
 * one warning, "BEFORE<why>AFTER". Their number. */
size_t ds_read_inputs(const char *dir, const char *const *names, size_t n, struct parse_input *in,
		      char (*path)[512], const char *before, const char *after, struct ud_sink *w);
void ds_inputs_free(struct parse_input *in, size_t n);
/* A plan's meta record into f: instance-id and host name replace f's when it names them
 * (the command line's ds=nocloud;i=...), keys are added. */
void ds_meta_take(const struct ds_meta *m, struct ds_found *f);
/* dir's meta-data in a child of its own (ds_meta_inputs, ds_meta_take). A parser that
 * fails: one warning, f unchanged. */
void ds_meta_read(const char *dir, struct ds_found *f, struct ud_sink *w);

/* ---- cloudinit.c: the provisioning step of the boot ------------------- */

#define CLOUD_DIR "/var/lib/cloud"
#define CLOUD_RUN "/run/wisp/cidata"
/* cloud-final's variables (ccfinal.c), appended to by every part; emptied by each run. */
#define CF_ENV "/run/wisp/cloud-final.env"

/* Find a datasource and apply it: files, users, bootcmd (bounded). */
void cloudinit_setup(void);
/* The declarations of sshd if keys were written, ntpd if asked for, cloud-final (the
 * per-instance scripts: runcmd, #! parts) after the network units, the environment. */
void cloudinit_final(void);
/* report.c: one line of CLOUD_REPORT (`wispctl config`). */
void cloudinit_report(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Create dir/sem/name if absent: 1 taken now, 0 taken before, -1 error. */
int cc_sem_take(const char *dir, const char *name, struct err *e);

/* ---- run.c: the programs provision runs ------------------------------ */

/* Run argv (PATH, HOME and env set), killed after ms, once the host's firewall is in
 * (fw_wait()). Its wait status, or -1 (warned). */
int cc_run(const char *what, char *const *argv, char *env, unsigned ms, struct ud_sink *w);
/* cc_run()'s wait, also for the firewall's child beside provision (its own process
 * group): waited for until since + ms, then killed with its group. */
int cc_wait(const char *what, pid_t pid, uint64_t since, unsigned ms, struct ud_sink *w);

/* ---- ccfinal.c: mounts, timezone, gunzip, ntp, the cloud-final script -- */

/* Where a MIME per-boot/-instance/-once script is kept; NULL for other kinds. */
const char *cc_script_dir(enum ud_kind k);
/* mounts, timezone, ntp of one cloud-config part (src: its name), in the early stage. */
void cc_apply_late(const struct cloudcfg *c, const char *src, struct ud_sink *w);
/* The text of /run/wisp/cloud-final.sh: per-once, per-boot, per-instance scripts,
 * final_message, power_state. */
void cc_final_script(const char *idir, bool per_instance, const char *ds, const char *net_wait,
		     struct ud_sink *w);
/* A unit of cloud-init's, declared as CLOUD_UNITS/NN-name.yaml (a service restarts
 * always), waiting for the units in after to have started. 0 or -1 (warned). */
int cc_unit_add(int nn, const char *name, const char *const *argv, enum unit_kind kind,
		char *const *after, const char *about);
/* The ntpd unit when a cloud-config part asked for it. */
void cc_ntp_add(void);
/* bootgood.c: CLOUD_UNITS/99-boot-good.yaml, the updater's mark-good once every unit
 * declared critical (the image's and this run's) is healthy (docs/update.md). */
void bootgood_add(void);
/* update.c: CLOUD_UNITS/80-update-apply.yaml, user-data's wisp.update (docs/update.md). */
void update_unit(const char *url, const char *sha256, const char *reboot);
/* 00-environment.yaml: TZ for every unit when a cloud-config part set a timezone. */
void cc_environment_add(void);

/* ---- tzrules.c: time zone names, from the image's table ------------ */

/* The table of zone name -> POSIX TZ rule the build puts in ROOT (rootfs/tzrules.py). */
#define TZ_RULES "/usr/share/wisp/tzrules"
/* name's rule from table into rule. 0, or -1: no table, no such zone, or a rule that is
 * too long or not a POSIX TZ string (cc_posix_tz). */
int tz_rule(const char *table, const char *name, char *rule, size_t size);

/* ---- sshd.c: the SSH server ------------------------------------------- */

/* Add the unit "sshd" (dropbear, key-only); cloudinit_final() does when keys were written. */
void sshd_add(void);

/* ---- firewall.c: the host's firewall (containerd-lite's cl_host_firewall) -- */

/* PORT ("22/tcp", copied) opened by the next table made. */
void fw_allow(const char *port);
/* user-data's wisp.bridge.subnet (checked): /run/wisp/bridge, which
 * containerd-lite network reads for wisp0 before the image's /etc/wisp/bridge. */
void bridge_subnet(const char *cidr);
/* The first table, closed but for the image's ports, started at provision's start;
 * fw_wait() before anything that could bring up an interface, or run a program that
 * could. fw_apply() at the end: the table again if a port was allowed since, and
 * the report's line. Nothing with --root. */
void fw_start(void);
void fw_wait(void);
void fw_apply(void);

/* ---- imgimport.c: archives in STATE or on the seed, imported at boot -- */

/* The directory of image archives at a seed's root (matched case-insensitively). */
#define SEED_IMAGES "wisp-images"
/* "DEV FSTYPE DIR": the seed holding SEED_IMAGES, noted by ds.c for image-import. */
#define SEED_INFO "/run/wisp/seed-images"

/* ROOT's archives for a live boot (image-builder/live.c: the spec's images). */
#define LIVE_IMAGES "/usr/share/wisp/images"
/* LIVE_IMAGES's path, one line: noted by provision on a live boot for image-import. */
#define LIVE_INFO "/run/wisp/live-images"

/* dir has an entry `containerd-lite image import-dir` would import. */
bool imgimport_pending(const char *dir);
/* Is there anything for image-import: archives in drop, or the seed file seed? */
bool imgimport_wanted(const char *drop, const char *seed);
/* A live boot (cmdline has wisp.live=1) whose ROOT has archives in dir: notes dir in
 * info for the helper and returns true. */
bool imgimport_live(const char *cmdline, const char *dir, const char *info);
/* The oneshot unit image-import, declared if something waits. */
void imgimport_setup(void);

#endif /* WISP_PROVISION_H */
