/* runtime/seccomp.c: linux.seccomp through libseccomp. The filter is built (or
 * taken from seccomp-cache.c) in the parent, so that a bad profile fails before anything exists,
 * and loaded by the container process. */
#include "cl-private.h"
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int cl_seccomp_action(const char *name, uint32_t errno_ret, uint32_t *out)
{
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO(errno_ret);
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE(errno_ret);
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else
		return -1; /* SCMP_ACT_NOTIFY needs a listener socket: not yet */
	return 0;
}

int cl_seccomp_op(const char *name)
{
	static const char *const ops[] = {"",
					  "SCMP_CMP_NE",
					  "SCMP_CMP_LT",
					  "SCMP_CMP_LE",
					  "SCMP_CMP_EQ",
					  "SCMP_CMP_GE",
					  "SCMP_CMP_GT",
					  "SCMP_CMP_MASKED_EQ"};

	for (int i = 1; i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		if (strcmp(name, ops[i]) == 0)
			return i; /* enum scmp_compare has the same order */
	return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static uint32_t arch_token(const char *name)
{
	char low[64];
	size_t i;

	if (strncmp(name, "SCMP_ARCH_", 10) == 0)
		name += 10;
	for (i = 0; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = 0;
	return seccomp_arch_resolve_name(low);
}

static int add_arches(scmp_filter_ctx ctx, const struct cl_seccomp *sc, struct cl_err *e)
{
	for (size_t i = 0; i < sc->arches.n; i++) {
		uint32_t a = arch_token(sc->arches.v[i]);
		int r;

		if (a == 0)
			return cl_error(e, 0, "seccomp: unknown architecture %s", sc->arches.v[i]);
		r = seccomp_arch_add(ctx, a);
		if (r < 0 && r != -EEXIST)
			return cl_error(e, -r, "seccomp: add architecture %s", sc->arches.v[i]);
	}
	return 0;
}

/* True when two conditions test the same argument: libseccomp ANDs a
 * rule's conditions and refuses one argument twice (EINVAL). */
static bool repeats_index(const struct cl_sc_rule *r)
{
	unsigned seen = 0;

	for (size_t i = 0; i < r->nargs; i++) {
		if (seen & (1u << r->args[i].index))
			return true;
		seen |= 1u << r->args[i].index;
	}
	return false;
}

/* Conditions on distinct arguments are one rule (all must hold); where an
 * argument repeats, as in `personality` with 0, 8 or 0xffffffff, each
 * condition is a rule of its own (any may hold): runc's and crun's reading,
 * which profiles written for them rely on. */
static int add_conditions(scmp_filter_ctx ctx, const struct cl_sc_rule *r, int nr,
			  const struct scmp_arg_cmp *cmp)
{
	if (!repeats_index(r))
		return seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, cmp);
	for (size_t i = 0; i < r->nargs; i++) {
		int ret = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct cl_seccomp *sc, const struct cl_sc_rule *r,
		    struct cl_err *e)
{
	struct scmp_arg_cmp cmp[6];

	if (r->nargs > 6)
		return cl_error(e, 0, "seccomp: more than 6 argument conditions");
	for (size_t i = 0; i < r->nargs; i++)
		cmp[i] = (struct scmp_arg_cmp){r->args[i].index, (enum scmp_compare)r->args[i].op,
					       r->args[i].value, r->args[i].value2};
	for (size_t i = 0; i < r->names.n; i++) {
		int nr = seccomp_syscall_resolve_name(r->names.v[i]);
		int ret;

		/* Like runc and crun: names this kernel or libseccomp does not
		 * know are skipped, so one profile serves many kernels. */
		if (nr == __NR_SCMP_ERROR || r->action == sc->default_action)
			continue;
		ret = add_conditions(ctx, r, nr, cmp);
		if (ret < 0)
			return cl_error(e, -ret, "seccomp: add rule for %s", r->names.v[i]);
	}
	return 0;
}

static scmp_filter_ctx compile_ctx(const struct cl_seccomp *sc, struct cl_err *e)
{
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);

	if (!ctx) {
		cl_error(e, EINVAL, "seccomp: init");
		return NULL;
	}
	/* no_new_privs is process.noNewPrivileges' business, not libseccomp's */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    ((sc->flags & CL_SC_FLAG_LOG) && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1) < 0) ||
	    ((sc->flags & CL_SC_FLAG_SPEC_ALLOW) &&
	     seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1) < 0) ||
	    add_arches(ctx, sc, e) < 0)
		goto fail;
	for (size_t i = 0; i < sc->nrules; i++)
		if (add_rule(ctx, sc, &sc->rules[i], e) < 0)
			goto fail;
	return ctx;
