/* image/pullnet.c: `image pull`'s network side, a child process that holds
 * no privilege. Everything a registry (or a MITM of a plain-HTTP one) says
 * is parsed there: TLS, the HTTP headers, the token service's JSON, the
 * manifests' bytes on the wire, the blobs with their partial files. The
 * root parent (image/pull.c) asks it for a manifest or a list of blobs over
 * a socket, decides everything else itself (indexes, what the store has
 * already) and trusts nothing it leaves: a manifest's digest is computed by
 * the parent, the blobs are checked again once the child is gone
 * (image/staged.c).
 *
 * The child is the init of a new pid namespace (its exit kills whatever it
 * started; the parent's waitpid returns after they are gone), becomes
 * nobody (image/drop.c: no groups, no_new_privs, not dumpable; its CA
 * bundle in a memfd), dies with its parent (PR_SET_PDEATHSIG), and keeps
 * only its socket, STAGE/net (where its blobs land) and STORE/tmp/partial,
 * both made its own by the parent: the store stays root's. The credentials
 * it sends were read by the parent (the file stays root's).
 *
 * Messages: a header (op, length), then the payload. Requests: MANIFEST
 * name; BLOBS an array of struct img_want. Answers: OK (a manifest's
 * Content-Type in 128 bytes, then its body), or ERR (errno, message). */
#include "../runtime/cl-private.h"
#include "http.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NET_MANIFEST = 1, NET_BLOBS, NET_OK, NET_ERR };
#define NET_CTYPE 128
#define NET_MAX	  (IMG_MAX_JSON + NET_CTYPE) /* the largest message either side takes */
/* The tests' spoiling of what the child stages, after its own checks
 * (tests/containerd-lite/pullsep.py): only in the host build
 * (-DCL_TEST_HOOKS), never in the one Wisp ships. */
#define NET_TEST_SPOIL "CL_TEST_PULL_SPOIL"

struct head {
	uint32_t op, len;
};

