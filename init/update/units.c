/*
 * units.c: what PID 1 says its units are doing, over its control socket
 * (docs/control-protocol.md: a ps request, one P_UNIT record per unit, P_OK),
 * and whether a critical unit is up steadily enough to call a boot good.
 */
#include "units.h"

#include "../lib/proto.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_TIMEOUT_S 15

static int ask_ps(struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	struct pmsg p;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", CONTROL_SOCK);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pmsg_start(&p, P_PS);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || pmsg_end(&p) < 0 ||
	    send(fd, p.b, p.len, MSG_NOSIGNAL) < 0) {
		err_set(e, errno, "PID 1's control socket %s", CONTROL_SOCK);
		close(fd);
		return -1;
	}
	return fd;
}

static void unit_of(const struct pview *m, struct unit_now *u)
{
	memset(u, 0, sizeof(*u));
	pview_str(m, PT_NAME, u->name, sizeof(u->name));
	pview_str(m, PT_STATE, u->state, sizeof(u->state));
	if (pview_str(m, PT_HEALTH, u->health, sizeof(u->health)) <= 0)
		snprintf(u->health, sizeof(u->health), "none");
	u->has_uptime = pview_uint(m, PT_UPTIME, 8, &u->uptime_ms) > 0;
}

/* v grown to hold one more unit: by half again, as many as PID 1 sends (its sets of
 * DECL_MAX_UNITS, ROOT's and provision's), not a fixed count that loses the rest. */
static struct unit_now *units_grow(struct unit_now **v, size_t n, size_t *cap, struct err *e)
{
	struct unit_now *more;
	size_t want = *cap ? *cap + *cap / 2 : 64;

	if (n < *cap)
		return &(*v)[n];
	if (want > SIZE_MAX / sizeof(**v) || !(more = realloc(*v, want * sizeof(**v)))) {
		err_set(e, ENOMEM, "PID 1's units (%zu)", n + 1);
		return NULL;
	}
	*v = more;
	*cap = want;
	return &more[n];
}

int units_read(int fd, struct unit_now **v, size_t *n, struct err *e)
{
	unsigned char buf[PROTO_MAX_MSG];
	struct pview m;
	size_t cap = 0;
	int ret = -1;

	*v = NULL;
	*n = 0;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct unit_now *u;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			err_set(e, len < 0 ? errno : 0, "PID 1's control socket: no answer");
			break;
		}
		if (proto_decode(buf, (size_t)len, &m, e) < 0)
			break;
		if (m.type == P_OK) {
			ret = 0;
			break;
		}
		if (m.type != P_UNIT) {
			err_set(e, 0, "PID 1's control socket: an error answered ps");
			break;
		}
		if (!(u = units_grow(v, *n, &cap, e)))
			break;
		unit_of(&m, u);
		(*n)++;
	}
	if (ret < 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return ret;
}

int units_ps(struct unit_now **v, size_t *n, struct err *e)
{
	int fd = ask_ps(e), ret;

	*v = NULL;
	*n = 0;
	if (fd < 0)
		return -1;
	ret = units_read(fd, v, n, e);
	close(fd);
	return ret;
}

/* Healthy (its check passed), done (ended well), or running without a check for
 * UNIT_STEADY_MS: a unit that crashes right after each start is not up. */
int unit_steady(const struct unit_now *u, uint64_t *wait_ms)
{
	*wait_ms = 0;
	if (!strcmp(u->state, "healthy") || !strcmp(u->state, "done"))
		return 1;
	if (strcmp(u->state, "running") || strcmp(u->health, "none"))
		return 0;
	if (u->has_uptime && u->uptime_ms >= UNIT_STEADY_MS)
		return 1;
	*wait_ms = UNIT_STEADY_MS - (u->has_uptime ? u->uptime_ms : 0);
	return 0;
}

static const struct unit_now *unit_named(const struct unit_now *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

int units_critical_up(const struct unit_now *v, size_t n, const char *const *names, size_t nnames,
		      struct err *e)
{
	for (size_t i = 0; i < nnames; i++) {
		const struct unit_now *u = unit_named(v, n, names[i]);
		uint64_t wait;

		if (!u)
			return err_set(e, 0, "critical unit %s: PID 1 has no such unit", names[i]);
		if (unit_steady(u, &wait))
			continue;
		if (wait)
			return err_set(
			    e, 0,
			    "critical unit %s: running %llu.%llu s, not yet the %u s a unit "
			    "without a health check must run",
			    u->name, (unsigned long long)(u->uptime_ms / 1000),
			    (unsigned long long)(u->uptime_ms % 1000 / 100), UNIT_STEADY_MS / 1000);
		return err_set(e, 0, "critical unit %s: %s, health %s", u->name, u->state,
			       u->health);
	}
	return 0;
}

void units_not_up(const struct unit_now *v, size_t n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		uint64_t wait;

		if (unit_steady(&v[i], &wait))
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s (%s, health %s)",
					 used ? ", " : "", v[i].name, v[i].state, v[i].health);
	}
}
