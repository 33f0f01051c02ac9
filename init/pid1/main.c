/*
 * main.c: Wisp's PID 1, the boot sequence.
 *
 * Everything before loop_run() is the part of booting that nothing else
 * can run during: the API filesystems, the console, /etc and the host
 * name; then the image's early units start (/etc/wisp, `early: true`)
 * while init mounts the STATE partition, and the loop runs provision
 * (provrun.c) beside them; once it has
 * ended, the other declared units (/etc/wisp, and /run/wisp/units that
 * provision wrote) start, and the loop supervises them until a shutdown signal.
 * PID 1 never exits: every step logs its failure and the boot goes on
 * with what it has.
 */
#include "pid1.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static bool live_medium; /* wisp.live=1: booted from the live CD */

/* wisp.host_reserve=SIZE: the memory containers together leave to the host (cgroup.c). */
static void host_reserve(const char *line)
{
	char val[32];
	uint64_t bytes;

	if (cmdline_get(line, "wisp.host_reserve", val, sizeof(val)) < 0)
		return;
	if (parse_size(val, &bytes) < 0)
		log_msg(LOG_WARNING,
			"wisp.host_reserve=%s: not a size (64M, 1G, 0); using the default", val);
	else
		cgroup_set_reserve(bytes);
}

/* wisp.* keys of the kernel command line. */
static void boot_params(void)
{
	char line[4096];
	unsigned grace = 0;
	struct err e;

	if (read_text("/proc/cmdline", line, sizeof(line), &e) < 0) {
		log_err(&e);
		return;
	}
	live_medium = cmdline_live(line);
	switch (cmdline_uint(line, "wisp.shutdown_timeout", 3600, &grace, &e)) {
	case 1:
		shutdown_set_grace(grace);
		break;
	case -1:
		log_msg(LOG_WARNING, "%s; using %u s", e.msg, SHUTDOWN_GRACE_S);
		break;
	}
	switch (cmdline_uint(line, "wisp.provision_timeout", 86400, &grace, &e)) {
	case 1:
		provrun_set_timeout(grace);
		break;
	case -1:
		log_msg(LOG_WARNING, "%s; using %u s", e.msg, PROVISION_TIMEOUT_S);
		break;
	}
	host_reserve(line);
}

/* provision has ended: the units of both directories start; the image's only if safe mode
 * failed too (what a failed run left there is not to be trusted). */
static void provisioned(bool ok)
{
	uint64_t t = now_ms();

	units_load(DECL_DIR, ok ? CLOUD_UNITS : NULL);
	bootlog_step("load declarations", t, now_ms());
	units_start_all();
	rcu_boot_end();
}

/* cgroup v2 for the units and provision; without it they run all the same. */
static bool cgroups(void)
{
	struct err e;

	if (cgroup_setup(CGROUP_ROOT, &e) == 0)
		return true;
	log_msg(LOG_ERR, "%s; units run without cgroups (units with resources do not start)",
		e.msg);
	return false;
}

/* What starting a unit needs: the loop (a child's end, its output) and the cgroups. */
static bool loop_and_cgroups(void)
{
	uint64_t t = now_ms();
	struct err e;
	bool cg;

	if (loop_setup(dispatch_signal, &e) < 0) {
		log_err(&e);
		dispatch_emergency();
	}
	dispatch_setup();
	klog_start();
	cg = cgroups();
	units_set_cgroups(cg);
	bootlog_step("loop and cgroups", t, now_ms());
	return cg;
}

/*
 * The image's early units (the console shell) are the first to start, as
 * soon as /etc is there and the loop could reap them, even before STATE
 * and the loopback interface: the boot's critical path is what they wait
 * for. Their output waits in its pipe until /var is mounted; a container
 * among them waits for STATE, where its image is, as does a service whose
 * working directory or program is on /var (unit.c).
 *
 * From their spawn to its last boot step init runs at BOOT_NICE, its children at
 * nice 0 (spawn_req.nice): on a one-vCPU guest what init does after a fork
 * (the next unit's spawn, STATE's check and mount: ~50 ms of CPU under TCG the
 * first time) then yields to the units' exec instead of delaying it. e2fsck
 * and resize2fs are asked for at BOOT_NICE too (state.c).
 */
