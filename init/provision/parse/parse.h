/*
 * provision/parse/parse.h: the parsers of bytes from outside the image:
 * user-data formats and MIME parts, gzip, base64, #cloud-config and
 * network configuration, and the unprivileged child they run in, which
 * hands provision a plan (docs/provisioning-plan.md). They only read and
 * return structures; applying them is provision's. Nothing here logs or
 * reports: every message goes to a struct ud_sink.
 */
#ifndef WISP_PROVISION_PARSE_H
#define WISP_PROVISION_PARSE_H

#include "../../lib/regcfg.h" /* base64, and wisp.registries' checks and files */
#include "../../lib/ytree.h"

#include <stdio.h>

/* ---- userdata.c: user-data formats, MIME parts ------------------------ */

/* UD_SCRIPT_BOOT..ONCE: MIME text/x-shellscript-per-boot, -per-instance, -per-once. */
enum ud_kind {
	UD_EMPTY,
	UD_CLOUD_CONFIG,
	UD_SCRIPT,
	UD_MIME,
	UD_GZIP,
	UD_UNKNOWN,
	UD_SCRIPT_BOOT,
	UD_SCRIPT_INSTANCE,
	UD_SCRIPT_ONCE
};

struct ud_sink {
	void *ctx;
	/* One usable part: its kind, a name for messages, its bytes (not NUL-terminated). */
	void (*part)(void *ctx, enum ud_kind k, const char *name, const char *data, size_t len);
	void (*warn)(void *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);
	/* A note for the log only (e.g. a skipped network type); NULL: dropped. */
	void (*info)(void *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);
};

enum ud_kind ud_detect(const char *data, size_t len);
const char *ud_kind_name(enum ud_kind k);
/* Hand each cloud-config or script in data (MIME multipart split) to s; warn about the rest. */
void ud_split(const char *src, const char *data, size_t len, struct ud_sink *s);

/* ---- gunzip.c: gzip with zlib, bounded --------------------------------- */

/* One gzip member in -> at most max bytes (malloc'd *out). 0, or -1 (invalid, too big). */
int gz_unpack(const unsigned char *in, size_t len, size_t max, unsigned char **out, size_t *outlen);
/* ud_split() of gzip-compressed user-data, unpacked (at most YAML_MAX_BYTES). */
void ud_split_gzip(const char *src, const char *data, size_t len, struct ud_sink *s);

/* ---- yvalue.c: a scalar's YAML 1.1 value, as PyYAML gives it to cloud-init ---- */

/* YV_OTHER: not a scalar (a list, a mapping, an alias, or none). */
enum yv_type { YV_STR, YV_NULL, YV_BOOL, YV_INT, YV_FLOAT, YV_OTHER };

struct yvalue {
	enum yv_type type;
	const char *s; /* the scalar's text (any type) */
	long long i;   /* YV_BOOL 0/1, YV_INT, YV_FLOAT truncated toward 0 (Python's int()) */
	double f;      /* YV_BOOL, YV_INT, YV_FLOAT */
	bool fits;     /* i holds the value (Python's integers have no limit) */
};

/* What PyYAML makes of n: a plain, untagged scalar by YAML 1.1's implicit types (yes/On
 * bool, 0600 octal, 0x1f, 0b1, 1:20 base 60, 1_000, 1.5, ~/null/empty null); a quoted
 * or tagged one is a string. */
struct yvalue yv_resolve(const struct ynode *n);
/* cloudinit/util.py's readings: is_true / is_false ("1", "on", "yes", "true" and their
 * opposites, any case, as strings or the integers 1/0), translate_bool (false when falsy,
 * else is_true: get_cfg_option_bool), and Python's bool() (a non-empty string is true). */
bool yv_is_true(const struct yvalue *v);
bool yv_is_false(const struct yvalue *v);
bool yv_translate(const struct yvalue *v);
bool yv_truthy(const struct yvalue *v);
/* Python's int(s, 8): "0644", " 644 ", "0o644", "6_44", "-1". 0, or -1 if it is none. */
int yv_octal(const char *s, long long *out);

/* ---- cloudcfg.c: #cloud-config -> struct cloudcfg ---------------------- */

