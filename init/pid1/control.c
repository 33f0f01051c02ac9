/*
 * control.c: init's control socket, /run/wisp/control.sock (wispctl's peer).
 *
 * SOCK_SEQPACKET: the kernel keeps message boundaries, so a request is
 * read whole or not at all and one client can never leave another's
 * bytes half-parsed. Every client has its own bounded output queue, so a
 * slow reader costs only its own memory, up to a limit, and then its
 * connection. Only root may connect (SO_PEERCRED). A client that sends
 * nothing for CLIENT_IDLE_MS is dropped, except one following a log.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS    16
#define CLIENT_IDLE_MS 30000u
#define CLIENT_QUEUE   (512u * 1024u) /* bytes queued for one client before it is dropped */
#define LOG_TAIL_BYTES (128 * 1024)   /* how much of a log file logs -n reads, from its end */

struct qmsg {
	struct qmsg *next;
	size_t len;
	unsigned char b[];
};

struct client {
	struct watch w;
	struct timer idle;
	struct qmsg *head, *tail;
	size_t queued;
	bool out_armed;			/* EPOLLOUT is on */
	bool closing;			/* a reply did not fit: close after this request */
	char follow[DECL_NAME_MAX + 1]; /* unit whose new log lines it gets; "" none */
	bool in_use;
	struct watch lister; /* `images`: the lister's output pipe; fd -1 none */
	char part[PROTO_MAX_MSG - PROTO_HDR - 3]; /* its output not sent yet */
	size_t plen;
};

static struct watch listener = {.fd = -1};
static struct client clients[MAX_CLIENTS];

/*
 * Slots are static and never freed: the loop may still hold an event for
 * a closed client's watch from the same epoll batch (a log line that
 * closes a slow follower). Its fd is then -1, which the loop skips; if the
 * slot was taken again meanwhile, the new client merely sees a spurious
 * wake-up (EAGAIN).
 */
static void lister_end(struct client *c)
{
	loop_unwatch(&c->lister);
	close(c->lister.fd);
	c->lister.fd = -1;
}

static void client_close(struct client *c)
{
	if (c->lister.fd >= 0)
		lister_end(c);
	loop_unwatch(&c->w);
	close(c->w.fd);
	c->w.fd = -1;
	timer_stop(&c->idle);
	while (c->head) {
		struct qmsg *q = c->head;
		c->head = q->next;
		free(q);
	}
	c->tail = NULL;
	c->queued = 0;
	c->in_use = false;
}

/* Send what the socket takes now; the rest waits for EPOLLOUT. Returns -1 if c was closed. */
static int client_flush(struct client *c)
{
	while (c->head) {
		struct qmsg *q = c->head;
		ssize_t n = send(c->w.fd, q->b, q->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(c); /* the peer went away */
			return -1;
		}
		c->head = q->next;
		if (!c->head)
			c->tail = NULL;
		c->queued -= q->len;
		free(q);
	}
	if (!!c->head != c->out_armed && loop_watch_out(&c->w, !!c->head) == 0)
		c->out_armed = !!c->head;
	return 0;
}

/*
 * Queue one finished message. If it does not fit, the client is not reading
 * its replies: its connection is closed after this request (never a silent
 * gap in a reply, and never a busy loop on a client init cannot serve).
 */
static int client_queue(struct client *c, struct pmsg *p)
{
	struct qmsg *q;

	if (c->closing)
		return -1;
	if (pmsg_end(p) < 0 || c->queued + p->len > CLIENT_QUEUE ||
	    !(q = malloc(sizeof(*q) + p->len))) {
		c->closing = true;
		return -1;
	}
	q->next = NULL;
	q->len = p->len;
	memcpy(q->b, p->b, p->len);
	if (c->tail)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->queued += p->len;
	return 0;
}

