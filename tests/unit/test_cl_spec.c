/* test_cl_spec.c: the config.json decoder of containerd-lite: what it
 * takes, and the exact one-line error for what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "containerd-lite.h"
#include "runtime/cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* A small valid document; %s is spliced in at the top level. */
#define DOC(extra)                                                                                 \
	"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "                           \
	"\"process\": {\"args\": [\"sh\"]}" extra "}"

static struct cl_spec *parse_ok(const char *json)
{
	struct cl_spec *s = NULL;
	struct cl_err e = {0};

	if (cl_spec_parse(json, strlen(json), "/bundle", &s, &e) < 0)
		fail_msg("unexpected error: %s", e.msg);
	return s;
}

static void expect_error(const char *json, const char *msg)
{
	struct cl_spec *s = NULL;
	struct cl_err e = {0};

	assert_int_equal(cl_spec_parse(json, strlen(json), "/bundle", &s, &e), -1);
	assert_null(s);
	assert_string_equal(e.msg, msg);
}

static void test_minimal(void **state)
{
	struct cl_spec *s = parse_ok(DOC(""));

	(void)state;
	assert_string_equal(s->root_path, "/bundle/rootfs");
	assert_int_equal(s->args.n, 1);
	assert_string_equal(s->args.v[0], "sh");
	assert_null(s->args.v[1]); /* argv for execve */
	assert_string_equal(s->cwd, "/");
	assert_int_equal(s->umask, 022);
	assert_false(s->no_new_privs);
	assert_null(s->seccomp);
	assert_int_equal(s->nns, 0);
	cl_spec_free(s);
}