static void early_units(void)
{
	uint64_t t = now_ms();

	logs_hold();
	units_state_ready(false);
	/* PID 1 has CAP_SYS_NICE: neither this call nor state_step()'s can fail */
	(void)setpriority(PRIO_PROCESS, 0, BOOT_NICE);
	if (units_load_early(DECL_DIR) > 0)
		units_start_all();
	bootlog_step("early units", t, now_ms());
}

static void state_step(void)
{
	uint64_t t = now_ms();

	state_setup(live_medium);
	logs_release();
	units_state_ready(true);
	bootlog_step("STATE: check, grow, mount", t, now_ms());
}

int main(void)
{
	struct timespec t0;
	struct err e;
	uint64_t t;
	bool cg;
	int cad;

	/* The banner's uptime is the moment init started, before any work. */
	clock_gettime(CLOCK_BOOTTIME, &t0);
	if (getpid() != 1) {
		static const char msg[] = "init: this is Wisp's PID 1; run it as PID 1 only\n";
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		return 1;
	}
	signals_block();
	/* A unit holds ~5 fds here (its log pipe's two ends and file, its cgroup, its pidfd):
	 * the kernel's 1024 ran out at ~200 units, and the control socket's accept with them.
	 * Every child gets the kernel's default back (spawn.c). prlimit, not setrlimit: musl's
	 * setrlimit brings its every-thread synchronisation, 160 bytes for one thread. */
	prlimit(0, RLIMIT_NOFILE, &(struct rlimit){INIT_NOFILE, INIT_NOFILE}, NULL);
	/* ctrl-alt-del becomes SIGINT to init instead of an immediate reboot. */
	cad = reboot(RB_DISABLE_CAD) < 0 ? errno : 0;
	mounts_early();
	if (console_setup(&e) < 0)
		log_err(&e); /* still reaches /dev/kmsg, if there is one */
	log_line(LOG_NOTICE, "Wisp %s init: started at uptime %lld.%03ld s", WISP_VERSION,
		 (long long)t0.tv_sec, t0.tv_nsec / 1000000L);
	if (cad) {
		err_set(&e, cad, "reboot(RB_DISABLE_CAD)");
		log_err(&e);
	}
	mounts_setup();
	/* inherited by every child: the host's services, its console, sshd. The
	 * OOM killer then takes a container's process (500, containerd-lite's
	 * bundles) before any of them, whatever their RSS (docs/security.md) */
	if (write_value("/proc/self/oom_score_adj", "-999", &e) < 0)
		log_err(&e);
	rcu_boot_begin("/sys/kernel/rcu_expedited");
	t = (uint64_t)t0.tv_sec * 1000u + (uint64_t)t0.tv_nsec / 1000000u;
	bootlog_step("mounts and console", t, now_ms());
	boot_params();
	t = now_ms();
	etc_setup();
	hostname_setup("/etc/hostname");
	bootlog_step("/etc and host name", t, now_ms());
	cg = loop_and_cgroups();
	early_units();
	state_step();
	/* provision (which needs /var) before what it does not need: init's chores below
	 * then yield to it (still at BOOT_NICE) instead of delaying the datasource's probe */
	provrun_start(cg, provisioned);
	if (cg) /* after the first units' exec and STATE; unless an early unit's limits did */
		cgroup_controllers(CGROUP_ROOT);
	t = now_ms();
	if (loopback_up(&e) < 0)
		log_err(&e);
	control_setup();
	powerbtn_setup("/sys");
	bootlog_step("loopback, control socket, power button", t, now_ms());
	(void)setpriority(PRIO_PROCESS, 0, 0); /* init's own back before the loop runs */
	dispatch_reap();		       /* whatever the boot steps left behind */
	if (loop_run(&e) < 0)
		log_err(&e);
	dispatch_emergency();
}