struct cc_user {
	char *name, *gecos, *shell, *homedir, *passwd, *primary_group;
	char **groups, **keys;
	bool lock_passwd, system, no_create_home, has_uid;
	uid_t uid;
};

struct cc_file {
	char *path, *owner;
	unsigned char *content;
	size_t len;
	mode_t mode;
	bool append, defer, gzip; /* gzip: content is still compressed */
};

struct cc_group {
	char *name;
	char **members;
};

/* One mounts: entry, fields filled from mount_default_fields; dump and pass are read only. */
struct cc_mount {
	char *dev, *dir, *type, *opts; /* opts as given: the script takes out nofail, x-... */
	int line, col;
};

struct cloudcfg {
	char *hostname, *fqdn;
	int preserve_hostname; /* -1: not given, 0, 1 (a later part's replaces it) */
	struct cc_user *users;
	size_t nusers;
	struct cc_group *groups;
	size_t ngroups;
	char **ssh_keys;
	struct cc_file *files;
	size_t nfiles;
	char ***bootcmd, ***runcmd; /* each an argv (a string: sh -c STRING) */
	size_t nbootcmd, nruncmd;
	char *wisp_units;    /* the wisp: key as a declarations file's text, or NULL */
	char **fw_allow;     /* wisp.firewall.allow: "PORT/PROTO" each (cc_fw_port) */
	char *bridge_subnet; /* wisp.bridge.subnet: A.B.C.D/N (cc_subnet), or NULL */
	/* wisp.update (docs/update.md): a bundle applied at boot; NULL: none */
	char *update_url;		  /* http://... (cc_update_value) */
	char *update_sha256;		  /* 64 lower-case hex, or NULL */
	char *update_reboot;		  /* "now", "never" or "HH:MM" (UTC), or NULL: now */
	char *final_message, *timezone;	  /* timezone: a POSIX TZ string or a zone name */
	char *power_mode;		  /* "poweroff", "reboot", "halt" or NULL */
	char *power_message, *power_cond; /* cond: a shell line, NULL: true */
	unsigned power_delay_s;		  /* "now": 0, "+N": N minutes */
	int ntp;			  /* -1: no ntp key, 0: disabled, 1: enabled */
	char **ntp_servers;		  /* servers then pools */
	struct cc_mount *mounts;
	size_t nmounts;
	char *mount_defaults[2]; /* mount_default_fields' fstype and options */
};

/* Parse the YAML file path (a #cloud-config); each problem goes to warn as one line. */
int cloudcfg_load(const char *path, struct cloudcfg *c, struct ud_sink *warn);
/* The same for len bytes at buf, named name in messages (the parser child reads no file). */
int cloudcfg_parse(const char *name, const char *buf, size_t len, struct cloudcfg *c,
		   struct ud_sink *warn);
void cloudcfg_free(struct cloudcfg *c);
/* f (its strings malloc'd, now c's) as c's next write_files entry; out of memory, or
 * f without its path or content: freed, not added. */
void cc_file_add(struct cloudcfg *c, struct cc_file f);
/* "0644", "644", "0o644" or an integer written as octal digits -> mode. Returns 0 or -1. */
int cc_parse_mode(const char *s, mode_t *mode);
/* A command as a shell script line (a list is quoted word by word). malloc'd. */
char *cc_shell_line(char *const *argv);
/* "UTC", "EST5EDT", "<+0530>-5:30": a POSIX TZ string; an Olson name (a '/') is not. */
bool cc_posix_tz(const char *s);
/* A time zone name of the tz database ("Europe/Berlin", "Etc/GMT+5"): [A-Za-z0-9/_+-],
 * no "..", no leading '/' or '-'; looked up in the image's table, not as a path. */
bool cc_zone_name(const char *s);
/* A user or group name as useradd takes it ([a-z_][a-z0-9_.-]*, at most 32). */
bool cc_valid_name(const char *s);
/* No ':' and no line break: safe in a field of /etc/passwd or /etc/shadow (NULL is). */
bool cc_passwd_safe(const char *s);
/* "PORT", "PORT/tcp", "PORT/udp" (1-65535) -> "PORT/PROTO" in out; false if not one. */
bool cc_fw_port(const char *s, char out[16]);
/* "A.B.C.D/N", N 8-30, no host bits: a container bridge's subnet. */
bool cc_subnet(const char *s);
/* wisp.update's values: KEY "url" (http://, printable, no blank or quote), "sha256" (64
 * lower-case hex), "reboot" (now, never, HH:MM). */
