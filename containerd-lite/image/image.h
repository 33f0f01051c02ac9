/* image/image.h: OCI image import, verification, safe extraction and the store
 * (issue 6). Private to containerd-lite; errors are struct cl_err. */
#ifndef CL_IMAGE_H
#define CL_IMAGE_H

#include "../containerd-lite.h"
#include <stdint.h>
#include <sys/types.h>

#define IMG_DEFAULT_STORE "/var/lib/wisp/images"
#define IMG_IMPORT_DIR	  "/var/lib/wisp/import" /* init's boot-time drop directory */

/* sha256.c: compact FIPS 180-4 SHA-256 (checked against NIST vectors in
 * tests/unit/test_cl_tar.c). */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_hex(struct sha256 *s, char hex[65]);
/* Which block code hashes: 1 the CPU's SHA extensions, 0 the portable C. WANT
 * -1 asks (the CPU decides, once), 0 forces the portable code, 1 the
 * extensions where the CPU has them (tests run both). */
int sha256_impl(int want);

/* tar.c: the tar header parser (ustar, pax, GNU long names). */
enum tar_type {
	TAR_FILE,
	TAR_HARDLINK,
	TAR_SYMLINK,
	TAR_CHAR,
	TAR_BLOCK,
	TAR_DIR,
	TAR_FIFO,
	TAR_PAX,
	TAR_PAX_GLOBAL,
	TAR_GNU_LONGNAME,
	TAR_GNU_LONGLINK
};

struct tar_xattr {
	char *name;
	char *value;
	size_t len;
};

struct tar_entry {
	enum tar_type type;
	char *path, *link;
	uint64_t size;
	uint32_t mode, uid, gid, devmajor, devminor;
	int64_t mtime;
	struct tar_xattr *xattrs;
	size_t nxattrs, xattr_bytes; /* xattr_bytes: their names and values */
	unsigned set;		     /* TAR_SET_*: fields given by a pax record win */
};
/* The xattrs one entry may carry: far beyond what images hold (a file
 * capability, an SELinux label), within what Linux lists (XATTR_LIST_MAX
 * is 64 KiB of names); chained pax headers cannot pile up more. */
#define TAR_MAX_XATTRS	    1024
#define TAR_MAX_XATTR_BYTES (64 * 1024)
#define TAR_SET_SIZE	    1u
#define TAR_SET_UID	    2u
#define TAR_SET_GID	    4u
#define TAR_SET_MTIME	    8u

/* One 512-byte header: 0 ok, 1 a zero block (end), -1 error. Long names
 * from pax/GNU records that precede it are in *e already and kept. */
int tar_header_parse(const unsigned char blk[512], struct tar_entry *e, struct cl_err *err);
/* The body of a pax 'x' record, applied to *e (xattrs added to those of
 * earlier records, TAR_MAX_XATTRS and TAR_MAX_XATTR_BYTES at most). */
int tar_pax_parse(const char *buf, size_t len, struct tar_entry *e, struct cl_err *err);
void tar_entry_clear(struct tar_entry *e);

/* tar_path.c: an entry's path made relative and clean ("a/b", never
 * absolute, never "..", no empty or "." components, TAR_MAX_DEPTH at
 * most). "" is the root. */
int tar_path_clean(const char *in, char *out, size_t outsz, struct cl_err *err);
/* Components of a path: each can cost an entry an openat2 (the previous
 * entry's parents are held, but a layer alternating between two deep
 * parents opens every component; one of 2000-deep paths took 16 s for
 * 1.2 KB of zstd), and img_dirs holds one fd each; deeper than any real
 * tree. image/shift.c walks as deep. */
#define TAR_MAX_DEPTH 256

/* stream.c: a byte source, plain or decompressed. */
enum stream_comp { COMP_NONE, COMP_GZIP, COMP_ZSTD };
struct stream;
struct stream *stream_open(int fd, enum stream_comp c, struct cl_err *err);
ssize_t stream_read(struct stream *s, void *buf, size_t n, struct cl_err *err);
/* Hash every byte read from the file (before decompression) into h. */
void stream_hash(struct stream *s, struct sha256 *h);
/* Read (and hash) what is left of the file. */
int stream_drain(struct stream *s, struct cl_err *err);
void stream_close(struct stream *s);

/* image/reserve.c: the free space the store keeps on its file system
 * (STATE, shared with PID 1's logs and the containers' data): a write
 * that would leave less is refused, naming where. */