static void test_process(void **state)
{
	struct cl_spec *s = parse_ok(
	    "{\"root\": {\"path\": \"/abs\", \"readonly\": true}, \"hostname\": \"h\","
	    "\"process\": {\"args\": [\"a\", \"b\"], \"env\": [\"X=1\"], \"cwd\": \"/w\","
	    "\"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 63, \"additionalGids\": [5, 6]},"
	    "\"noNewPrivileges\": true, \"oomScoreAdj\": -500,"
	    "\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"ambient\": "
	    "[\"CAP_NET_RAW\"]},"
	    "\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": "
	    "18446744073709551615}]}}");

	(void)state;
	assert_string_equal(s->root_path, "/abs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "h");
	assert_string_equal(s->env.v[0], "X=1");
	assert_string_equal(s->cwd, "/w");
	assert_int_equal(s->uid, 1000);
	assert_int_equal(s->gid, 100);
	assert_int_equal(s->umask, 077);
	assert_int_equal(s->nadd_gids, 2);
	assert_int_equal(s->add_gids[1], 6);
	assert_true(s->no_new_privs);
	assert_true(s->has_oom_score_adj);
	assert_int_equal(s->oom_score_adj, -500);
	assert_int_equal(s->caps[0], (1ULL << 5) | (1ULL << 0));
	assert_int_equal(s->caps[4], 1ULL << 13);
	assert_int_equal(s->nrlimits, 1);
	assert_int_equal(s->rlimits[0].type, RLIMIT_NOFILE);
	assert_int_equal(s->rlimits[0].soft, 10);
	assert_true(s->rlimits[0].hard == UINT64_MAX);
	cl_spec_free(s);
}

static void test_mounts(void **state)
{
	struct cl_spec *s = parse_ok(DOC(
	    ", \"mounts\": [{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": "
	    "\"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
	    "{\"destination\": \"/data\", \"source\": \"/srv\", \"options\": [\"rbind\", \"ro\", "
	    "\"rslave\"]},"
	    "{\"destination\": \"/host\", \"source\": \"/\", \"options\": [\"rro\", \"rbind\", "
	    "\"rw\"]}]"));
	const struct cl_mount *m;

	(void)state;
	assert_int_equal(s->nmounts, 3);
	m = &s->mounts[0];
	assert_int_equal(m->flags, MS_NOSUID | MS_STRICTATIME);
	assert_string_equal(m->data, "mode=755,size=65536k");
	assert_false(m->bind);
	m = &s->mounts[1];
	assert_true(m->bind);
	assert_int_equal(m->flags, MS_BIND | MS_REC | MS_RDONLY);
	assert_int_equal(m->propagate, MS_SLAVE | MS_REC);
	assert_null(m->data);
	assert_false(m->rro);
	/* rro: read-only all the way down, whatever "rw" comes after it */
	m = &s->mounts[2];
	assert_true(m->rro);
	assert_int_equal(m->flags, MS_BIND | MS_REC | MS_RDONLY);
	assert_null(m->data);
	cl_spec_free(s);
}

static void test_linux(void **state)
{
	struct cl_spec *s = parse_ok(DOC(
	    ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"user\"}, "
	    "{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}],"
	    "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
	    "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
	    "\"cgroupsPath\": \"/a/b\", \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
	    "\"resources\": {\"memory\": {\"limit\": 1048576, \"swap\": -1}, \"cpu\": "
	    "{\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\"},"
	    "\"pids\": {\"limit\": 64}, \"blockIO\": {\"weight\": 500}, \"unified\": "
	    "{\"io.max\": \"8:0 rbps=1\"}, \"devices\": [{\"allow\": false, \"access\": "
	    "\"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 1, \"access\": \"rw\"}]},"
	    "\"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
	    "\"rootfsPropagation\": \"rslave\", \"devices\": [{\"path\": \"/dev/fuse\", \"type\": "
	    "\"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438, \"gid\": 5}]}"));

	(void)state;
	assert_int_equal(s->nns, 3);
	assert_int_equal(s->ns_flags, CLONE_NEWPID | CLONE_NEWUSER);
	assert_string_equal(s->ns[2].path, "/proc/1/ns/net");
	assert_int_equal(s->uid_maps[0].host, 100000);
	assert_int_equal(s->gid_maps[0].size, 65536);
	assert_string_equal(s->cgroups_path, "/a/b");
	assert_string_equal(s->sysctl.v[0], "net.ipv4.ip_forward");
	assert_string_equal(s->sysctl.v[1], "1");
	assert_true(s->has_resources);
	assert_int_equal(s->res.mem_limit, 1048576);
	assert_int_equal(s->res.mem_swap, -1);
	assert_int_equal(s->res.mem_reservation, -2); /* unset */
	assert_int_equal(s->res.cpu_shares, 1024);
	assert_int_equal(s->res.cpu_quota, 50000);
	assert_string_equal(s->res.cpus, "0-1");
	assert_int_equal(s->res.pids_limit, 64);
	assert_int_equal(s->res.blkio_weight, 500);
	assert_string_equal(s->res.unified.v[1], "8:0 rbps=1");
	assert_true(s->res.has_dev_rules);
	assert_int_equal(s->res.ndev_rules, 2);
	assert_false(s->res.dev_rules[0].allow);
	assert_int_equal(s->res.dev_rules[0].type, 'a');
	assert_int_equal(s->res.dev_rules[0].major, -1);
	assert_int_equal(s->res.dev_rules[0].access, CL_DEV_MKNOD | CL_DEV_READ | CL_DEV_WRITE);
	assert_true(s->res.dev_rules[1].allow);
	assert_int_equal(s->res.dev_rules[1].type, 'c');
	assert_int_equal(s->res.dev_rules[1].major, 1);
	assert_int_equal(s->res.dev_rules[1].minor, -1);
	assert_int_equal(s->res.dev_rules[1].access, CL_DEV_READ | CL_DEV_WRITE);
	assert_string_equal(s->masked.v[0], "/proc/kcore");
	assert_int_equal(s->rootfs_propagation, MS_SLAVE | MS_REC);
	assert_int_equal(s->ndevices, 1);
	assert_string_equal(s->devices[0].path, "/dev/fuse");
	assert_int_equal(s->devices[0].type, 'c');
	assert_int_equal(s->devices[0].major, 10);
	assert_int_equal(s->devices[0].minor, 229);
	assert_int_equal(s->devices[0].mode, 0666);
	assert_int_equal(s->devices[0].gid, 5);
	cl_spec_free(s);
}

/* The namespaces' owner (image/netjoin.c) and the paths' fds, not opened before create. */
static void test_ns_owner(void **state)
{
	struct cl_spec *s = parse_ok(DOC(", \"annotations\": {\"org.wisp.ns-owner\": "
					 "\"123456789 1234567890123456789\"},"
					 "\"linux\": {\"namespaces\": [{\"type\": \"network\", "
					 "\"path\": \"/proc/123456789/ns/net\"}]}"));

	(void)state;
	assert_int_equal(s->ns_owner, 123456789);
	assert_true(s->ns_owner_start == 1234567890123456789ull);
	assert_int_equal(s->ns[0].fd, -1);
	cl_spec_free(s);
	s = parse_ok(DOC(""));
	assert_int_equal(s->ns_owner, 0);
	cl_spec_free(s);
}

static void test_seccomp_and_hooks(void **state)
{
	struct cl_spec *s = parse_ok(DOC(
	    ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", "
	    "\"defaultErrnoRet\": 38, \"architectures\": [\"SCMP_ARCH_X86_64\"], \"flags\": "
	    "[\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_TSYNC\"],"
	    "\"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	    "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
	    "\"value\": 40, \"op\": \"SCMP_CMP_NE\"}]}]}},"
	    "\"hooks\": {\"poststop\": [{\"path\": \"/bin/true\", \"args\": [\"true\"], "
	    "\"timeout\": 5}]}"));

	(void)state;
	assert_non_null(s->seccomp);
	assert_int_equal(s->seccomp->nrules, 2);
	assert_int_equal(s->seccomp->flags, CL_SC_FLAG_LOG);
	assert_int_equal(s->seccomp->rules[0].names.n, 2);
	assert_int_equal(s->seccomp->rules[1].nargs, 1);
	assert_int_equal(s->seccomp->rules[1].args[0].value, 40);
	assert_int_equal(s->nhooks[CL_HOOK_POSTSTOP], 1);
	assert_int_equal(s->hooks[CL_HOOK_POSTSTOP][0].timeout, 5);
	assert_string_equal(s->hooks[CL_HOOK_POSTSTOP][0].path, "/bin/true");
	cl_spec_free(s);
}

/* What `spec` writes must decode, with Docker's defaults. */
static void test_default_spec(void **state)
{
	char *text = cl_spec_default();
	struct cl_spec *s;

	(void)state;
	assert_non_null(text);
	s = parse_ok(text);
	assert_int_equal(__builtin_popcountll(s->caps[0]), 14);
	assert_int_equal(s->caps[0], s->caps[1]);
	assert_true(s->no_new_privs);
	assert_true(s->root_readonly);
	assert_non_null(s->seccomp);
	assert_true(s->seccomp->nrules > 5);
	assert_int_equal(s->ns_flags, CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
					  CLONE_NEWNS | CLONE_NEWCGROUP);
	assert_int_equal(s->masked.n, 11); /* runc's 10 and powercap */
	assert_int_equal(s->readonly.n, 5);
	assert_int_equal(s->nmounts, 7);
	/* runc's device rules: deny all (the runtime adds its defaults) */
	assert_int_equal(s->res.ndev_rules, 1);
	assert_false(s->res.dev_rules[0].allow);
	assert_int_equal(s->res.dev_rules[0].type, 'a');
	assert_int_equal(s->res.dev_rules[0].access, CL_DEV_MKNOD | CL_DEV_READ | CL_DEV_WRITE);
	/* and libseccomp takes its profile (names it does not know are skipped) */
	{
		struct cl_err e = {0};
		void *ctx = cl_seccomp_build(s, NULL, &e);
		assert_non_null(ctx);
		cl_seccomp_free(ctx);
	}
	cl_spec_free(s);
	free(text);
}

/* How many rules of SC allow NAME (with or without argument conditions). */
static size_t allow_rules(const struct cl_seccomp *sc, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->nrules; i++)
		for (size_t j = 0; j < sc->rules[i].names.n; j++)
			if (sc->rules[i].action == SCMP_ACT_ALLOW &&
			    strcmp(sc->rules[i].names.v[j], name) == 0)
				n++;
	return n;
}