fail:
	if (!e->msg[0])
		cl_error(e, EINVAL, "seccomp: set attributes");
	seccomp_release(ctx);
	return NULL;
}

/* libseccomp's BPF program, through a memfd (its only export is to a fd). */
static void *export_prog(scmp_filter_ctx ctx, size_t *len, struct cl_err *e)
{
	int fd = memfd_create("seccomp", MFD_CLOEXEC), r;
	void *prog = NULL;
	off_t n;

	if (fd < 0) {
		cl_error(e, errno, "seccomp: memfd_create");
		return NULL;
	}
	r = seccomp_export_bpf(ctx, fd);
	n = lseek(fd, 0, SEEK_END);
	if (r < 0 || n <= 0 || n % 8) {
		cl_error(e, r < 0 ? -r : EINVAL, "seccomp: compile the filter");
	} else {
		prog = malloc((size_t)n);
		if (!prog)
			abort();
		if (pread(fd, prog, (size_t)n, 0) != n) {
			cl_error(e, errno, "seccomp: read the compiled filter");
			free(prog);
			prog = NULL;
		}
		*len = (size_t)n;
	}
	close(fd);
	return prog;
}

static void *compile(const struct cl_seccomp *sc, size_t *len, struct cl_err *e)
{
	scmp_filter_ctx ctx = compile_ctx(sc, e);
	void *prog;

	if (!ctx)
		return NULL;
	prog = export_prog(ctx, len, e);
	seccomp_release(ctx);
	return prog;
}

struct sc_prog {
	struct sock_fprog fprog;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* */
};

/* The filter as a BPF program, compiled by libseccomp or taken from the
 * cache in CACHE_DIR (NULL: no cache). */
void *cl_seccomp_build(const struct cl_spec *s, const char *cache_dir, struct cl_err *e)
{
	const struct cl_seccomp *sc = s->seccomp;
	char *path = NULL;
	void *key = NULL, *prog = NULL;
	size_t len = 0, key_len = 0;
	struct sc_prog *p;

	e->msg[0] = 0;
	if (!sc)
		return NULL;
	if (cache_dir)
		prog = cl_seccomp_cache_get(sc, cache_dir, &len, &path, &key, &key_len);
	if (!prog) {
		prog = compile(sc, &len, e);
		if (prog && path)
			cl_seccomp_cache_put(cache_dir, path, key, key_len, prog, len);
	}
	free(path);
	free(key);
	if (!prog)
		return NULL;
	if (len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		/* fprog.len is 16 bits: never load a truncated program */
		free(prog);
		cl_error(e, E2BIG, "seccomp: the filter has %zu instructions (at most %d)",
			 len / sizeof(struct sock_filter), BPF_MAXINSNS);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->fprog.len = (unsigned short)(len / sizeof(struct sock_filter));
	p->fprog.filter = prog;
	p->flags = ((sc->flags & CL_SC_FLAG_LOG) ? SECCOMP_FILTER_FLAG_LOG : 0) |
		   ((sc->flags & CL_SC_FLAG_SPEC_ALLOW) ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
	return p;
}

int cl_seccomp_load(void *prog, struct cl_err *e)
{
	struct sc_prog *p = prog;

	if (!p)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &p->fprog) < 0)
		return cl_error(e, errno, "load the seccomp filter");
	return 0;
}

void cl_seccomp_free(void *prog)
{
	struct sc_prog *p = prog;

	if (p) {
		free(p->fprog.filter);
		free(p);
	}
}