#define IMG_RESERVE_AUTO       UINT64_MAX /* the default: img_reserve_of */
#define IMG_RESERVE_MIN	       (64ULL << 20)
#define IMG_RESERVE_PCT	       5
#define IMG_RESERVE_STEP       (1ULL << 20) /* a meter asks once per MiB written */
#define IMG_RESERVE_MIN_INODES 4096	    /* inodes kept: IMG_RESERVE_PCT %, at least this */
struct img_reserve {
	uint64_t bytes;	   /* to keep free; IMG_RESERVE_AUTO; 0: nothing kept */
	const char *where; /* the store, named in messages; NULL: nothing checked */
};
/* The bytes kept on a file system of fs_size: r's, or by default the larger
 * of IMG_RESERVE_PCT % and IMG_RESERVE_MIN, at most a quarter of it. */
uint64_t img_reserve_of(const struct img_reserve *r, uint64_t fs_size);
/* 0 when need more bytes on fd's file system (fd -1: r->where's) leave the
 * reserve free; else -1, "WHAT would leave less than N MiB free on WHERE
 * (the store's reserve); refused". r NULL: 0. */
int img_reserve_check(const struct img_reserve *r, int fd, uint64_t need, const char *what,
		      struct cl_err *err);
/* A descriptor's declared size, before a byte of it is written:
 * "storing its N MiB would leave ...". fd: as img_reserve_check's. */
int img_reserve_declared(const struct img_reserve *r, int fd, uint64_t size, struct cl_err *err);
/* Bytes written in a stream, checked once per IMG_RESERVE_STEP (one
 * fstatvfs): budget is what the last check allowed and is not written yet. */
struct img_meter {
	const struct img_reserve *r;
	int fd;
	const char *what; /* "unpacking", "copying", "downloading" */
	uint64_t budget;
};
int img_meter_add(struct img_meter *m, uint64_t n, struct cl_err *err);

/* tar_extract.c: extract a tar stream beneath dirfd, never outside it. */
/* What a .wh. entry becomes: kept as a file (plain archives), applied to
 * the tree (flattening), or written as overlayfs whiteouts (a stored
 * layer, ready to be a read-only lower: char 0/0, trusted.overlay.opaque). */
enum tar_wh { WH_KEEP, WH_APPLY, WH_OVERLAY };
struct tar_limits {
	uint64_t max_entries, max_total, max_path;
	bool allow_devices;
	enum tar_wh whiteouts;
	/* kept free on dirfd's file system (where: the store's, set by the
	 * store's extractions only; a plain `image unpack DIR` checks none) */
	struct img_reserve reserve;
};
void tar_limits_default(struct tar_limits *l);
int tar_extract(struct stream *in, int dirfd, const struct tar_limits *l, struct cl_err *err);

/* image/fs.c: filesystem helpers that never follow symlinks. */
int img_rm_tree_at(int dirfd, const char *name, struct cl_err *err);
/* The directory rel beneath root (openat2 RESOLVE_BENEATH|NO_SYMLINKS),
 * created 0755 component by component when create is set. */
int img_open_dir_beneath(int root, const char *rel, bool create, struct cl_err *err);
/* A directory beneath root and all its ancestors, held open: the next
 * directory asked for is walked from the deepest one it shares (an
 * extraction's entries mostly share a parent, or one near it). Held: fd[i],
 * the first i components of path (path[end[i]] ends them), n of them.
 * Whoever holds one changes nothing above the directory last asked for
 * but its children: a held fd then always names what its path names. */
struct img_dirs {
	int root;
	size_t n;
	int fd[TAR_MAX_DEPTH + 1];
	size_t end[TAR_MAX_DEPTH + 1];
	char path[4096];
};
void img_dirs_init(struct img_dirs *d, int root);
/* As img_open_dir_beneath, but the fd is d's: valid until d's next call. */
int img_dirs_open(struct img_dirs *d, const char *rel, bool create, struct cl_err *err);
void img_dirs_close(struct img_dirs *d);
int img_rm_tree(const char *path, struct cl_err *err);
/* A regular file rel beneath dirfd (an archive's member, a store's blob,
 * an image's /etc/passwd), open for reading: no symlink anywhere (openat2
 * RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS), its type checked before it
 * is opened (a FIFO, a device, a directory are refused: one would hang,
 * the other read forever or act), O_NONBLOCK. *st is its stat. Errors
 * name rel. */
struct stat;
int img_open_file_at(int dirfd, const char *rel, struct stat *st, struct cl_err *err);
int img_open_file(const char *dir, const char *rel, struct stat *st, struct cl_err *err);
/* The inode fd holds (O_PATH: a device node, a FIFO, a file met in a walk)
 * given mode through its /proc/self/fd link, which names that inode, not
 * a path (fchmod refuses O_PATH fds; fchmodat2 needs Linux 6.6). Never a
 * symlink's fd: the caller checked its type. -1 and errno. */
