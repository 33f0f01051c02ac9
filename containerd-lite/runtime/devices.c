/* runtime/devices.c: the device policy as a cgroup BPF program. cgroup v2 has no
 * devices controller: the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup, as runc and crun do. The program is a
 * few instructions per rule, emitted here (no libbpf). It is attached by
 * the parent to the new cgroup before the container process enters it,
 * whether or not the bundle has linux.resources.devices: without rules,
 * only runc's default devices are allowed (as runc), or a container with
 * CAP_MKNOD (Docker's default set) could make and read the host's disks.
 * Its memory is charged to the memory cgroup on Linux >= 5.11, so
 * RLIMIT_MEMLOCK is left as it is. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ALL_ACCESS     (CL_DEV_MKNOD | CL_DEV_READ | CL_DEV_WRITE)
#define RULE_MAX_INSNS 7
#define ANY	       (-1)

/* runc's always-allowed devices, appended after the spec's rules (so
 * that a leading "deny all" keeps /dev/null usable), like runc and crun.
 * Not /dev/console (c 5:1): runc dropped it (a container with
 * CAP_MKNOD could make it and read the host's console). */
static const struct cl_dev_rule default_rules[] = {
    {true, 'c', ANY, ANY, CL_DEV_MKNOD}, {true, 'b', ANY, ANY, CL_DEV_MKNOD},
    {true, 'c', 1, 3, ALL_ACCESS},     /* null */
    {true, 'c', 1, 5, ALL_ACCESS},     /* zero */
    {true, 'c', 1, 7, ALL_ACCESS},     /* full */
    {true, 'c', 1, 8, ALL_ACCESS},     /* random */
    {true, 'c', 1, 9, ALL_ACCESS},     /* urandom */
    {true, 'c', 5, 0, ALL_ACCESS},     /* tty */
    {true, 'c', 5, 2, ALL_ACCESS},     /* ptmx */
    {true, 'c', 136, ANY, ALL_ACCESS}, /* pts */
};
#define NDEFAULT (sizeof(default_rules) / sizeof(default_rules[0]))

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return i;
}

/* Registers after the prologue: r2 type, r3 access, r4 major, r5 minor
 * (struct bpf_cgroup_dev_ctx: access_type = access << 16 | type). */
static size_t prologue(struct bpf_insn *p)
{
	p[0] = insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);
	p[1] = insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	p[2] = insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
	p[3] = insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	p[4] = insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
	p[5] = insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);
	return 6;
}

/* A rule without any test ("a *:* rwm") decides everything after it. */
static bool matches_all(const struct cl_dev_rule *r)
{
	return r->type == 'a' && (r->access & ALL_ACCESS) == ALL_ACCESS && r->major == ANY &&
	       r->minor == ANY;
}

/* One rule: each test that fails jumps past the rule's end; a rule that
 * matches returns its verdict. Jump offsets are patched once the rule's
 * length is known. */
static size_t emit_rule(struct bpf_insn *p, const struct cl_dev_rule *r)
{
	size_t n = 0, jumps[RULE_MAX_INSNS], nj = 0;

	if (r->type != 'a') {
		jumps[nj++] = n;
		p[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, 2, 0, 0,
			      r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	}
	if ((r->access & ALL_ACCESS) != ALL_ACCESS) {
		/* the asked access must be within the rule's */
		p[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0);
		p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, (int32_t)(~r->access & 0xffff));
		jumps[nj++] = n;
		p[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, 1, 0, 0, 0);
	}
	if (r->major != ANY) {
		jumps[nj++] = n;
		p[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->major);
	}
	if (r->minor != ANY) {
		jumps[nj++] = n;
		p[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->minor);
	}
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < nj; i++)
		p[jumps[i]].off = (int16_t)(n - jumps[i] - 1);
	return n;
}

/* The last matching rule decides (OCI order), so rules are emitted from
 * the last to the first and the first match returns; nothing matched:
 * denied. */
static struct bpf_insn *build(const struct cl_spec *s, size_t *len)
{
	const struct cl_resources *r = &s->res;
	size_t max = 8 + RULE_MAX_INSNS * (NDEFAULT + r->ndev_rules + s->ndevices), n;
	struct bpf_insn *p = calloc(max, sizeof(*p));

	if (!p)
		abort();
	n = prologue(p);
	for (size_t i = NDEFAULT; i-- > 0;)
		n += emit_rule(p + n, &default_rules[i]);
	/* linux.devices nodes are made for the container: allowed */
	for (size_t i = s->ndevices; i-- > 0;) {
		const struct cl_device *d = &s->devices[i];
		struct cl_dev_rule rule = {true, d->type == 'b' ? 'b' : 'c', d->major, d->minor,
					   ALL_ACCESS};
		if (d->type != 'p')
			n += emit_rule(p + n, &rule);
	}
	for (size_t i = r->ndev_rules; i-- > 0;) {
		n += emit_rule(p + n, &r->dev_rules[i]);
		/* the verifier refuses unreachable instructions */
		if (matches_all(&r->dev_rules[i])) {
			*len = n;
			return p;
		}
	}
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*len = n;
	return p;
}

static int load(const struct bpf_insn *prog, size_t len, struct cl_err *e)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = (uint32_t)len;
	a.license = (uint64_t)(uintptr_t) "Apache";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		return fd;
	/* again with the verifier's log, for its last line in the error */
	char log[4096] = "", *last;
	int err = errno;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		return fd;
	log[sizeof(log) - 1] = 0;
	while (log[0] && log[strlen(log) - 1] == '\n')
		log[strlen(log) - 1] = 0;
	last = strrchr(log, '\n');
	return cl_error(e, err, "cgroup: load device policy (BPF, %zu instructions, verifier: %s)",
			len, last ? last + 1 : log);
}

int cl_devices_attach(const char *cgroup, const struct cl_spec *s, struct cl_err *e)
{
	union bpf_attr a;
	size_t len;
	struct bpf_insn *prog;
	int pfd, cfd, ret = 0;

	prog = build(s, &len);
	pfd = load(prog, len, e);
	free(prog);
	if (pfd < 0)
		return -1;
	cfd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		close(pfd);
		return cl_error(e, errno, "cgroup: open %s", cgroup);
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	/* beside whatever the parent cgroups hold: all of them must allow */
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		ret = cl_error(e, errno, "cgroup: attach device policy to %s", cgroup);
	/* the attachment holds the program until the cgroup goes */
	close(cfd);
	close(pfd);
	return ret;
}