/* The seccomp part of `spec`'s default (compared with moby's whole profile
 * by tests/containerd-lite/seccomp_moby.py): EPERM by default, io_uring
 * and the escape syscalls denied, socket by three family ranges. */
static void test_default_seccomp(void **state)
{
	static const char *const denied[] = {"io_uring_setup",
					     "io_uring_enter",
					     "io_uring_register",
					     "keyctl",
					     "bpf",
					     "perf_event_open",
					     "unshare",
					     "setns",
					     "mount",
					     "ptrace",
					     "open_by_handle_at"};
	char *text = cl_spec_default();
	struct cl_spec *s;

	(void)state;
	s = parse_ok(text);
	assert_int_equal(s->seccomp->default_action, SCMP_ACT_ERRNO(EPERM));
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		assert_int_equal(allow_rules(s->seccomp, denied[i]), 0);
	assert_int_equal(allow_rules(s->seccomp, "read"), 1);
	assert_int_equal(allow_rules(s->seccomp, "socket"), 3);
	assert_int_equal(allow_rules(s->seccomp, "personality"), 5);
	cl_spec_free(s);
	free(text);
}

#define OWNER_BAD "config.json: .annotations[\"org.wisp.ns-owner\"]: not \"PID START\""

static void test_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
	    {"[]", "config.json: expected an object at the top"},
	    /* jansson quotes the token, a newline with it: still one line (fuzz_cl_spec) */
	    {"{ \"root\": {\"p\\\n", "config.json: line 2 column 0: invalid escape near '\"p\\?'"},
	    {"{\"a\": 1, \"a\": 2}",
	     "config.json: line 1 column 12: duplicate object key near '\"a\"'"},
	    {"{\"root\": {\"path\": \"r\"}}", "config.json: .process: missing"},
	    {"{\"process\": {\"args\": [\"sh\"]}}", "config.json: .root: missing"},
	    {DOC(", \"hostname\": 5"), "config.json: .hostname: expected a string"},
	    /* org.wisp.ns-owner: "PID START", digits, neither 0 (image/netjoin.c) */
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": 5}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12 \"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \" 12 34\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12  34\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"0 34\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12 0\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"-1 34\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12 34 \"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"1234567890 34\"}"), OWNER_BAD},
	    {DOC(", \"annotations\": {\"org.wisp.ns-owner\": \"12 x\"}"), OWNER_BAD},

	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": \"sh\"}}",
	     "config.json: .process.args: expected an array of strings"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\", 1]}}",
	     "config.json: .process.args: expected an array of strings"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": []}}",
	     "config.json: .process.args: must name a program"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"cwd\": \"w\"}}",
	     "config.json: .process.cwd: w is not absolute"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": "
	     "-1}}}",
	     "config.json: .process.user.uid: -1 out of range [0, 4294967295]"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"rlimits\": "
	     "[{\"type\": \"RLIMIT_BOGUS\"}]}}",
	     "config.json: .process.rlimits[0].type: unknown rlimit RLIMIT_BOGUS"},
	    {DOC(", \"mounts\": [{\"destination\": \"rel\", \"type\": \"tmpfs\"}]"),
	     "config.json: .mounts[0].destination: must be an absolute path"},
	    {DOC(", \"mounts\": [{\"destination\": \"/x\"}]"),
	     "config.json: .mounts[0].type: missing for a mount that is not a bind"},
	    {DOC(", \"mounts\": [5]"), "config.json: .mounts[0]: expected an object"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"bogus\"}]}"),
	     "config.json: .linux.namespaces[1].type: unknown namespace type bogus"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}"),
	     "config.json: .linux.namespaces[1].type: namespace pid listed twice"},
	    {DOC(", \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": "
		 "1}]}"),
	     "config.json: .linux.uidMappings: given without a new user namespace"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}"),
	     "config.json: .linux.uidMappings: a new user namespace needs uid and gid mappings"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": "
		 "[{\"containerID\": 0, \"size\": 1}]}"),
	     "config.json: .linux.uidMappings[0]: needs containerID, hostID and size"},
	    {DOC(", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOPE\"}}"),
	     "config.json: .linux.seccomp.defaultAction: unknown action SCMP_ACT_NOPE"},
	    {DOC(", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
		 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": "
		 "9, "
		 "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}"),
	     "config.json: .linux.seccomp.syscalls[0].args[0]: 9 out of range [0, 5]"},
	    {DOC(", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}"),
	     "config.json: .linux.resources.memory.limit: expected an integer"},
	    {DOC(", \"linux\": {\"resources\": {\"devices\": [{\"access\": \"rx\"}]}}"),
	     "config.json: .linux.resources.devices[0].access: expected letters of rwm"},
	    {DOC(", \"linux\": {\"resources\": {\"devices\": [{\"type\": \"p\"}]}}"),
	     "config.json: .linux.resources.devices[0].type: expected a, c or b"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"time\"}], \"timeOffsets\": "
		 "{\"realtime\": {\"secs\": 1}}}"),
	     "config.json: .linux.timeOffsets.realtime: unknown clock (monotonic or boottime)"},
	    {DOC(", \"linux\": {\"namespaces\": [{\"type\": \"time\"}], \"timeOffsets\": "
		 "{\"boottime\": {\"secs\": 1, \"nanosecs\": 1000000000}}}"),
	     "config.json: .linux.timeOffsets.boottime: 1000000000 out of range [0, 999999999]"},
	    {DOC(", \"linux\": {\"timeOffsets\": {\"boottime\": {\"secs\": 1}}}"),
	     "config.json: .linux.timeOffsets: given without a new time namespace"},
	    {DOC(", \"mounts\": [{\"destination\": \"/m\", \"type\": \"tmpfs\", \"uidMappings\": "
		 "[{\"containerID\": 0, \"hostID\": 1, \"size\": 1}], \"gidMappings\": "
		 "[{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}]"),
	     "config.json: .mounts[0]: idmapped mounts are bind mounts only"},
	    {DOC(", \"mounts\": [{\"destination\": \"/m\", \"type\": \"bind\", \"source\": "
		 "\"/s\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}]"),
	     "config.json: .mounts[0]: an idmapped mount needs uidMappings and gidMappings"},
	    {DOC(", \"linux\": {\"rootfsPropagation\": \"sideways\"}"),
	     "config.json: .linux.rootfsPropagation: unknown value sideways"},
	    {DOC(", \"hooks\": {\"prestart\": [{\"path\": \"rel\"}]}"),
	     "config.json: .hooks.prestart[0].path: must be an absolute path"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": "
	     "1.5}}}",
	     "config.json: .process.user.uid: expected an integer"},
	    /* a big integer elsewhere switches to doubles: still exact errors */
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": "
	     "1.5}, "
	     "\"rlimits\": [{\"type\": \"RLIMIT_CPU\", \"hard\": 18446744073709551615}]}}",
	     "config.json: .process.user.uid: expected an integer"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"user\": {\"gid\": "
	     "5e9}, "
	     "\"rlimits\": [{\"type\": \"RLIMIT_CPU\", \"hard\": 18446744073709551615}]}}",
	     "config.json: .process.user.gid: 5000000000 out of range [0, 4294967295]"},
	    {DOC(", \"process\": 1"),
	     "config.json: line 1 column 90: duplicate object key near "
	     "'\"process\"'"}, /* documented refusals (docs/containerd-lite.md): unsupported, never
				  ignored */
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], "
	     "\"apparmorProfile\": \"docker-default\"}}",
	     "config.json: .process.apparmorProfile: docker-default: not supported (no LSM)"},
	    {"{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], "
	     "\"selinuxLabel\": \"system_u:system_r:svirt_lxc_net_t:s0\"}}",
	     "config.json: .process.selinuxLabel: system_u:system_r:svirt_lxc_net_t:s0: not "
	     "supported (no LSM)"},
	    {DOC(", \"linux\": {\"resources\": {\"network\": {\"priorities\": [{\"name\": "
		 "\"eth0\", \"priority\": 5}]}}}"),
	     "config.json: .linux.resources.network: net_cls and net_prio are cgroup v1 "
	     "controllers, absent in cgroup v2"},
	    {DOC(", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}"),
	     "config.json: .linux.seccomp.defaultAction: SCMP_ACT_NOTIFY: not supported"},
	    {DOC(", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
		 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}}"),
	     "config.json: .linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY: not supported"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].json, cases[i].msg);
}

