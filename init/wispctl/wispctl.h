/* wispctl.h: what wispctl's files share (docs/wispctl.md). */
#ifndef WISP_WISPCTL_H
#define WISP_WISPCTL_H

#include "../lib/proto.h"

#include <stdbool.h>

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

#endif /* WISP_WISPCTL_H */