int img_chmod_fd(int fd, mode_t mode);
/* path made 0700 if missing (its missing parents 0755): what host users
 * must not reach (a store's setuid files and device nodes). */
int img_mkdir_private(const char *path, struct cl_err *err);
/* An absolute path made clean ("/a/b": "." and empty components dropped)
 * into out; NULL for a relative one or one with a ".." component. */
const char *img_abs_clean(const char *in, char *out, size_t n);
/* Under (or equal to) /dev, /proc or /sys: the kernel's interfaces, that
 * an image must not shadow with a volume nor start in. The prefix, or NULL. */
const char *img_kernel_path(const char *clean);
/* snprintf for paths; store paths are short, a truncated one fails later
 * with the truncated name rather than aliasing silently. */
void img_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* image/blob.c: blobs copied into staging while their size and sha256
 * are checked against the descriptor. */
#define IMG_MAX_JSON (4 << 20)
bool img_digest_valid(const char *digest);
/* Copy dir/rel (img_open_file: beneath dir, a regular file) to dst
 * (O_EXCL; NULL: hash only); hex gets the sha256, *size the length; more
 * than limit bytes is an error, before reading when the file says so; so
 * is a copy that would eat into res (NULL: none). */
int img_copy_hash(const char *dir, const char *rel, const char *dst, uint64_t limit, char hex[65],
		  uint64_t *size, const struct img_reserve *res, struct cl_err *err);
/* fd's rest hashed, as img_copy_hash without a copy. */
int img_hash_fd(int fd, uint64_t limit, char hex[65], uint64_t *size, struct cl_err *err);
/* Verify and stage blob "sha256:HEX" of size from srcdir/blobs/sha256/HEX
 * to stage/blobs/HEX; refused unread when size would eat into res. */
int img_blob_stage(const char *srcdir, const char *stage, const char *digest, uint64_t size,
		   const struct img_reserve *res, struct cl_err *err);
/* dir/rel (img_open_file), at most limit bytes, NUL-terminated. */
char *img_slurp(const char *dir, const char *rel, size_t limit, size_t *len, struct cl_err *err);
/* path itself (a settings file: regular, not a symlink), at most limit
 * bytes, NUL-terminated; err->num is ENOENT when it is missing. */
char *img_slurp_path(const char *path, size_t limit, struct stat *st, size_t *len,
		     struct cl_err *err);
/* dir/rel as JSON (img_slurp, IMG_MAX_JSON at most). */
struct json_t;
struct json_t *img_load_json(const char *dir, const char *rel, struct cl_err *err);
int img_layer_comp(const char *media_type, enum stream_comp *c, struct cl_err *err);

/* image/source.c: what an archive holds, verified into stage/blobs. */
struct img_layer {
	char digest[72]; /* sha256:HEX of the blob as stored */
	char *media_type;
};
struct img_plan {
	char *ref;
	char manifest[72], config[72]; /* manifest "" for docker-archive */
	struct img_layer *layers;
	size_t nlayers;
	const struct img_reserve *reserve; /* in: kept free while blobs are staged */
};
/* The descriptor of index's manifests for linux/amd64 (tagged tag, if
 * given): no variant or v1 first, then v2, v3/v4. Borrowed from index. */
struct json_t *img_index_choose(struct json_t *index, const char *tag, struct cl_err *err);
int img_plan_build(const char *srcdir, const char *stage, const char *tag, struct img_plan *p,
		   struct cl_err *err);
void img_plan_free(struct img_plan *p);

/* What `image bundle` changes of the image's process and root, as the
 * flags of `docker run` do (a declared container's fields, from init). */
