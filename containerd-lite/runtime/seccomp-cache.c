/* runtime/seccomp-cache.c: compiled seccomp filters kept under the state root.
 * libseccomp's rule database and compiler are about half of the CPU time
 * of `run` with Docker's profile; the same profile yields the same BPF
 * program, so it is compiled once and kept in ROOT/.seccomp@/ (a name no container id can take). A
 * cache file holds the whole key (the decoded profile, libseccomp's version, its kernel API level,
 * the kernel release, and the build-id of this containerd-lite, so that a newer one that compiles
 * a profile differently never runs an older one's program) before the program, and is used only
 * when that key matches byte for byte: a hash collision can only cost a compile. Files are written
 * whole and renamed into place. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put_u64(struct buf *b, uint64_t v)
{
	put(b, &v, sizeof(v));
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

/* The executable's GNU build-id note (linked with --build-id), appended to B after its length (the
 * key's layout stays unambiguous); none: nothing. */
static int put_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr),
			   *end = p + ph->p_memsz;

		while (ph->p_type == PT_NOTE && p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const void *)p;
			const char *name = p + sizeof(*n), *desc = name + ((n->n_namesz + 3) & ~3u);

			if (desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    !memcmp(name, "GNU", 4)) {
				put_u64(data, n->n_descsz);
				put(data, desc, n->n_descsz);
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the first object is the executable */
}

/* Everything the compiled program depends on, in a fixed layout. */
static void make_key(const struct cl_seccomp *sc, struct buf *b)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname u;

	put_str(b, "containerd-lite seccomp cache 2");
	dl_iterate_phdr(put_build_id, b);
	put_u64(b, ((uint64_t)v->major << 32) | (v->minor << 16) | v->micro);
	put_u64(b, seccomp_api_get());
	if (uname(&u) == 0)
		put_str(b, u.release);
	put_u64(b, sc->default_action);
	put_u64(b, sc->flags);
	put_u64(b, sc->arches.n);
	for (size_t i = 0; i < sc->arches.n; i++)
		put_str(b, sc->arches.v[i]);
	put_u64(b, sc->nrules);
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct cl_sc_rule *r = &sc->rules[i];
		put_u64(b, r->action);
		put_u64(b, r->nargs);
		for (size_t j = 0; j < r->nargs; j++) {
			put_u64(b, r->args[j].index);
			put_u64(b, (uint64_t)r->args[j].op);
			put_u64(b, r->args[j].value);
			put_u64(b, r->args[j].value2);
		}
		put_u64(b, r->names.n);
		for (size_t j = 0; j < r->names.n; j++)
			put_str(b, r->names.v[j]);
	}
}

static char *cache_path(const char *dir, const struct buf *key)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	char name[64];

	for (size_t i = 0; i < key->n; i++)
		h = (h ^ (unsigned char)key->p[i]) * 1099511628211ull;
	snprintf(name, sizeof(name), ".seccomp@/%016llx", (unsigned long long)h);
	return cl_path_join(dir, name);
}

/* The program of a cache file whose key is KEY, or NULL. */
static void *cache_read(const char *path, const struct buf *key, size_t *len)
{
	char *text = NULL, *prog = NULL;
	size_t n = 0;
	struct cl_err e;

	if (cl_read_file(path, &text, &n, &e) < 0)
		return NULL;
	if (n > key->n && memcmp(text, key->p, key->n) == 0 && (n - key->n) % 8 == 0) {
		*len = n - key->n;
		prog = malloc(*len);
		if (!prog)
			abort();
		memcpy(prog, text + key->n, *len);
	}
	free(text);
	return prog;
}

/* Best effort: a cache that cannot be written only costs time. */
static void cache_write(const char *dir, const char *path, const struct buf *key, const void *prog,
			size_t len)
{
	char *sub = cl_path_join(dir, ".seccomp@"), tmp[4096];
	int fd;

	mkdir(sub, 0700);
	free(sub);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write_all(fd, key->p, key->n) == 0 && write_all(fd, prog, len) == 0;
	if (close(fd) < 0 || !ok || rename(tmp, path) < 0)
		unlink(tmp);
}

void *cl_seccomp_cache_get(const struct cl_seccomp *sc, const char *dir, size_t *len,
			   char **path_out, void **key_out, size_t *key_len)
{
	struct buf key = {0};
	char *path;
	void *prog;

	make_key(sc, &key);
	path = cache_path(dir, &key);
	prog = cache_read(path, &key, len);
	if (prog) {
		free(path);
		free(key.p);
		return prog;
	}
	*path_out = path;
	*key_out = key.p;
	*key_len = key.n;
	return NULL;
}

void cl_seccomp_cache_put(const char *dir, const char *path, const void *key, size_t key_len,
			  const void *prog, size_t len)
{
	struct buf k = {.p = (char *)key, .n = key_len, .cap = key_len};

	cache_write(dir, path, &k, prog, len);
}