/* `state` prints runc's fields in runc's order; a stopped container has pid 0. */
static void test_state_json(void **state)
{
	struct cl_state st = {.oci_version = "1.0.2",
			      .id = "c1",
			      .bundle = "/b",
			      .rootfs = "/b/rootfs",
			      .created = "2026-01-01T00:00:00.000000001Z",
			      .owner = "",
			      .annotations_json = "{\"k\":\"v\"}",
			      .pid = 42,
			      .status = CL_STOPPED};
	char *text = cl_state_json(&st);

	(void)state;
	assert_string_equal(text,
			    "{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"c1\",\n  \"pid\": 0,\n"
			    "  \"status\": \"stopped\",\n  \"bundle\": \"/b\",\n  \"rootfs\": "
			    "\"/b/rootfs\",\n  \"created\": \"2026-01-01T00:00:00.000000001Z\",\n"
			    "  \"owner\": \"\",\n  \"annotations\": {\n    \"k\": \"v\"\n  }\n}");
	free(text);
}

/* Symlinks and ".." under the rootfs resolve within it (mount targets). */
/* rootpath.c: symlinks resolved as if the root were "/", what is missing
 * made, the result an fd of the object beneath the root. */
static void test_root_open(void **state)
{
	char root[] = "/tmp/cl-ro.XXXXXX", path[512];
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/a/b", "/a/b"},	     {"/../../etc", "/etc"},
	    {"/abs/x", "/etc/x"}, /* abs -> /etc */
	    {"/rel/x", "/a/b/x"}, /* rel -> a/b */
	    {"/up/x", "/x"},	  /* up -> ../../../.. */
	    {"/a/./b/../c", "/a/c"}, {"/", ""},
	};
	struct cl_err e = {0};
	struct stat st, want;
	int rootfd, fd;
	char *rel;

	(void)state;
	assert_non_null(mkdtemp(root));
	rootfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rootfd >= 0);
	assert_int_equal(symlinkat("/etc", rootfd, "abs"), 0);
	assert_int_equal(symlinkat("a/b", rootfd, "rel"), 0);
	assert_int_equal(symlinkat("../../../..", rootfd, "up"), 0);
	assert_int_equal(symlinkat("loop", rootfd, "loop"), 0);
	assert_int_equal(symlinkat("/run/r.conf", rootfd, "dangling"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = cl_root_open(rootfd, cases[i].in, CL_ROOT_MKDIR, &rel, &e);
		assert_true(fd >= 0);
		assert_string_equal(rel, cases[i].out);
		snprintf(path, sizeof(path), "%s%s", root, cases[i].out);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(stat(path, &want), 0);
		assert_true(S_ISDIR(st.st_mode) && st.st_ino == want.st_ino);
		free(rel);
		close(fd);
	}
	/* a dangling link's target is made (a file mount point) */
	fd = cl_root_open(rootfd, "/dangling", CL_ROOT_MKFILE, NULL, &e);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	assert_int_equal(cl_root_open(rootfd, "/nothere", CL_ROOT_OPTIONAL, NULL, &e),
			 CL_ROOT_MISSING);
	assert_int_equal(cl_root_open(rootfd, "/loop/x", CL_ROOT_MKDIR, NULL, &e), -1);
	assert_int_equal(e.num, ELOOP);
	close(rootfd);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* kerneltree.c and CL_ROOT_STAYOUT: a walk that a symlink takes into
 * /dev, /proc or /sys, where the text is not, stops there (nothing made
 * in it); the text's own tree and links elsewhere pass. */
static void test_root_stayout(void **state)
{
	char root[] = "/tmp/cl-so.XXXXXX", path[512];
	static const struct {
		const char *in, *out;
		int ret;
	} cases[] = {
	    {"/kdev/x", "/dev", CL_ROOT_KERNEL},    {"/kproc", "/proc", CL_ROOT_KERNEL},
	    {"/dev/kp/y", "/proc", CL_ROOT_KERNEL}, {"/dev/pts", "/dev/pts", 0},
	    {"/var/run/app", "/run/app", 0},	    {"/devices/z", "/devices/z", 0},
	    {"//./kdev/.", "/dev", CL_ROOT_KERNEL},
	};
	struct cl_err e = {0};
	int rootfd, fd;
	char *rel;

	(void)state;
	assert_string_equal(cl_kernel_tree("//./proc/sys"), "proc");
	assert_string_equal(cl_kernel_tree("sys"), "sys");
	assert_null(cl_kernel_tree("/procfs"));
	assert_null(cl_kernel_tree(""));
	assert_non_null(mkdtemp(root));
	rootfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rootfd >= 0);
	assert_int_equal(mkdirat(rootfd, "dev", 0755), 0);
	assert_int_equal(mkdirat(rootfd, "var", 0755), 0);
	assert_int_equal(symlinkat("/dev", rootfd, "kdev"), 0);
	assert_int_equal(symlinkat("../proc/x", rootfd, "kproc"), 0);
	assert_int_equal(symlinkat("/proc", rootfd, "dev/kp"), 0);
	assert_int_equal(symlinkat("../run", rootfd, "var/run"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rel = NULL;
		fd = cl_root_open(rootfd, cases[i].in, CL_ROOT_MKDIR | CL_ROOT_STAYOUT, &rel, &e);
		assert_int_equal(fd < 0 ? fd : 0, cases[i].ret);
		assert_string_equal(rel, cases[i].out);
		free(rel);
		if (fd >= 0)
			close(fd);
	}
	assert_string_equal(e.msg, "resolve //./kdev/.: resolves into /dev through a symlink "
				   "in the root (refused)");
	/* nothing made inside the tree the walk strayed into */
	assert_int_equal(faccessat(rootfd, "dev/x", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(rootfd, "proc/x", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(rootfd);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(cl_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_string_equal(cl_cap_name(40), "CAP_CHECKPOINT_RESTORE");
	assert_int_equal(cl_cap_from_name("CAP_NOPE"), -1);
	assert_int_equal(cl_ns_from_name("cgroup"), CLONE_NEWCGROUP);
	assert_int_equal(cl_rlimit_from_name("RLIMIT_NPROC"), RLIMIT_NPROC);
	assert_int_equal(cl_signal_from_name("KILL"), 9);
	assert_int_equal(cl_signal_from_name("SIGTERM"), 15);
	assert_int_equal(cl_signal_from_name("10"), 10);
	assert_int_equal(cl_signal_from_name("NOPE"), -1);
	assert_int_equal(cl_signal_from_name("99999"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),	 cmocka_unit_test(test_process),
	    cmocka_unit_test(test_mounts),	 cmocka_unit_test(test_linux),
	    cmocka_unit_test(test_ns_owner),	 cmocka_unit_test(test_seccomp_and_hooks),
	    cmocka_unit_test(test_default_spec), cmocka_unit_test(test_default_seccomp),
	    cmocka_unit_test(test_errors),	 cmocka_unit_test(test_state_json),
	    cmocka_unit_test(test_root_open),	 cmocka_unit_test(test_root_stayout),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
