/*
 * wispctl.c: the client of init's control socket (docs/wispctl.md).
 *
 * One request per run, over CONTROL_SOCK; the replies are printed as a
 * table or, with --json, as JSON for scripts. Exit status: 0 done, 1 init
 * (or the connection) said no, 2 bad usage. Every error is one line on
 * stderr starting with "wispctl: ".
 */
#include "wispctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLY_TIMEOUT_S 15

static bool json;
static bool tty; /* stdout is a terminal: bytes from outside escaped (tty.c) */
static bool first_unit = true;

static _Noreturn void fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	wctl_tty_end(stdout);
	fflush(stdout);
	fputs("wispctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void json_str(const char *s, size_t len)
{
	wctl_json_str(stdout, s, len, tty);
}

struct unit_rec {
	char name[DECL_NAME_MAX + 1], kind[32], state[32], health[32], userns[16];
	uint64_t pid, uptime, restarts, status;
	bool has_pid, has_uptime, has_health, has_userns;
};

static void unit_read(const struct pview *m, struct unit_rec *u)
{
	memset(u, 0, sizeof(*u));
	u->status = UINT32_MAX; /* -1: none */
	if (pview_str(m, PT_NAME, u->name, sizeof(u->name)) <= 0)
		fail("init sent a unit record without a name");
	if (pview_str(m, PT_KIND, u->kind, sizeof(u->kind)) <= 0)
		strcpy(u->kind, "-");
	if (pview_str(m, PT_STATE, u->state, sizeof(u->state)) <= 0)
		strcpy(u->state, "?");
	u->has_health = pview_str(m, PT_HEALTH, u->health, sizeof(u->health)) > 0;
	u->has_userns = pview_str(m, PT_USERNS, u->userns, sizeof(u->userns)) > 0;
	u->has_pid = pview_uint(m, PT_PID, 4, &u->pid) > 0;
	u->has_uptime = pview_uint(m, PT_UPTIME, 8, &u->uptime) > 0;
	pview_uint(m, PT_RESTARTS, 4, &u->restarts);
	pview_uint(m, PT_STATUS, 4, &u->status);
}

/* "exit 0", "signal KILL" or "-". */
static const char *last_text(uint64_t status, char *buf, size_t size)
{
	int st = (int)(uint32_t)status;
	char sig[16];

	if (st == -1)
		return "-";
	if (WIFEXITED(st))
		snprintf(buf, size, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "signal %s", signal_name(WTERMSIG(st), sig));
	else
		snprintf(buf, size, "status %d", st);
	return buf;
}

static const char *uptime_text(const struct unit_rec *u, char *buf, size_t size)
{
	uint64_t s = u->uptime / 1000;

	if (!u->has_uptime)
		return "-";
	if (s >= 3600)
		snprintf(buf, size, "%uh%02um", (unsigned)(s / 3600), (unsigned)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%um%02us", (unsigned)(s / 60), (unsigned)(s % 60));
	else
		snprintf(buf, size, "%u.%us", (unsigned)s, (unsigned)(u->uptime % 1000 / 100));
	return buf;
}

/* A container's ids: "1048576-1114111" (its range on the host), "host",
 * "-" (not a container, or not started yet). */
static const char *userns_text(const struct unit_rec *u, char *buf, size_t size)
{
	unsigned long base;
	char *end;

	if (!u->has_userns)
		return "-";
	base = strtoul(u->userns, &end, 10);
	if (end == u->userns || *end)
		return u->userns;
	snprintf(buf, size, "%lu-%lu", base, base + 65535);
	return buf;
}

/* "userns": "host", {"host_id": BASE, "size": 65536}, or null. */
static void userns_json(const struct unit_rec *u)
{
	char *end;
	unsigned long base = strtoul(u->userns, &end, 10);

	fputs(",\"userns\":", stdout);
	if (!u->has_userns)
		fputs("null", stdout);
	else if (end == u->userns || *end)
		json_str(u->userns, strlen(u->userns));
	else
		printf("{\"host_id\":%lu,\"size\":65536}", base);
}

/* "address": "10.88.0.2" or null, "ports": [...] (a container on the bridge). */
static void net_json(const struct unit_rec *u)
{
	struct wctl_net ni;
	bool on = u->has_pid && wctl_net(u->name, (unsigned)u->pid, &ni);

	fputs(",\"address\":", stdout);
	if (on)
		json_str(ni.addr, strlen(ni.addr));
	else
		fputs("null", stdout);
	fputs(",\"ports\":[", stdout);
	for (unsigned i = 0; on && i < ni.nports; i++) {
		if (i)
			putchar(',');
		json_str(ni.ports[i], strlen(ni.ports[i]));
	}
	putchar(']');
}

static void unit_json(const struct unit_rec *u)
{
	int st = (int)(uint32_t)u->status;
	char sig[16];

	fputs("{\"name\":", stdout);
	json_str(u->name, strlen(u->name));
	fputs(",\"kind\":", stdout);
	json_str(u->kind, strlen(u->kind));
	fputs(",\"state\":", stdout);
	json_str(u->state, strlen(u->state));
	if (u->has_pid)
		printf(",\"pid\":%u", (unsigned)u->pid);
	else
		fputs(",\"pid\":null", stdout);
	if (u->has_uptime)
		printf(",\"uptime_ms\":%llu", (unsigned long long)u->uptime);
	else
		fputs(",\"uptime_ms\":null", stdout);
	printf(",\"restarts\":%u,\"last_exit\":", (unsigned)u->restarts);
	if (st == -1)
		fputs("null", stdout);
	else if (WIFSIGNALED(st))
		printf("{\"signal\":\"%s\"}", signal_name(WTERMSIG(st), sig));
	else
		printf("{\"code\":%d}", WEXITSTATUS(st));
	fputs(",\"health\":", stdout);
	if (u->has_health)
		json_str(u->health, strlen(u->health));
	else
		fputs("null", stdout);
	userns_json(u);
	net_json(u);
	putchar('}');
}

static void net_print(const struct unit_rec *u)
{
	struct wctl_net ni;

	if (!u->has_pid || !wctl_net(u->name, (unsigned)u->pid, &ni))
		return;
	printf("address:  %s\nports:   ", ni.addr);
	for (unsigned i = 0; i < ni.nports; i++)
		printf(" %s", ni.ports[i]);
	printf("%s\n", ni.nports ? "" : " -");
}

static void unit_print(unsigned op, const struct pview *m)
{
	char up[32], last[32], pid[16] = "-", ids[32];
	struct unit_rec u;

	unit_read(m, &u);
	if (u.has_pid)
		snprintf(pid, sizeof(pid), "%u", (unsigned)u.pid);
	if (json) {
		if (op == P_PS)
			fputs(first_unit ? "[" : ",", stdout);
		unit_json(&u);
	} else if (op == P_PS) {
		if (first_unit)
			printf("%-20s %-9s %-9s %7s %8s %8s %-12s %-9s %s\n", "NAME", "KIND",
			       "STATE", "PID", "UPTIME", "RESTARTS", "LAST", "HEALTH", "USERNS");
		printf("%-20s %-9s %-9s %7s %8s %8u %-12s %-9s %s\n", u.name, u.kind, u.state, pid,
		       uptime_text(&u, up, sizeof(up)), (unsigned)u.restarts,
		       last_text(u.status, last, sizeof(last)), u.has_health ? u.health : "-",
		       userns_text(&u, ids, sizeof(ids)));
	} else {
		printf("name:     %s\nkind:     %s\nstate:    %s\n", u.name, u.kind, u.state);
		if (u.has_pid)
			printf("pid:      %u\n", (unsigned)u.pid);
		printf("uptime:   %s\nrestarts: %u\n", uptime_text(&u, up, sizeof(up)),
		       (unsigned)u.restarts);
		printf("last:     %s\nhealth:   %s\n", last_text(u.status, last, sizeof(last)),
		       u.has_health ? u.health : "-");
		if (u.has_userns)
			printf("userns:   %s\n", userns_text(&u, ids, sizeof(ids)));
		net_print(&u);
	}
	first_unit = false;
}

static void lines_print(const struct pview *m)
{
	const struct precord *r = pview_find(m, PT_TEXT);
	const char *p, *end, *nl;

	if (!r)
		return;
	if (!json) {
		if (tty)
			wctl_tty_write(stdout, r->val, r->len);
		else
			fwrite(r->val, 1, r->len, stdout);
		fflush(stdout);
		return;
	}
	/* One JSON object per line (NDJSON): works for -f, where there is no end. */
	p = (const char *)r->val;
	end = p + r->len;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		fputs("{\"line\":", stdout);
		json_str(p, (size_t)(nl - p));
		fputs("}\n", stdout);
	}
	fflush(stdout);
}

/* The end of a reply: P_OK. Prints what the request's JSON output still needs. */
static _Noreturn void done(unsigned op)
{
	wctl_tty_end(stdout); /* a character cut at the listing's end: its bytes */
	if (json) {
		if (op == P_PS)
			puts(first_unit ? "[]" : "]");
		else if (op == P_STATUS)
			putchar('\n');
		else if (op != P_LOGS && op != P_CONFIG && op != P_IMAGES && op != P_BOOT)
			puts("{\"ok\":true}");
	}
	exit(fflush(stdout) == 0 ? 0 : 1);
}

static int connect_init(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", CONTROL_SOCK);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("connect to init at %s: %s", CONTROL_SOCK, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static _Noreturn void talk(const struct preq *r)
{
	unsigned char buf[PROTO_MAX_MSG];
	struct pmsg p;
	struct pview m;
	struct err e;
	int fd = connect_init();

	pmsg_start(&p, r->op);
	if (r->name[0])
		pmsg_str(&p, PT_NAME, r->name);
	if (r->op == P_LOGS) {
		pmsg_u32(&p, PT_LINES, r->lines);
		pmsg_bytes(&p, PT_FOLLOW, &(unsigned char){r->follow}, 1);
		if (r->follow) { /* no answer deadline: lines come when they come */
			struct timeval tv = {0};
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
	}
	/* EPIPE: init has answered and closed already (it refuses a user at
	 * once): its reason is still to be read */
	if (pmsg_end(&p) < 0 || (send(fd, p.b, p.len, MSG_NOSIGNAL) < 0 && errno != EPIPE))
		fail("send to init: %s", strerror(errno));
	for (bool reset = false;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* init refusing us (not root) after our request came closes with it
		 * unread: the reset is told first, its reply is still queued behind */
		if (n < 0 && errno == ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		if (n < 0)
			fail("no answer from init: %s", strerror(errno));
		if (n == 0) {
			if (r->follow) { /* init closed the log (shutdown) */
				wctl_tty_end(stdout);
				exit(fflush(stdout) == 0 ? 0 : 1);
			}
			fail("init closed the connection without an answer");
		}
		if (proto_decode(buf, (size_t)n, &m, &e) < 0)
			fail("reply from init: %s", e.msg);
		if (m.type == P_ERROR) {
			char text[PROTO_MAX_MSG];
			if (pview_str(&m, PT_TEXT, text, sizeof(text)) <= 0)
				strcpy(text, "init reported an error without a text");
			fail("%s", text);
		}
		if (m.type == P_OK)
			done(r->op);
		if (m.type == P_UNIT)
			unit_print(r->op, &m);
		else if (m.type == P_LINES)
			lines_print(&m);
	}
}

/* Verbs another program answers, as root, without PID 1's socket: `update`
 * (docs/update.md: it writes the ESP and the other slot itself) and `pull`
 * (the runtime's image pull: a download has no business in PID 1). Every
 * other word of the line goes to it, its options with them. */
static const struct {
	const char *verb, *path;
	const char *pre[3]; /* its argv before the line's words */
} handed[] = {
    {"update", UPDATER, {"update"}},
    {"pull", RUNTIME, {"containerd-lite", "image", "pull"}},
};

/* `update ... apply ... URL`: the first http(s):// word after "apply" (the scheme in any
 * case, RFC 3986 3.1, as the updater takes it) goes to the updater in its environment,
 * not its argv. A presigned URL's query is a credential, and /proc/PID/cmdline is every
 * user's to read while the download runs (wispctl's own argv is gone with the exec).
 * false: the word stays. */
static bool url_to_env(const char *verb, char **argv, int k)
{
	static bool moved; /* a second URL stays: the updater's usage error */
	bool apply = false;

	if (moved || strcmp(verb, "update") != 0 ||
	    (strncasecmp(argv[k], "http://", 7) != 0 && strncasecmp(argv[k], "https://", 8) != 0))
		return false;
	for (int i = 1; i < k && !apply; i++)
		apply = !strcmp(argv[i], "apply");
	return (moved = apply && setenv(UPDATER_URL_ENV, argv[k], 1) == 0);
}

static void handed_verb(int argc, char **argv)
{
	char *v[argc + 3];
	int i = 1, n = 0;
	size_t h = 0;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0)
		i++;
	while (i < argc && h < sizeof(handed) / sizeof(*handed) && strcmp(argv[i], handed[h].verb))
		h++;
	if (i == argc || h == sizeof(handed) / sizeof(*handed))
		return;
	for (size_t k = 0; k < 3 && handed[h].pre[k]; k++)
		v[n++] = (char *)handed[h].pre[k];
	for (int k = 1; k < argc; k++)
		if (k != i && !url_to_env(handed[h].verb, argv, k))
			v[n++] = argv[k];
	v[n] = NULL;
	execv(handed[h].path, v);
	fprintf(stderr, "wispctl: %s: exec %s: %s\n", handed[h].verb, handed[h].path,
		strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	struct wctl_args a;

	handed_verb(argc, argv);
	switch (wctl_args(argc, argv, &a)) {
	case WCTL_HELP:
		return fputs(wctl_usage_text, stdout) == EOF;
	case WCTL_VERSION:
		return printf("wispctl %s\n", WISP_VERSION) < 0;
	case WCTL_USAGE:
		fprintf(stderr, "wispctl: %s (wispctl --help for usage)\n", a.msg);
		return 2;
	case WCTL_RUN:
		break;
	}
	json = a.json;
	tty = isatty(STDOUT_FILENO);
	talk(&a.r);
}
