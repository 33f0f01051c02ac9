/* parse_decl.c: what loading a declaration file costs (init/lib/decl.c
 * over yamltree.c and libyaml), as PID 1 and provision do at every boot.
 * Built static against musl by bench/parse.sh, like init itself, since
 * the allocator is part of the cost.
 *
 *   parse_decl FILE RUNS    prints the median of 7 rounds of RUNS loads, in ms per load
 */
#include "lib/decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void ignore(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static double round_ms(const char *file, int runs)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < runs; i++) {
		struct decls set = {0};
		decl_load_file(&set, file, ignore, NULL);
		deps_check(&set, ignore, NULL);
		decls_free(&set);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) / runs;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double t[7];

	if (argc != 3) {
		fprintf(stderr, "usage: parse_decl FILE RUNS\n");
		return 2;
	}
	decl_set_etc("/nonexistent"); /* no user lookups: the same on every host */
	for (int i = 0; i < 7; i++)
		t[i] = round_ms(argv[1], atoi(argv[2]));
	qsort(t, 7, sizeof(t[0]), cmp);
	printf("%.3f\n", t[3]);
	return 0;
}