static void reply_error(struct client *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void reply_error(struct client *c, const char *fmt, ...)
{
	struct pmsg p;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pmsg_start(&p, P_ERROR);
	pmsg_str(&p, PT_TEXT, text);
	client_queue(c, &p);
}

static void reply_ok(struct client *c)
{
	struct pmsg p;

	pmsg_start(&p, P_OK);
	client_queue(c, &p);
}

static void reply_unit(struct client *c, const struct unit_info *u)
{
	uint64_t now = now_ms();
	struct pmsg p;

	pmsg_start(&p, P_UNIT);
	pmsg_str(&p, PT_NAME, u->name);
	pmsg_str(&p, PT_KIND, u->kind ? u->kind : "service");
	pmsg_str(&p, PT_STATE, unit_state_name(u->state));
	if (u->pid > 0)
		pmsg_u32(&p, PT_PID, (uint32_t)u->pid);
	if (u->since_ms && u->since_ms <= now)
		pmsg_u64(&p, PT_UPTIME, now - u->since_ms);
	pmsg_u32(&p, PT_RESTARTS, u->restarts);
	pmsg_u32(&p, PT_STATUS, (uint32_t)u->last_status);
	if (u->health)
		pmsg_str(&p, PT_HEALTH, u->health);
	if (u->userns[0])
		pmsg_str(&p, PT_USERNS, u->userns);
	client_queue(c, &p);
}

static void do_ps(struct client *c)
{
	struct unit_info u;
	size_t n = units_count();

	for (size_t i = 0; i < n; i++)
		if (unit_info_at(i, &u) == 0)
			reply_unit(c, &u);
	reply_ok(c);
}

static int find_unit(struct client *c, const char *name)
{
	int i = unit_find(name);

	if (i < 0)
		reply_error(c, "no unit named \"%s\"", name);
	return i;
}

static void do_status(struct client *c, const struct preq *r)
{
	struct unit_info u;
	int i = find_unit(c, r->name);

	if (i < 0)
		return;
	if (unit_info_at((size_t)i, &u) < 0) {
		reply_error(c, "no unit named \"%s\"", r->name);
		return;
	}
	reply_unit(c, &u);
	reply_ok(c);
}

static void do_action(struct client *c, const struct preq *r)
{
	struct err e;
	int ret;

	if (find_unit(c, r->name) < 0)
		return;
	if (r->op == P_START)
		ret = unit_start(r->name, &e);
	else if (r->op == P_STOP)
		ret = unit_stop(r->name, &e);
	else
		ret = unit_restart(r->name, &e);
	if (ret < 0) {
		reply_error(c, "%s", e.msg);
		return;
	}
	log_msg(LOG_NOTICE, "control: %s %s", proto_op_name(r->op), r->name);
	reply_ok(c);
}

static void do_shutdown(struct client *c, const struct preq *r, pid_t pid)
{
	reply_ok(c);
	client_flush(c); /* the answer first: the client may be killed by the shutdown */
	shutdown_request(r->op == P_REBOOT ? SHUTDOWN_REBOOT : SHUTDOWN_POWEROFF, 0, pid);
}

/* Where the last max lines of text[0..len) start. */
static size_t tail_start(const char *text, size_t len, uint32_t max)
{
	size_t i = len, seen = 0;

	if (i > 0 && text[i - 1] == '\n')
		i--;
	for (; i > 0; i--)
		if (text[i - 1] == '\n' && ++seen == max)
			return i;
	return 0;
}

/* text as P_LINES messages of whole lines (a line longer than one message goes over two),
 * as few as hold it.
 * Returns -1 if the client's queue is full. */
static int send_lines(struct client *c, const char *text, size_t len)
{
	const size_t room = PROTO_MAX_MSG - PROTO_HDR - 3;
	struct pmsg p;

	while (len > 0) {
		size_t chunk = len;

		if (chunk > room) {
			const char *nl = memrchr(text, '\n', room);
			chunk = nl ? (size_t)(nl - text) + 1 : room;
		}
		pmsg_start(&p, P_LINES);
		pmsg_bytes(&p, PT_TEXT, text, chunk);
		if (client_queue(c, &p) < 0)
			return -1;
		text += chunk, len -= chunk;
	}
	return 0;
}

/* The last max lines of text. */
static void send_tail(struct client *c, const char *text, size_t len, uint32_t max)
{
	size_t start = tail_start(text, len, max);

	(void)send_lines(c, text + start, len - start);
}

/* Append up to the last LOG_TAIL_BYTES of path to buf (which has room for cap). */
static size_t read_tail(const char *path, char *buf, size_t cap)
{
	struct stat st;
	size_t len = 0;
	off_t from;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0) {
		from = st.st_size > (off_t)cap ? st.st_size - (off_t)cap : 0;
		while (len < cap) {
			ssize_t n = pread(fd, buf + len, cap - len, from + (off_t)len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
	}
	close(fd);
	return len;
}

static void do_logs(struct client *c, const struct preq *r)
{
	char path[256], *buf;
	size_t len = 0;

	if (find_unit(c, r->name) < 0)
		return;
	if (r->lines > 0 && (buf = malloc(2 * LOG_TAIL_BYTES))) {
		/* The rotated file first: its lines are older. */
		snprintf(path, sizeof(path), "%s/%s.log.1", LOG_DIR, r->name);
		len = read_tail(path, buf, LOG_TAIL_BYTES);
		snprintf(path, sizeof(path), "%s/%s.log", LOG_DIR, r->name);
		len += read_tail(path, buf + len, LOG_TAIL_BYTES);
		send_tail(c, buf, len, r->lines);
		free(buf);
	}
	if (r->follow) {
		snprintf(c->follow, sizeof(c->follow), "%s", r->name);
		timer_stop(&c->idle);
		return; /* no P_OK: lines follow until the client hangs up */
	}
	reply_ok(c);
}

static void do_config(struct client *c)
{
	char *buf = malloc(LOG_TAIL_BYTES);
	size_t len = buf ? read_tail(CLOUD_REPORT, buf, LOG_TAIL_BYTES) : 0;

	if (len == 0)
		reply_error(c, "config: no report in %s (cloud-init did not run)", CLOUD_REPORT);
	else
		send_tail(c, buf, len, PROTO_MAX_LINES);
	free(buf);
	if (len)
		reply_ok(c);
}

/* Whole lines of the lister's output (all of it at its end, or when one
 * line fills the buffer), relayed as they come: init never waits for it. */
static void on_lister(struct watch *w, uint32_t events)
{
	struct client *c = container_of(w, struct client, lister);
	ssize_t n = read(w->fd, c->part + c->plen, sizeof(c->part) - c->plen);
	const char *nl;
	size_t len;
	struct pmsg p;

	(void)events;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	len = c->plen; /* at the end (or an error): whatever is left */
	if (n > 0) {
		c->plen += (size_t)n;
		nl = memrchr(c->part, '\n', c->plen);
		len = nl ? (size_t)(nl - c->part) + 1 : c->plen == sizeof(c->part) ? c->plen : 0;
	}
	if (len) {
		pmsg_start(&p, P_LINES);
		pmsg_bytes(&p, PT_TEXT, c->part, len);
		client_queue(c, &p);
		memmove(c->part, c->part + len, c->plen - len);
		c->plen -= len;
	}
	if (n <= 0) {
		lister_end(c);
		reply_ok(c);
	}
	if (c->closing)
		client_close(c);
	else
		client_flush(c);
}

static void do_images(struct client *c)
{
	static char *const argv[] = {CTR_BIN, "image", "list", NULL};
	static char *const envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL};
	struct spawn_req r = {.argv = argv, .envp = envp};
	struct err e;
	int p[2];

	if (c->lister.fd >= 0) {
		reply_error(c, "images: this connection is already listing");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		reply_error(c, "images: pipe: %s", strerror(errno));
		return;
	}
	r.out_fd = p[1];
	c->lister = (struct watch){.fd = p[0], .ready = on_lister};
	c->plen = 0;
	if (spawn(&r, NULL, &e) < 0 || loop_watch(&c->lister, &e) < 0) {
		reply_error(c, "images: %s", e.msg);
		close(p[0]);
		c->lister.fd = -1;
	}
	close(p[1]);
}

/* The boot's timeline (bootlog.c), longest step first. */
static void do_boot(struct client *c)
{
	char *buf = malloc(LOG_TAIL_BYTES);
	size_t len = buf ? bootlog_render(buf, LOG_TAIL_BYTES, now_ms()) : 0;

	if (len == 0)
		reply_error(c, "boot: out of memory");
	else
		send_tail(c, buf, len, PROTO_MAX_LINES);
	free(buf);
	if (len)
		reply_ok(c);
}

static void dispatch(struct client *c, const struct preq *r, pid_t pid)
{
	switch (r->op) {
	case P_PS:
		do_ps(c);
		break;
	case P_STATUS:
		do_status(c, r);
		break;
	case P_LOGS:
		do_logs(c, r);
		break;
	case P_START:
	case P_STOP:
	case P_RESTART:
		do_action(c, r);
		break;
	case P_REBOOT:
	case P_POWEROFF:
		do_shutdown(c, r, pid);
		break;
	case P_CONFIG:
		do_config(c);
		break;
	case P_IMAGES:
		do_images(c);
		break;
	case P_BOOT:
		do_boot(c);
		break;
	}
}

static pid_t peer_pid(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 ? cr.pid : 0;
}

/* One request. A bad one gets an error reply; the client may go on. */
static void client_request(struct client *c, const unsigned char *buf, ssize_t n, int flags)
{
	struct pview m;
	struct preq r;
	struct err e;

	if (flags & MSG_TRUNC) {
		reply_error(c, "malformed message: longer than %d bytes", PROTO_MAX_MSG);
		return;
	}
	if (proto_decode(buf, (size_t)n, &m, &e) < 0 || proto_request(&m, &r, &e) < 0) {
		reply_error(c, "%s", e.msg);
		return;
	}
	if (c->follow[0]) {
		reply_error(c, "this connection follows a log; open another one");
		return;
	}
	dispatch(c, &r, peer_pid(c->w.fd));
}

static void on_client(struct watch *w, uint32_t events)
{
	struct client *c = container_of(w, struct client, w);
	unsigned char buf[PROTO_MAX_MSG];

	if (events & EPOLLOUT && client_flush(c) < 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 8; i++) { /* a few per turn: others get theirs */
		struct msghdr mh = {.msg_iov = &(struct iovec){buf, sizeof(buf)}, .msg_iovlen = 1};
		ssize_t n = recvmsg(c->w.fd, &mh, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(c); /* EOF or error: the client is gone */
			return;
		}
		if (!c->follow[0])
			timer_start(&c->idle, now_ms() + CLIENT_IDLE_MS);
		client_request(c, buf, n, mh.msg_flags);
		if (c->closing) {
			log_msg(LOG_WARNING,
				"control: a client does not read its replies; dropped");
			client_close(c);
			return;
		}
	}
	client_flush(c);
}

static void on_idle(struct timer *t)
{
	struct client *c = container_of(t, struct client, idle);

	client_close(c);
}

/* Root only: anyone else gets one error message and the door. */
static bool peer_is_root(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.uid == 0;
}

static void refuse(int fd, const char *why)
{
	struct pmsg p;

	pmsg_start(&p, P_ERROR);
	pmsg_str(&p, PT_TEXT, why);
	if (pmsg_end(&p) == 0)
		(void)!send(fd, p.b, p.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void client_add(int fd)
{
	struct client *c = NULL;
	struct err e;

	for (size_t i = 0; i < MAX_CLIENTS && !c; i++)
		if (!clients[i].in_use)
			c = &clients[i];
	if (!c) {
		refuse(fd, "too many control connections; try again");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->lister.fd = -1;
	c->w = (struct watch){.fd = fd, .ready = on_client};
	c->idle.fire = on_idle;
	if (loop_watch(&c->w, &e) < 0) {
		log_err(&e);
		c->w.fd = -1;
		refuse(fd, "init cannot watch this connection");
		return;
	}
	c->in_use = true;
	timer_start(&c->idle, now_ms() + CLIENT_IDLE_MS);
}

/* At most MAX_CLIENTS connections a turn: anyone may connect, and the loop
 * is level-triggered, so the rest wait for its next turn, after the timers,
 * signals and units a flood of connections would otherwise hold up. */
static void on_listener(struct watch *w, uint32_t events)
{
	(void)events;
	for (int n = 0; n < MAX_CLIENTS; n++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return; /* EAGAIN, or a connection that died before it was accepted */
		if (!peer_is_root(fd)) {
			refuse(fd, "permission denied: only root may use the control socket");
			continue;
		}
		client_add(fd);
	}
}

/* logs.c calls this with each batch of a unit's lines it wrote (whole lines, each
 * ending in a newline): a follower gets them a message's worth at a time, not a
 * message and a send() each (a unit writing as fast as it can, followed). */
static void on_log_lines(const char *unit, const char *text, size_t len)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];

		if (!c->in_use || strcmp(c->follow, unit) != 0)
			continue;
		if (send_lines(c, text, len) < 0) {
			log_msg(LOG_WARNING, "control: a logs -f client of %s is too slow; dropped",
				unit);
			client_close(c);
			continue;
		}
		client_flush(c);
	}
}

static int listen_on(const char *path, struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (fmt_path(sa.sun_path, sizeof(sa.sun_path), "%s", path) < 0)
		return err_set(e, ENAMETOOLONG, "control socket %s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, errno, "socket for %s", path);
	unlink(path);
	/* 0666: anyone may connect, so that a non-root wispctl hears why it is
	 * refused; the SO_PEERCRED check on accept is the guard. */
	mode_t old = umask(0111);
	int ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, 16) < 0) {
		err_set(e, errno, "bind/listen %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

void control_setup(void)
{
	struct err e;

	if (mkdir_p("/run/wisp", 0755, &e) < 0) {
		log_err(&e);
		return;
	}
	listener.fd = listen_on(CONTROL_SOCK, &e);
	listener.ready = on_listener;
	if (listener.fd < 0 || loop_watch(&listener, &e) < 0) {
		log_msg(LOG_ERR, "%s; wispctl will not work", e.msg);
		return;
	}
	logs_set_observer(on_log_lines);
}