static int send_all(int s, const void *p, size_t n)
{
	for (const char *c = p; n;) {
		ssize_t w = send(s, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w, n -= (size_t)w;
	}
	return 0;
}

static int put(int s, uint32_t op, const void *a, size_t alen, const void *b, size_t blen)
{
	struct head h = {op, (uint32_t)(alen + blen)};

	return send_all(s, &h, sizeof(h)) < 0 || send_all(s, a, alen) < 0 ||
		       send_all(s, b, blen) < 0
		   ? -1
		   : 0;
}

static int recv_all(int s, void *p, size_t n)
{
	for (char *c = p; n;) {
		ssize_t r = recv(s, c, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r, n -= (size_t)r;
	}
	return 0;
}

/* One message: *p malloc'd, NUL-terminated past its length. -1 at the end
 * of the stream or on a message over NET_MAX. */
static int get(int s, uint32_t *op, char **p, size_t *len)
{
	struct head h;

	if (recv_all(s, &h, sizeof(h)) < 0 || h.len > NET_MAX || !(*p = malloc(h.len + 1)))
		return -1;
	if (recv_all(s, *p, h.len) < 0)
		return free(*p), -1;
	(*p)[h.len] = 0;
	*op = h.op;
	*len = h.len;
	return 0;
}

static int put_err(int s, const struct cl_err *e)
{
	int32_t num = e->num;

	return put(s, NET_ERR, &num, sizeof(num), e->msg, strlen(e->msg));
}

/* --- the child ------------------------------------------------------------ */

#ifdef CL_TEST_HOOKS
/* What the child staged, made wrong after its own checks: "flip" a byte of
 * each blob, "link" each a second name. The parent must refuse either. */
static void spoil(int dst, const struct img_want *w, size_t n)
{
	const char *how = getenv(NET_TEST_SPOIL);
	char name[80];

	for (size_t i = 0; how && i < n; i++) {
		int fd;
		if (!strcmp(how, "link")) {
			img_fmt(name, sizeof(name), "%s.link", w[i].digest + 7);
			linkat(dst, w[i].digest + 7, dst, name, 0);
		} else if (fchmodat(dst, w[i].digest + 7, 0600, 0) == 0 &&
			   (fd = openat(dst, w[i].digest + 7, O_RDWR | O_CLOEXEC)) >= 0) {
			char c = 0;
			if (pread(fd, &c, 1, 0) == 1)
				c ^= 1, (void)!pwrite(fd, &c, 1, 0);
			close(fd);
		}
	}
}
#else
static void spoil(int dst, const struct img_want *w, size_t n)
{
	(void)dst, (void)w, (void)n;
}
#endif

static int serve_one(struct img_endpoint *ep, int s, uint32_t op, char *p, size_t len,
		     const int dirs[2], const struct img_reserve *res)
{
	char dst[64], partial[64], ctype[NET_CTYPE] = "", *body;
	struct cl_err err = {0};
	size_t blen;

	img_fmt(dst, sizeof(dst), "/proc/self/fd/%d", dirs[0]);
	img_fmt(partial, sizeof(partial), "/proc/self/fd/%d", dirs[1]);
	if (op == NET_MANIFEST && img_reg_manifest(ep, p, &body, &blen, ctype, &err) == 0) {
		int r = put(s, NET_OK, ctype, sizeof(ctype), body, blen);
		free(body);
		return r;
	}
	if (op == NET_BLOBS && len % sizeof(struct img_want) == 0 &&
	    img_fetch_blobs(ep, partial, dst, (struct img_want *)(void *)p,
			    len / sizeof(struct img_want), res, &err) == 0) {
		spoil(dirs[0], (struct img_want *)(void *)p, len / sizeof(struct img_want));
		return put(s, NET_OK, NULL, 0, NULL, 0);
	}
	if (!err.msg[0])
		cl_error(&err, 0, "pull: network side: request %u of %zu bytes", op, len);
	return put_err(s, &err);
}

/* stdin /dev/null, stdout and stderr the pipe the parent reads (its
 * progress lines), and a session of its own: no descriptor of root's
 * terminal is left, nor the terminal as its controlling one (TIOCSTI would
 * type commands into root's shell). */
static int no_terminal(int out, struct cl_err *err)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return cl_error(err, errno, "pull: network side's stdio");
	close(null);
	close(out);
	if (setsid() < 0)
		return cl_error(err, errno, "pull: network side's session");
	return 0;
}

static _Noreturn void child(struct img_endpoint *ep, int s, int out, const int dirs[2],
			    const struct img_reserve *res)
{
	int keep[] = {s, out, dirs[0], dirs[1]};
	struct cl_err err = {0};
	uint32_t op;
	size_t len;
	char *p;

	if (cl_close_fds_except(keep, 4, &err) < 0 || no_terminal(out, &err) < 0 ||
	    img_drop_root(ep->ca, "pull", &err) < 0 ||
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 &&
	     cl_error(&err, errno, "pull: parent death signal") < 0)) {
		put_err(s, &err);
		_exit(1);
	}
	while (get(s, &op, &p, &len) == 0) {
		int r = serve_one(ep, s, op, p, len, dirs, res);
		free(p);
		if (r < 0)
			break;
	}
	_exit(0); /* the parent closed its end: done */
}

/* --- the parent ----------------------------------------------------------- */

/* dir (under the root-only store) made fresh and the child's own. */
static int own_dir(const char *dir, bool fresh, struct cl_err *err)
{
	int fd;

	if (fresh && img_rm_tree(dir, err) < 0)
		return -1;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return cl_error(err, errno, "pull: %s", dir);
	if (geteuid() == 0 && fchown(fd, IMG_NET_ID, IMG_NET_ID) < 0)
		return close(fd), cl_error(err, errno, "pull: chown %s", dir);
	return fd;
}

/* Fork semantics, born the init of a new pid namespace (root's: a user
 * without CAP_SYS_ADMIN has no privilege to shed, and forks). */
