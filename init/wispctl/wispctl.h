/* wispctl.h: what wispctl's files share (docs/wispctl.md). */
#ifndef WISP_WISPCTL_H
#define WISP_WISPCTL_H

#include "../lib/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

extern const char wctl_usage_text[];

/* What the command line asks for. */
enum wctl_action { WCTL_RUN, WCTL_HELP, WCTL_VERSION, WCTL_USAGE };

struct wctl_args {
	struct preq r;
	bool json;
	char msg[256]; /* WCTL_USAGE: the error, without "wispctl: " */
};

/* argv -> a request. Options may come anywhere among the operands (before
 * or after the command, before or after the unit name), as docker, kubectl
 * and git take them; "--" ends them. --help and --version win over any
 * error, wherever they are. */
enum wctl_action wctl_args(int argc, char **argv, struct wctl_args *a);

/* netinfo.c: a running container's address and published ports on the
 * bridge wisp0, from containerd-lite's leases. false: none (host or
 * private network, not running, or no lease readable). */
#define WCTL_NET_PORTS 32
/* the updater that `wispctl update` runs (docs/update.md) */
#define UPDATER "/usr/libexec/wisp/update"
/* where `wispctl update apply URL` hands the updater its URL: out of the argv every
 * user reads (the updater's UPD_URL_ENV, init/update/update.h) */
#define UPDATER_URL_ENV "WISP_UPDATE_URL"
/* the runtime whose image pull `wispctl pull` runs (docs/images.md) */
#define RUNTIME "/bin/containerd-lite"
struct wctl_net {
	char addr[16];
	char ports[WCTL_NET_PORTS][40];
	unsigned nports;
};
bool wctl_net(const char *id, unsigned pid, struct wctl_net *ni);

/* tty.c: LEN bytes of a log to a terminal, its controls as \xHH text
 * (lib/ttyesc.h), one stream across calls: a character cut between two of
 * init's messages is held for the next; wctl_tty_end writes what is held. */
void wctl_tty_write(FILE *f, const void *buf, size_t len);
void wctl_tty_end(FILE *f);
/* S as a JSON string; TTY: to a terminal, where the C1 controls are
 * written as \u0080-\u009f too (a pipe gets their UTF-8, as JSON allows). */
void wctl_json_str(FILE *f, const char *s, size_t len, bool tty);

#endif /* WISP_WISPCTL_H */
