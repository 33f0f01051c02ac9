/*
 * bootlog.c: the boot's timeline, for `wispctl boot`.
 *
 * Each boot step (main.c, provrun.c) and each unit's first start
 * (unit.c) is one entry: when it began, when it was done, and what it
 * waited for before it could begin. Nothing is kept past the first 64
 * entries: a timeline is about the boot, not about every restart after
 * it. bootlog_render() prints them as systemd-analyze blame does: the
 * longest first.
 */
#include "pid1.h"

#include <stdio.h>
#include <string.h>

#define BOOTLOG_MAX 64

struct entry {
	char what[DECL_NAME_MAX + 24];
	char waited[DECL_NAME_MAX + 1];
	uint64_t start, end; /* now_ms(); end 0: not done yet */
};

static struct entry ev[BOOTLOG_MAX];
static size_t nev;

int bootlog_begin(const char *what, const char *waited, uint64_t start)
{
	struct entry *x;

	if (nev == BOOTLOG_MAX)
		return -1;
	x = &ev[nev];
	snprintf(x->what, sizeof(x->what), "%s", what);
	snprintf(x->waited, sizeof(x->waited), "%s", waited ? waited : "");
	x->start = start;
	x->end = 0;
	return (int)nev++;
}

void bootlog_end(int i, uint64_t end)
{
	if (i >= 0 && (size_t)i < nev && !ev[i].end)
		ev[i].end = end;
}

void bootlog_step(const char *what, uint64_t start, uint64_t end)
{
	bootlog_end(bootlog_begin(what, NULL, start), end);
}

static uint64_t took(const struct entry *x, uint64_t now)
{
	return (x->end ? x->end : now) - x->start;
}

/* "12.345s" */
static void secs(char *buf, size_t size, uint64_t ms)
{
	snprintf(buf, size, "%llu.%03llus", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000));
}

size_t bootlog_render(char *buf, size_t size, uint64_t now)
{
	size_t order[BOOTLOG_MAX], len = 0;
	int n;

	/* Longest first; insertion sort of at most 64. */
	for (size_t i = 0; i < nev; i++) {
		size_t j = i;
		for (; j > 0 && took(&ev[order[j - 1]], now) < took(&ev[i], now); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	n = snprintf(buf, size, "%9s %9s  %s\n", "TOOK", "STARTED", "WHAT (WAITED FOR)");
	for (size_t i = 0; n > 0 && (size_t)n < size - len && i <= nev; i++) {
		const struct entry *x;
		char t[24], s[24];

		len += (size_t)n;
		if (i == nev)
			break;
		x = &ev[order[i]];
		secs(t, sizeof(t), took(x, now));
		secs(s, sizeof(s), x->start);
		n = snprintf(buf + len, size - len, "%9s %9s  %s%s%s%s%s\n", t, s, x->what,
			     x->waited[0] ? " (waited for " : "", x->waited,
			     x->waited[0] ? ")" : "", x->end ? "" : " (not done yet)");
	}
	return len;
}