static pid_t spawn(void)
{
	unsigned long flags = (geteuid() == 0 ? CLONE_NEWPID : 0) | SIGCHLD;

	fflush(NULL); /* what stdio holds is printed once, not by both */
	return (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
}

int img_net_start(struct img_endpoint *ep, const char *stage, const char *store,
		  const struct img_reserve *res, struct img_net *n, struct cl_err *err)
{
	char net[4096], partial[4096];
	int sv[2], out[2] = {-1, -1}, dirs[2] = {-1, -1};

	*n = (struct img_net){.pid = -1, .sock = -1, .dir = -1, .out = -1};
	img_fmt(net, sizeof(net), "%s/net", stage);
	img_fmt(partial, sizeof(partial), "%s/tmp/partial", store);
	if ((dirs[0] = own_dir(net, true, err)) < 0 || (dirs[1] = own_dir(partial, false, err)) < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		cl_error(err, errno, "pull: socketpair");
		goto fail;
	}
	if ((n->pid = spawn()) == 0) {
		close(sv[0]);
		close(out[0]);
		child(ep, sv[1], out[1], dirs, res);
	}
	close(sv[1]);
	close(out[1]);
	out[1] = -1;
	if (n->pid < 0) {
		close(sv[0]);
		cl_error(err, errno, "pull: start the network side");
		goto fail;
	}
	n->sock = sv[0];
	n->out = out[0];
	n->dir = dirs[0];
	close(dirs[1]);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (dirs[i] >= 0)
			close(dirs[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

/* What the child printed (its progress) reaches stdout a line at a time,
 * each line's controls as \xHH text: the child may be the registry's, and
 * stdout root's terminal. */
static void relay(struct img_net *n)
{
	ssize_t r;
	char *nl;

	/* non-blocking: all there is, up to the answer that follows it */
	while ((r = read(n->out, n->line + n->nline, sizeof(n->line) - 1 - n->nline)) > 0) {
		n->nline += (size_t)r;
		n->line[n->nline] = 0;
		while ((nl = strchr(n->line, '\n')) || n->nline == sizeof(n->line) - 1) {
			size_t k = nl ? (size_t)(nl - n->line) : n->nline;
			n->line[k] = 0;
			cl_print_name(stdout, n->line);
			putchar('\n');
			k += k < n->nline; /* the line feed */
			memmove(n->line, n->line + k, n->nline - k + 1);
			n->nline -= k;
		}
	}
	fflush(stdout);
}

/* Until the child answers (or is gone), its output relayed. */
static void await(struct img_net *n)
{
	struct pollfd p[2] = {{.fd = n->sock, .events = POLLIN}, {.fd = n->out, .events = POLLIN}};

	while (poll(p, 2, -1) > 0 || errno == EINTR) {
		if (p[1].revents & POLLIN)
			relay(n);
		else if (p[1].revents)
			p[1].fd = -1; /* its end closed */
		if (p[0].revents)
			return;
	}
}

/* The child's answer to a request: 0 OK (*p its payload), or -1 with its
 * error (its URLs without their queries) or the reason it gave none. */
static int ask(struct img_net *n, uint32_t op, const void *a, size_t alen, char **p, size_t *len,
	       struct cl_err *err)
{
	uint32_t got;
	int32_t num;

	put(n->sock, op, a, alen, NULL, 0); /* a child gone shows in its answer */
	await(n);
	if (get(n->sock, &got, p, len) < 0)
		return cl_error(err, 0, "pull: the network side ended without an answer");
	if (got == NET_OK)
		return 0;
	if (got != NET_ERR || *len < sizeof(num)) {
		free(*p);
		return cl_error(err, 0, "pull: the network side answered %u", got);
	}
	memcpy(&num, *p, sizeof(num));
	cl_error(err, 0, "%.1000s", *p + sizeof(num));
	err->num = num;
	img_strip_url_secrets(err->msg);
	free(*p);
	return -1;
}

int img_net_manifest(struct img_net *n, const char *name, char **body, size_t *len, char ctype[128],
		     struct cl_err *err)
{
	char *p;
	size_t plen;

	if (ask(n, NET_MANIFEST, name, strlen(name), &p, &plen, err) < 0)
		return -1;
	if (plen < NET_CTYPE || !(*body = malloc(plen - NET_CTYPE + 1))) {
		free(p);
		return cl_error(err, 0, "pull: the network side's manifest %.80s: %zu bytes", name,
				plen);
	}
	img_fmt(ctype, NET_CTYPE, "%.*s", NET_CTYPE - 1, p);
	*len = plen - NET_CTYPE;
	memcpy(*body, p + NET_CTYPE, *len);
	(*body)[*len] = 0;
	free(p);
	return 0;
}

int img_net_blobs(struct img_net *n, const struct img_want *w, size_t nw, struct cl_err *err)
{
	char *p;
	size_t len;

	if (!nw)
		return 0;
	if (ask(n, NET_BLOBS, w, nw * sizeof(*w), &p, &len, err) < 0)
		return -1;
	free(p);
	return 0;
}

int img_net_end(struct img_net *n, bool kill_it)
{
	int status = 0;

	if (n->sock >= 0)
		close(n->sock); /* the child's request loop ends */
	if (n->out >= 0)
		close(n->out);
	if (n->pid > 0 && kill_it)
		kill(n->pid, SIGKILL);
	while (n->pid > 0 && waitpid(n->pid, &status, 0) < 0 && errno == EINTR)
		;
	n->sock = n->out = n->pid = -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