#define IMG_OVER_MAX	256
#define IMG_MAX_VOLUMES 32
struct img_over {
	const char *cmd[IMG_OVER_MAX], *entrypoint[IMG_OVER_MAX], *env[IMG_OVER_MAX];
	size_t ncmd, nentrypoint, nenv;
	bool has_cmd, has_entrypoint;
	const char *cwd, *user, *hostname, *cgroups_path;
	const char *upper;	/* overlay root with its upper layer here; NULL: see readonly */
	bool readonly;		/* root read-only (its upper, if not given, is DIR/scratch);
				 * neither: a flattened copy */
	bool host_net;		/* the host's network (and UTS) namespace */
	bool bridge_net;	/* its own, attached to the bridge wisp0 by hooks (cli/network.c) */
	const char *net_peer;	/* container:ID: ID's (image/netjoin.c); NULL: none */
	const char *state_root; /* the runtime's --root, where ID's state is */
	const char *publish[32]; /* its published ports, as given (net/port.c's syntax) */
	size_t npublish;
	const char *net_egress, *net_ingress; /* bridge: its bandwidth ("20mbit", net/rate.c) */
	uint32_t userns_base; /* --userns BASE: a user namespace, 0..65535 -> BASE..; 0: none */
	const char
	    *volume[IMG_MAX_VOLUMES]; /* --volume SRC:DST[:OPTS], docker's -v (image/host.c) */
	size_t nvolume;
	bool host_pid;		/* --pid host */
	bool privileged;	/* --privileged: every capability, no seccomp, no masks */
	bool has_oom_score_adj; /* --oom-score-adj given; else IMG_OOM_SCORE_ADJ */
	int oom_score_adj;
};
/* A bundle's process.oomScoreAdj unless --oom-score-adj: above every host
 * process (init's children run at -999), so that when the host runs out of
 * memory the kernel's OOM killer takes a container's process, whatever its
 * RSS (a tmpfs or memfd it filled is in no process's RSS), never sshd or
 * the console (docs/containerd-lite.md, "Memory and the OOM killer"). */
#define IMG_OOM_SCORE_ADJ 500
/* The size of the tmpfs an image Volume gets without an upper (a
 * read-only container's): docker's /dev/shm, as the spec's /dev and
 * /dev/shm; without it, each is half the host's memory. */
#define IMG_VOLUME_TMPFS "size=65536k"

/* image/source.c / image/store.c */
struct img_opts {
	const char *store, *name, *tag;
	const char *creds, *registries; /* pull: --creds, --registries (NULL: defaults) */
	const char *ca;			/* fetch: --ca (NULL: IMG_CA_DEFAULT) */
	struct tar_limits limits;
	struct img_over over;
	enum img_pull_policy {
		IMG_PULL_MISSING,
		IMG_PULL_ALWAYS,
		IMG_PULL_NEVER
	} pull;	   /* bundle */
	bool lazy; /* --no-unpack: blobs and record only, layers on first use */
	bool json; /* list --json: one JSON array instead of the table */
};
int img_store_lock(const char *store, struct cl_err *err);
/* Import src; *ref (malloc'd) and digest (manifest, or config for a
 * docker-archive) say what was stored. img_import prints "REF DIGEST". */
int img_import_one(const struct img_opts *o, const char *src, char **ref, char digest[72],
		   struct cl_err *err);
int img_import(const struct img_opts *o, const char *src, struct cl_err *err);
/* A staging directory STORE/tmp/KIND-XXXXXX with blobs/ and layers/,
 * locked while it lives (gc removes only unlocked ones): the lock's fd. */
int img_stage_open(const char *store, const char *kind, char stage[4096], struct cl_err *err);
void img_stage_close(const char *stage, int fd);
/* srcdir (an OCI layout or a docker-archive directory) into the store
 * through stage; a blob already in stage/blobs counts as verified. */
int img_import_from(const struct img_opts *o, const char *srcdir, const char *stage, char **ref,
		    char digest[72], struct cl_err *err);
/* image/importdir.c: import every archive of dir (the boot-time drop
 * directory); imported ones are removed, failed ones moved to dir/failed
 * with NAME.error beside them. One line per archive on stdout. */
int img_import_dir(const struct img_opts *o, const char *dir, struct cl_err *err);
int img_list(const struct img_opts *o, struct cl_err *err);
int img_inspect(const struct img_opts *o, const char *ref, struct cl_err *err);
int img_unpack(const struct img_opts *o, const char *ref, const char *dir, struct cl_err *err);
int img_rm(const struct img_opts *o, const char *ref, struct cl_err *err);
int img_gc(const struct img_opts *o, struct cl_err *err);

/* image/lookup.c: an image's record (a json_t, to json_decref), by REF: a
 * name before a digest prefix (docs/images.md, REF); key (or NULL) gets
 * its file's name in STORE/images. */
struct json_t;
struct json_t *img_lookup(const char *store, const char *ref, char key[80], struct cl_err *err);
struct json_t *img_record(const char *store, const char *ref, struct cl_err *err);
/* fn on each record of the store, until it returns non-zero. */
typedef int (*img_record_fn)(const char *key, struct json_t *rec, void *arg, struct cl_err *err);
int img_each_record(const char *store, img_record_fn fn, void *arg, struct cl_err *err);
/* The config digest of an image. */
int img_config_digest(const struct img_opts *o, const char *ref, char *out, size_t n,
		      struct cl_err *err);
