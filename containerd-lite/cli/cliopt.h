/* cli/cliopt.h: containerd-lite's command lines (main.c's runc-compatible one,
 * cli/image.c's): one option scanner over tables, and main.c's parser.
 * See docs/containerd-lite.md, "Command line". */
#ifndef CL_CLIOPT_H
#define CL_CLIOPT_H

#include "../containerd-lite.h"

#include <stdbool.h>
#include <stddef.h>

/* One option of a table (tables end with an entry whose lng is NULL). */
struct cli_opt {
	const char *lng;  /* "--bundle" */
	const char *shrt; /* "-b", or NULL */
	bool value;	  /* takes one: "--bundle DIR", "--bundle=DIR", "-b DIR" */
	int id;		  /* > 0, what cli_next returns */
	const char *only; /* the commands that take it ("list ps"), NULL: every one */
};

enum { CLI_END = 0, CLI_OPERAND = -1, CLI_UNKNOWN = -2, CLI_NOVALUE = -3 };

/* A scan of argv[i..argc): options anywhere among the operands; "--"
 * ends them, as does ended set by the caller (exec's COMMAND). */
struct cli_scan {
	char **argv;
	int argc, i;
	const char *cmd; /* for the tables' only */
	bool ended;
	const char *arg; /* the operand, or the option in error */
	const char *val; /* the option's value */
};

/* The next option of tab or tab2 (may be NULL): its id, val set; or
 * CLI_OPERAND (arg), CLI_UNKNOWN or CLI_NOVALUE (arg: the option), or
 * CLI_END. */
int cli_next(struct cli_scan *s, const struct cli_opt *tab, const struct cli_opt *tab2);

/* What main.c's command line asks for. */
struct cl_cmdline {
	const char *root, *log, *log_format;
	bool debug;
	const char *cmd;
	struct cl_opts o; /* id, bundle, pid_file, console_socket, detach */
	bool force, all, quiet, keep, json;
	const char *format;  /* list, ps: "table" or "json" (json true) */
	const char *args[2]; /* ID, then kill's SIGNAL */
	int nargs;
	char **rest; /* exec: COMMAND [ARG...]; image: its arguments */
	int nrest;
	const char *process, *cwd, *user; /* exec */
	const char *env[64];
	int nenv;
	bool tty;
};

enum cl_action { CL_RUN, CL_HELP, CL_VERSION, CL_USAGE };

extern const char cl_usage_text[];

/* argv -> c. Global options (--root, --log, --log-format, --debug) before
 * the command, as runc, and after it too; a command's options anywhere
 * among its operands. CL_USAGE: msg holds the error ("list: unknown
 * option --bogus"). --help and --version win over any error. */
enum cl_action cl_cmdline_parse(int argc, char **argv, struct cl_cmdline *c, char *msg,
				size_t size);

#endif /* CL_CLIOPT_H */
