/*
 * provision/parse/parse.h: the parsers of bytes from outside the image:
 * user-data formats and MIME parts, base64, #cloud-config and network
 * configuration. They only read and return structures; applying them is
 * provision's.
 */
#ifndef WISP_PROVISION_PARSE_H
#define WISP_PROVISION_PARSE_H

#include "../../lib/ytree.h"

/* report.c: one line of CLOUD_REPORT (until the parsers run in their own child, issue 11). */
void cloudinit_report(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* ---- b64.c ------------------------------------------------------------ */

/* Decode base64 (blanks skipped, '=' ends it) into out. Returns its length or -1. */
ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t size);

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
};

enum ud_kind ud_detect(const char *data, size_t len);
const char *ud_kind_name(enum ud_kind k);
/* Hand each cloud-config or script in data (MIME multipart split) to s; warn about the rest. */
void ud_split(const char *src, const char *data, size_t len, struct ud_sink *s);

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
	bool preserve_hostname;
	struct cc_user *users;
	size_t nusers;
	struct cc_group *groups;
	size_t ngroups;
	char **ssh_keys;
	struct cc_file *files;
	size_t nfiles;
	char ***bootcmd, ***runcmd; /* each an argv (a string: sh -c STRING) */
	size_t nbootcmd, nruncmd;
	char *wisp_units;		  /* the wisp: key as a declarations file's text, or NULL */
	char *final_message, *timezone;	  /* timezone: a POSIX TZ string (checked) */
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
void cloudcfg_free(struct cloudcfg *c);
/* "0644", "644", "0o644" or an integer written as octal digits -> mode. Returns 0 or -1. */
int cc_parse_mode(const char *s, mode_t *mode);
/* A command as a shell script line (a list is quoted word by word). malloc'd. */
char *cc_shell_line(char *const *argv);
/* "UTC", "EST5EDT", "<+0530>-5:30": a POSIX TZ string; an Olson name (a '/') is not. */
bool cc_posix_tz(const char *s);

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
/* A datasource's network-config (YAML, v1 or v2, with or without a top-level
 * network: key) or else network_data.json from dir. Invalid: one warning and cfg
 * stays empty (DHCP everywhere). Returns 1 if cfg was filled. */
int netcfg_from_ds(const char *dir, struct netcfg *cfg);

#endif /* WISP_PROVISION_PARSE_H */