bool cc_update_value(const char *key, const char *s);

/* ---- ccreg.c: wisp.registries as containerd-lite's files -------------- */

/* The N registries at regs (wisp.registries.HOST, checked as read with lib/regcfg.h's
 * reg_problem) as write_files entries of c: /etc/wisp/registries.json,
 * registry-auth.json (0600) and registry-ca/HOST.pem (docs/cloud-config.md, "wisp"). */
void cc_registry_files(struct cloudcfg *c, const struct reg_cfg *regs, size_t n);
/* ccca.c: ca_certs' trusted PEM certificates as a write_files entry of c for
 * /etc/ssl/certs/ca-certificates.crt: appended to the image's bundle, or
 * replacing it (remove_defaults). Nothing when there is nothing to do. */
void cc_ca_bundle(struct cloudcfg *c, char *const *trusted, bool remove_defaults);
/* What a host name or an address is made of: ntp servers go to a shell word list. */
#define CC_HOST_CHARS REG_HOST_CHARS
/* an http:// URL's characters (RFC 3986: unreserved, reserved, %): no blank, quote or backslash */
#define CC_URL_CHARS                                                                               \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&()*+,;=%"

/* ---- netcfg.c: network configuration (v2, v1, network_data.json) ---- */

#define NET_MAX_IFS  8
#define NET_MAX_LIST 8
#define NET_IFNAMSIZ 16 /* IFNAMSIZ, without <net/if.h> in every file */
/* Values end up in `ip` command lines: only these characters, so nothing can be injected. */
#define NET_ADDR_CHARS "0123456789abcdefABCDEF.:/"
#define NET_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

struct net_route {
	char to[48], via[48]; /* to: CIDR or "default" */
};

struct ifcfg {
	char key[NET_IFNAMSIZ + 1]; /* the NIC's name when there is no match */
	char match_name[NET_IFNAMSIZ + 1], match_mac[24], set_name[NET_IFNAMSIZ];
	bool dhcp4;
	char addr[NET_MAX_LIST][48];
	size_t naddr;
	char gw4[48];
	struct net_route route[NET_MAX_LIST];
	size_t nroute;
	char dns[NET_MAX_LIST][48];
	size_t ndns;
	char search[NET_MAX_LIST][128];
	size_t nsearch;
};

struct netcfg {
	bool present;  /* a configuration was given: only the NICs it matches are configured */
	bool disabled; /* "config: disabled" (cloud-init's): no one's configuration, DHCP */
	struct ifcfg ifs[NET_MAX_IFS];
	size_t n;
};

/* s is not empty, does not start with '-' and has only allowed characters. */
bool net_safe(const char *s, const char *allowed);
/* The mapping under a `network:` key (version 1 or 2) of file path into cfg; each
 * problem is logged as path:line:col. Returns the number of problems (0: all valid). */
int netcfg_read(const char *path, const struct ynode *net, struct netcfg *cfg);
/* OpenStack's network_data.json (root: its parsed tree) into cfg; as netcfg_read(). */
int netcfg_openstack(const char *path, const struct ynode *root, struct netcfg *cfg);
/* A datasource's file, name ending in ".json": network_data.json, else a network-config
 * (YAML, v1 or v2, with or without a top-level network: key), len bytes at buf. Problems
 * go to w->warn ("name:line:col: network: ..."), notes to w->info. Returns the number of
 * problems (0: cfg holds the configuration, or nothing when cfg->present is false). */
int netcfg_parse_ds(const char *name, const char *buf, size_t len, struct netcfg *cfg,
		    struct ud_sink *w);
/* provision (dsnet.c): the datasource's network-config or else network_data.json from
 * dir, parsed in the sandboxed child. Invalid: one warning and cfg stays empty (DHCP
 * everywhere). Returns 1 if cfg was filled. */
int netcfg_from_ds(const char *dir, struct netcfg *cfg);