/* image/layers.c: unpack the layers of ref missing from STORE/layers (a
 * lazy import, or a gc'd layer) from their blobs, re-hashed as they are
 * read, under the store lock; a layer is renamed into place only whole
 * and verified. Every user of STORE/layers calls it first. */
int img_ensure_layers(const struct img_opts *o, const char *ref, struct cl_err *err);
/* `image prepare REF`: img_ensure_layers, and a line saying what it did. */
int img_prepare(const struct img_opts *o, const char *ref, struct cl_err *err);

/* image/user.c */
int img_resolve_user(int root, const char *spec, uint32_t *uid, uint32_t *gid, struct cl_err *err);
/* The supplementary groups of a user given by name: the gids of the
 * image's /etc/group entries listing it (but primary), at most max. */
size_t img_user_groups(int root, const char *spec, uint32_t primary, uint32_t *gids, size_t max);
/* image/overlay.c: mount the image's stored layers as an overlay on rootfs,
 * with its upper and work directories in upper/. A mount left on rootfs
 * by an earlier run is detached first. */
int img_overlay_mount(const struct img_opts *o, const char *ref, const char *rootfs,
		      const char *upper, struct cl_err *err);
/* image/runtime.c: the image config's Labels, ExposedPorts and Volumes and
 * the overrides' network, hostname, cgroup and root mode, into spec. */
int img_bundle_runtime(struct json_t *spec, struct json_t *cfg, const struct img_over *ov, int root,
		       struct cl_err *err);
/* A volume's destination, clean, into out: absolute, no "..", not "/", nor
 * under /dev, /proc or /sys (unless REFUSED is NULL; else it ends the message). */
int img_volume_dest(const char *path, char *out, size_t n, const char *refused, struct cl_err *err);
/* A mount appended to spec's mounts (OPTS "a,b" its options); a namespace
 * of type taken out of lin. */
void img_add_mount(struct json_t *spec, const char *dest, const char *type, const char *src,
		   const char *opts);
void img_drop_namespace(struct json_t *lin, const char *type);
/* image/host.c: --volume, --pid host, --privileged into spec (the
 * bind sources checked and resolved, missing ones made). */
int img_host_spec(struct json_t *spec, const struct img_over *ov, struct cl_err *err);
/* DIR/stop-signal: the image's StopSignal, for the supervisor; none: no file. */
int img_stop_signal_write(const char *dir, struct json_t *cfg, struct cl_err *err);
/* image/userns.c: a container in a user namespace of its own (--userns
 * BASE): IMG_USERNS_SIZE ids from BASE. */
#define IMG_USERNS_SIZE 65536u
/* The spec's user namespace and mappings (nothing for base 0), and the
 * host's /sys bound for sysfs with the host's network. */
void img_userns_spec(struct json_t *spec, const struct img_over *ov);
/* image/netjoin.c: --network container:ID, ID's network (and user)
 * namespace and name files; ID must be running. */
int img_netjoin(struct json_t *spec, const struct img_over *ov, int root, struct cl_err *err);
/* A container's own directory (bundle, upper): 0710 root:base, or 0700
 * root:root for base 0. */
int img_userns_dir(const char *path, uint32_t base, struct cl_err *err);
/* path's parent searchable by everyone (g+x, o+x), not listable. */
int img_userns_traverse(const char *path, struct cl_err *err);
/* UPPER made (UPPER/upper too), its tree and volumes shifted into base's
 * range once, and the range recorded (UPPER/userns-base). */
int img_userns_upper(const char *upper, uint32_t base, struct cl_err *err);
/* A volume directory just made (host root's) given to the container's root. */
int img_userns_volume(const char *dir, uint32_t base, struct cl_err *err);
/* image/shift.c: owners in [from, from + IMG_USERNS_SIZE) of the tree at
 * path (itself included) moved to [to, ...); nothing else changes. */
int img_shift_tree(const char *path, uint32_t from, uint32_t to, struct cl_err *err);
/* image/bundle.c: an OCI bundle (rootfs + config.json) from an image. */
int img_bundle(const struct img_opts *o, const char *ref, const char *dir, struct cl_err *err);

/* cli/image.c: `containerd-lite image ...`, called from main.c */
/* STATE_ROOT: the runtime's --root, where --network container:ID finds ID. */
int cl_image_main(int argc, char **argv, const char *state_root);

#endif
