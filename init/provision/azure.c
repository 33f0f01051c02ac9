/*
 * azure.c: the ready report to Azure's wire server. Azure waits for a new
 * VM to say that it is ready, and fails its deployment when none comes; as
 * cloud-init's DataSourceAzure, provision says so, once it has applied what
 * the datasource gave. The health report (an XML document of Azure's shape,
 * Ready) is written here from the goal state's incarnation, container and
 * instance ids, which the parser child read from the helper's copy of the
 * goal state and the plan's reader checked again (digits, [A-Za-z0-9_.-]):
 * no byte from outside is parsed here, and none goes into the document
 * unchecked. The helper azure-ready (busybox wget, a one-shot lease of its
 * own) POSTs it. A failure is one line naming the wire server and what went
 * wrong (the helper's last line); the boot goes on.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_HELPER "/usr/libexec/wisp/azure-ready" /* rootfs/skel/usr/libexec/wisp/ */
#define HEALTH_FILE  "/run/wisp/azure-health.xml"
#define READY_OUT    "/run/wisp/azure-ready.out"
#define READY_MS     30000u

/* Azure's health report, as cloud-init and Microsoft's agentless example send it. */
static const char health_fmt[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
				 "<Health xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
				 " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n"
				 "  <GoalStateIncarnation>%s</GoalStateIncarnation>\n"
				 "  <Container>\n"
				 "    <ContainerId>%s</ContainerId>\n"
				 "    <RoleInstanceList>\n"
				 "      <Role>\n"
				 "        <InstanceId>%s</InstanceId>\n"
				 "        <Health>\n"
				 "          <State>Ready</State>\n"
				 "        </Health>\n"
				 "      </Role>\n"
				 "    </RoleInstanceList>\n"
				 "  </Container>\n"
				 "</Health>\n";

static int write_health(const struct ds_ready *r, struct err *e)
{
	char xml[1024];
	int n = snprintf(xml, sizeof(xml), health_fmt, r->incarnation, r->container, r->instance);

	if (n < 0 || (size_t)n >= sizeof(xml))
		return err_set(e, 0, "%s: too long", HEALTH_FILE);
	return write_file(ROOTED(HEALTH_FILE), xml, (size_t)n, 0600, e);
}

/* The helper's last line (what went wrong), printable, into buf. */
static void last_line(char *buf, size_t size)
{
	char out[2048], *s;
	struct err e;
	size_t n;

	if (read_text(READY_OUT, out, sizeof(out), &e) < 0)
		out[0] = '\0';
	n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	s = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	snprintf(buf, size, "%s", *s ? s : "no answer");
}

/* Run the helper, its output in READY_OUT. Its wait status, -1 killed after READY_MS,
 * -2 not run (warned). */
static int post(const char *ws, struct ud_sink *w)
{
	char *argv[] = {READY_HELPER, (char *)ws, HEALTH_FILE, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	struct spawn_req r = {.argv = argv, .envp = envp};
	uint64_t since = now_ms();
	struct err e;
	pid_t pid;
	int st = -2;

	r.out_fd = open(READY_OUT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r.out_fd < 0) {
		w->warn(w->ctx, "Azure: open %s: %s; not reported ready", READY_OUT,
			strerror(errno));
		return -2;
	}
	fw_wait(); /* its lease brings up an interface: the host is closed first */
	if ((pid = spawn(&r, NULL, &e)) < 0)
		w->warn(w->ctx, "Azure: %s; not reported ready", e.msg);
	else
		st = cc_wait("Azure: ready report", pid, since, READY_MS, NULL);
	close(r.out_fd);
	return st;
}

void azure_ready(const struct ds_found *f, bool have_iid, struct ud_sink *w)
{
	char why[300];
	struct err e;
	int st;

	if (!*f->wireserver)
		return;	 /* not Azure */
	if (!have_iid) { /* as cloud-init: a datasource without its metadata did not provision */
		w->warn(w->ctx,
			"Azure: no vmId from IMDS: not reported ready to the wire server "
			"at %s",
			f->wireserver);
		return;
	}
	if (!*f->ready.incarnation) {
		w->warn(w->ctx,
			"Azure: no goal state from the wire server at %s: not reported ready",
			f->wireserver);
		return;
	}
	if (write_health(&f->ready, &e) < 0) {
		w->warn(w->ctx, "Azure: %s: not reported ready", e.msg);
		return;
	}
	if (prov.dry) {
		cloudinit_report("not run (--root): ready report to %s", f->wireserver);
		return;
	}
	if ((st = post(f->wireserver, w)) == -2)
		return;
	if (st >= 0 && WIFEXITED(st) && !WEXITSTATUS(st)) {
		log_msg(LOG_NOTICE,
			"cloud-init: Azure: reported ready to the wire server at %s "
			"(incarnation %s)",
			f->wireserver, f->ready.incarnation);
		cloudinit_report("azure: ready reported to %s", f->wireserver);
	} else {
		if (st < 0 || !WIFEXITED(st))
			snprintf(why, sizeof(why), "no answer in %u s", READY_MS / 1000);
		else
			last_line(why, sizeof(why));
		w->warn(w->ctx, "Azure: ready report to the wire server at %s failed: %s",
			f->wireserver, why);
	}
	unlink(READY_OUT);
}
