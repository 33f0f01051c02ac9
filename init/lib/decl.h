/*
 * lib/decl.h: the declaration format (docs/declarations.md): its parser,
 * the user and group lookups it needs, the dependency check and the
 * compiled form. image-builder and provision parse declarations with it and
 * compile them; PID 1 reads only the compiled form (no parser in its link).
 */
#ifndef WISP_LIB_DECL_H
#define WISP_LIB_DECL_H

#include "ytree.h"

/* ---- decl.c: declarations (docs/declarations.md) -------------------- */

enum restart { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };
enum unit_kind { KIND_SERVICE, KIND_ONESHOT, KIND_CONTAINER };
/* A container's network, by the names `image bundle --network` takes (decl_net_names). */
enum decl_net { DECL_NET_HOST, DECL_NET_PRIVATE, DECL_NET_BRIDGE, DECL_NET_CONTAINER };
/* A container's pull policy, docker run's --pull (`image bundle --pull`). */
enum decl_pull { DECL_PULL_MISSING, DECL_PULL_ALWAYS, DECL_PULL_NEVER };
extern const char *const decl_net_names[3];
/* DEP_DEFAULT (the list form): completed for a oneshot, started for the rest. */
enum dep_cond { DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED, DEP_DEFAULT };

struct dep {
	char *name;
	enum dep_cond cond;
	int line, col; /* where it was written, for "unknown dependency" */
	int k;	       /* deps_check()'s own: the unit's index in the set, -1: none */
};

struct healthcheck {
	char **argv; /* NULL: no health check */
	uint32_t interval_ms, timeout_ms, start_period_ms;
	unsigned retries;
};

/* cgroup v2 limits; 0 / "" mean "not set" (the kernel's default stays). */
/* A container's pids.max when its declaration gives none (docs/declarations.md). */
#define CONTAINER_PIDS_MAX 4096
struct resources {
	unsigned cpu_weight; /* 1..10000 */
	char cpu_max[32];    /* "max 100000", "50000 100000" (cpus are converted) */
	uint64_t memory_max; /* bytes; UINT64_MAX: "max" */
	uint64_t pids_max;   /* UINT64_MAX: "max"; containers: CONTAINER_PIDS_MAX if unset */
	/* bridge containers' bandwidth, checked text ("20mbit") that containerd-lite
	 * reads (net/rate.c) and applies with tc (not cgroups); "": no limit */
	char net_egress[16], net_ingress[16];
};

struct decl {
	char *name;
	enum unit_kind kind;
	char **argv;	   /* NULL-terminated; a string command becomes /bin/sh -c STRING */
	char **env;	   /* declared KEY=value, NULL-terminated, maybe empty */
	char *tty;	   /* NULL, "console" or a device path */
	char *working_dir; /* NULL: "/" */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	struct dep *deps;
	size_t ndeps;
	enum restart restart;
	uint32_t backoff_initial_ms, backoff_max_ms, backoff_reset_ms;
	int stop_signal;	  /* default SIGTERM */
	uint32_t stop_timeout_ms; /* default DECL_STOP_TIMEOUT_MS */
	struct healthcheck health;
	struct resources res;
	bool stop_signal_set; /* given: wins over a container image's StopSignal */
	/* kind container (init/container.c): argv/env/working_dir override the image's */
	char *image;	    /* reference in the image store */
	char **entrypoint;  /* NULL: the image's */
	char *user_spec;    /* "user[:group]", resolved in the image */
	unsigned char net;  /* network: DECL_NET_BRIDGE (a container's default), _HOST, _PRIVATE
			     * (loopback only),
			     * _CONTAINER (net_peer's namespaces) */
	char *net_peer;	    /* network: NAME, the container whose network this one shares */
	unsigned char pull; /* DECL_PULL_MISSING (default), _ALWAYS, _NEVER: image bundle --pull */
	char **ports;	    /* bridge: published, docker's -p "[IP:]HOST:CTR[/udp]"; NULL: none */
	bool read_only;	    /* root read-only; default an upper on /var */
	bool host_userns;   /* userns: host; default (auto) a user namespace of its own */
	bool privileged;    /* every capability, no seccomp, no masks (docs: "Host access") */
	bool host_pid;	    /* pid: host, the host's pid namespace */
	char **volumes;	    /* host binds, docker's -v "SRC:DST[:OPTS]"; NULL: none */
	uint32_t userns_base; /* auto: its first host id, given at its start (userns.c) */
	bool early;	      /* the image's: starts while provision runs (units_load_early) */
	bool critical;	      /* the boot is good only once it is healthy (docs/update.md) */
	char *file;	      /* where it was declared, for messages */
	int line, col;
};

struct decls {
	struct decl *v;
	size_t n, cap;
	char **broken; /* names of services left out for their errors (for dependants' messages) */
	/* Top-level "environment" of every file loaded into the set, KEY=value, NULL-terminated
	 * (NULL: none); a later file's value of a key replaces an earlier one's. */
	char **environment;
	/* The problems of the declarations it was read from, one line each, when a compiled
	 * form carries them (declbin.c): its loader says them, as it would have said them
	 * parsing the YAML. NULL: none. */
	char **errors;
};

#define DECL_DIR "/etc/wisp"
/* Units a set (and a file's list) holds at most: the checks of a set are
 * quadratic and its dependency walk recurses a unit deep (~0.5 KiB of PID 1's
 * stack each); a host runs tens. */
#define DECL_MAX_UNITS	     1024
#define DECL_STOP_TIMEOUT_MS 10000u

/* Receives one complete error line ("path:line:col: service "x": problem"). */
typedef void decl_report_fn(void *ctx, const char *msg);

