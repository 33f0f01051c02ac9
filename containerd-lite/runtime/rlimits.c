/* runtime/rlimits.c: process.rlimits, applied in the container before exec. */
#include "cl-private.h"
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int res;
} rl_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int cl_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(rl_names) / sizeof(rl_names[0]); i++)
		if (strcmp(name, rl_names[i].name) == 0)
			return rl_names[i].res;
	return -1;
}

static const char *rl_name(int res)
{
	for (size_t i = 0; i < sizeof(rl_names) / sizeof(rl_names[0]); i++)
		if (rl_names[i].res == res)
			return rl_names[i].name;
	return "?";
}

int cl_rlimits_apply(const struct cl_spec *s, struct cl_err *e)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit r = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};

		if (setrlimit(s->rlimits[i].type, &r) < 0)
			return cl_error(e, errno, "setrlimit %s", rl_name(s->rlimits[i].type));
	}
	return 0;
}