/* ---- meta.c: a datasource's meta-data --------------------------------- */

/* Azure's goal state (its wire server's GoalState XML): what the health report names. */
struct ds_ready {
	char incarnation[16]; /* GoalState/Incarnation: digits */
	char container[64];   /* Container/ContainerId */
	char instance[128];   /* the first RoleInstance's InstanceId */
};

struct ds_meta {
	char iid[128];	   /* instance-id (meta_data.json: uuid); "" none */
	char hostname[80]; /* local-hostname or hostname; "" none */
	char **keys;	   /* public-keys (public_keys): one line each */
	char user[33];	   /* the cloud's default user (Azure's adminUsername); "" none */
	struct ds_ready ready;
	/* ovf-env.xml's CustomData decoded, the user-data (child.c; not in the plan); NULL:
	 * none. customdata (meta.customdata): there was some: user-data is not read. */
	unsigned char *userdata;
	size_t userdata_len;
	bool customdata;
};

/* NoCloud or EC2 meta-data (YAML), OpenStack's meta_data.json (name ends in ".json"),
 * Azure's IMDS answer (AZURE_IMDS_FILE, JSON), goal state (AZURE_GOALSTATE_FILE, XML) or
 * ovf-env.xml (AZURE_OVF_FILE), len bytes at buf: the values it names replace m's, its
 * keys are added. Problems go to w->warn. */
void meta_parse(const char *name, const char *buf, size_t len, struct ds_meta *m,
		struct ud_sink *w);
void meta_free(struct ds_meta *m);
/* key added to m's keys unless it is there already (Azure names one in two files). */
void meta_add_key(struct ds_meta *m, const char *key);
/* ovfenv.c: Azure's ovf-env.xml (meta_parse() chooses it by name): HostName, UserName
 * and the keys' Values into m, CustomData decoded into m->userdata. */
void meta_ovf(const char *name, const char *buf, size_t len, struct ds_meta *m, struct ud_sink *w);
/* The files Azure's helper (rootfs/skel/usr/libexec/wisp/azure-imds) leaves. */
#define AZURE_IMDS_FILE	     "azure-imds.json"
#define AZURE_GOALSTATE_FILE "azure-goalstate.xml"
/* Azure's provisioning media's file (ds.c copies it from the CD): read before IMDS's
 * answer, whose values win (cloud-init's DataSourceAzure). */
#define AZURE_OVF_FILE "ovf-env.xml"
/* A goal state's values as the health report may carry them: all empty, or an
 * incarnation of digits and ids of [A-Za-z0-9_.-] (the reader checks them again). */
bool meta_ready_ok(const struct ds_ready *r);

/* ---- xmltext.c: the text of chosen elements of an XML document -------- */

/* One element wanted: its path of local names from the root ("GoalState/Incarnation";
 * any namespace prefix is dropped), and where its text goes (trimmed, NUL-terminated).
 * With each: every element at the path; each(ctx, text) is called as one closes (out is
 * its buffer, reused). once: a second element at the path refuses the document. */
struct xml_want {
	const char *path;
	char *out;
	size_t size;
	void (*each)(void *ctx, const char *text);
	void *ctx;
	bool once;
};
/* The text of the first element at each want's path (every one's, with each). No DTD,
 * no CDATA, no entity but the five predefined ones, at most 32 levels deep. 0, or -1
 * with the problem in why (at most 128 bytes) and its line in *line; then the outs hold
 * nothing (each may have been called: its caller keeps what it got only on 0). */
int xml_texts(const char *buf, size_t len, const struct xml_want *want, size_t n, char *why,
	      int *line);

/* ---- plan.c: the child's result, a record stream (docs/provisioning-plan.md) ---- */

#define PLAN_VERSION   "1"
#define PLAN_MAX_BYTES (8 << 20) /* what the parent reads at most */

/* One user-data part of the plan: a script's bytes, or a parsed cloud-config. */
struct plan_part {
	enum ud_kind kind;
	char *name; /* for messages: the file, or "<file>: MIME part 2 (...)" */
	char *data; /* the part's bytes (scripts; cloud-config parts of MIME or gzip) */
	size_t len;
	char **warn; /* the parser's warnings about this part, in order */
	bool whole;  /* the datasource's file itself (no copy of it is written) */
	struct cloudcfg cc;
};