/* Add the valid services of one file to set; report each problem. Returns the number reported. */
int decl_load_file(struct decls *set, const char *path, decl_report_fn *report, void *ctx);
/* Same for every *.yaml of dir, in name order. */
int decl_load_dir(struct decls *set, const char *dir, decl_report_fn *report, void *ctx);
/* Where user and group names are looked up (default "/etc": passwd, group); for tests. */
void decl_set_etc(const char *dir);
/* "100ms", "5s", "2m", "1h", "0" -> milliseconds. Returns 0 or -1. */
int parse_duration(const char *s, uint32_t *ms);
/* "1024", "64K", "512M", "1G" (powers of 1024) -> bytes. Returns 0 or -1. */
int parse_size(const char *s, uint64_t *bytes);
/* cpu.max value from "max", "max 100000", "50000 100000" or a number of cpus ("0.5"). */
int parse_cpu_max(const char *s, char *out, size_t size);
/* "TERM", "SIGTERM", "15" -> signal number, or -1. */
int parse_signal(const char *s);

/* ---- declset.c: a set once read (by decl.c or declbin.c) -------------- */

void decl_clear(struct decl *d);
void decls_free(struct decls *set);
/* Move over's units into set, each replacing set's unit of the same name (told to note, a
 * line per replacement), and over's environment onto set's; over is emptied. */
void decls_overlay(struct decls *set, struct decls *over, decl_report_fn *note, void *ctx);
/* The environment a program starts with: the base one, common (the set's "environment",
 * may be NULL), then its declared env; each wins over the ones before. NULL on ENOMEM. */
char **decl_environ(const struct decl *d, char *const *common);
const char *restart_name(enum restart r);
const char *kind_name(enum unit_kind k);
/* Index of the KEY=value entry named name (len bytes) in env[0..n), or -1. */
int env_find(char *const *env, size_t n, const char *name, size_t len);
/* KEY=value into set's environment, replacing the entry of the same key. 0, or -1 (ENOMEM). */
int decls_env_put(struct decls *set, const char *kv);
/* name: a unit left out for its errors (deps_check's message for its dependants). */
void decls_note_broken(struct decls *set, const char *name);

/* ---- declbin.c: the compiled form, the one PID 1 reads ------------------- */

/* In DECL_DIR (image-builder's) and CLOUD_UNITS (provision's): every unit of the directory's
 * *.yaml, compiled, with the problems of those left out (struct decls' errors). */
#define DECL_UNITS_FILE "units.compiled"
/* In DECL_DIR: ROOT's early units (deps_early()) alone, what PID 1 starts before
 * provisioning (then DECL_UNITS_FILE's copy of them is not started again). */
#define DECL_EARLY_FILE "early.compiled"

/* set's units, environment and problems in the compiled form: a malloc'ed buf. 0, or -1
 * (ENOMEM). */
int declbin_encode(const struct decls *set, char **buf, size_t *len);
/* The units, environment and problems of a compiled form (from src, for messages) into an empty
 * set. 0, or -1 with e saying what is wrong and set left empty. */
int declbin_decode(struct decls *set, const void *buf, size_t len, const char *src, struct err *e);
/* declbin_decode() of the file at path, at most DECLBIN_MAX bytes (the writers' limit):
 * DECL_MAX_UNITS units of ~270 bytes each before their strings (1024 minimal ones: 264 KiB),
 * and room for long commands and environments. PID 1 reads it into bss: only the pages a
 * file fills are ever touched. */
#define DECLBIN_MAX (4 * 1024 * 1024)
int declbin_read(struct decls *set, const char *path, struct err *e);

/* ---- declcomp.c: YAML compiled (image-builder, provision; never PID 1) ---- */

/* dir's *.yaml into set, each unit named as if in as_dir (the path PID 1 sees), and each
 * problem told to error and kept in set's errors as as_dir names it: what PID 1 loads as
 * DECL_UNITS_FILE. 0, or -1 (ENOMEM). */
int declc_load(struct decls *set, const char *dir, const char *as_dir, decl_report_fn *error,
	       void *ctx);
/* Keep in set (declc_load()'s) only its early units (deps_early(), told to warn), without
 * its problems: DECL_EARLY_FILE. Dependencies are checked only among set's units: the
 * others may be provision's. */
void declc_early(struct decls *set, decl_report_fn *warn, void *ctx);
/* set compiled into the file at path (mode), through .NAME.tmp beside it and a rename;
 * at most DECLBIN_MAX bytes. 0, or -1 with e saying why. */
int declbin_write(const struct decls *set, const char *path, mode_t mode, struct err *e);

/* ---- users.c: /etc/passwd and /etc/group -------------------------- */

/* Name or number -> uid (and that user's primary gid, if known). Returns 0 or -1. */
int user_lookup(const char *etc, const char *name, uid_t *uid, gid_t *gid, bool *has_gid);
int group_lookup(const char *etc, const char *name, gid_t *gid);

/* ---- deps.c: the dependency graph ----------------------------------- */

/*
 * Drop from set every service with an unknown dependency, on a
 * dependency cycle, or depending (directly or not) on a dropped or
 * broken one; report each, with its file:line:col. Returns the number
 * reported. What is left can always be started in some order.
 */
int deps_check(struct decls *set, decl_report_fn *report, void *ctx);
/*
 * Keep in set only the units that can start before provisioning: those declared
 * `early: true` whose dependencies are all early too (to a fixed point); report each
 * early unit that has to wait after all. Run after deps_check(). Returns the number
 * reported.
 */
int deps_early(struct decls *set, decl_report_fn *report, void *rctx);
/* Index of name in set, or -1. */
int decls_find(const struct decls *set, const char *name);

#endif /* WISP_LIB_DECL_H */