enum plan_item_kind { PLAN_WARN, PLAN_INFO, PLAN_PART };

struct plan_item {
	enum plan_item_kind kind;
	char *text;		/* PLAN_WARN, PLAN_INFO */
	struct plan_part *part; /* PLAN_PART */
};

struct parse_plan {
	struct plan_item *items; /* in the order the child found them */
	size_t n;
	bool has_net; /* a network configuration record came */
	struct netcfg net;
	bool has_meta; /* a meta-data record came */
	struct ds_meta meta;
};

/* The writer (the child): one record each; a part's records end with plan_put_end(). */
void plan_put(FILE *f, const char *name, const void *val, size_t len);
void plan_put_str(FILE *f, const char *name, const char *s);
void plan_put_part(FILE *f, enum ud_kind k, const char *name, const char *data, size_t len,
		   bool whole);
void plan_put_cloudcfg(FILE *f, const struct cloudcfg *c);
void plan_put_netcfg(FILE *f, const struct netcfg *n);
void plan_put_meta(FILE *f, const struct ds_meta *m);
void plan_begin(FILE *f);   /* the first record: "plan 1" */
void plan_put_end(FILE *f); /* closes a part */
void plan_finish(FILE *f);  /* the last record: a plan without it was cut short */
/* The reader (the parent): len bytes -> p. Anything malformed: -1, e names the record. */
int plan_read(const char *buf, size_t len, struct parse_plan *p, struct err *e);
void plan_free(struct parse_plan *p);

/* ---- sandbox.c: the unprivileged child ---------------------------------- */

/* The id the child runs as (nobody): owns nothing, is in no group. */
#define SANDBOX_ID 65534
#define SANDBOX_MS 10000u /* the child's deadline; then it is killed */

/* Run fn(fd, arg) in a forked child that first drops every privilege (uid/gid nobody,
 * no groups, no capabilities, no_new_privs, rlimits, a seccomp allowlist: read, write,
 * memory, exit) and writes its plan to fd. The parent reads it (at most PLAN_MAX_BYTES,
 * until ms pass: then the child is killed). 0 and the plan in *out (malloc'd), or -1 and
 * why in e ("killed by signal 11 (SEGV)", "passed its deadline of 10 s", ...). */
int sandbox_run(void (*fn)(FILE *plan, void *arg), void *arg, unsigned ms, char **out, size_t *len,
		struct err *e);

/* sandbox_run(fn, arg, SANDBOX_MS), its plan read into *plan. -1: e says why, as
 * "parser killed by signal 11 (SEGV)" or "parser: plan: record 3 (...): ...". */
int sandbox_plan(void (*fn)(FILE *plan, void *arg), void *arg, struct parse_plan *plan,
		 struct err *e);

/* ---- child.c: what the child parses ------------------------------------- */

struct parse_input {
	const char *name; /* the file, for messages ("/run/wisp/cidata/user-data") */
	const char *data; /* its bytes, read by the parent before the fork */
	size_t len;
};

/* user-data-like inputs (vendor-data, user-data), in order: parts, cloud-config, gzip.
 * Copies of cloud-config parts are named partdir/part-NNN.yaml. meta: meta-data files
 * (meta-data, meta_data.json), read in order into one meta record. */
struct parse_job {
	const struct parse_input *in;
	size_t n;
	const char *partdir;
	int nparts; /* parts before these (numbered from nparts + 1) */
	const struct parse_input *meta;
	size_t nmeta;
};

/* The child's work (sandbox_run fn): job is a struct parse_job (parse_network: a struct
 * parse_input). parse_datasource: a datasource's meta-data and user-data in one child
 * (one fork on a seed boot): meta-data's warnings, then the parts, then the meta record.
 * parse_customdata: ovf-env.xml's CustomData's parts alone (no meta record, warning). */
void parse_userdata(FILE *plan, void *job);
void parse_network(FILE *plan, void *input);
void parse_meta(FILE *plan, void *job);
void parse_datasource(FILE *plan, void *job);
void parse_customdata(FILE *plan, void *job);

#endif /* WISP_PROVISION_PARSE_H */
