/*
 * boot.c: which slot this boot runs, and what grubenv says of both.
 *
 * The slot comes from the kernel command line (wisp.slot=, written into each
 * slot's slot.cfg), not from grubenv: after a rollback grubenv names the
 * slot GRUB chose, and the two agree only when the boot is the one GRUB
 * meant.
 */
#include "update.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

char slot_of(const char *s)
{
	return (s[0] == 'A' || s[0] == 'B') && s[1] == '\0' ? s[0] : 0;
}

char slot_other(char s)
{
	return s == 'A' ? 'B' : 'A';
}

int boot_load(struct boot_state *b, struct err *e)
{
	char val[8];

	memset(b, 0, sizeof(*b));
	if (read_text("/proc/cmdline", b->cmdline, sizeof(b->cmdline), e) < 0)
		return -1;
	if (cmdline_get(b->cmdline, "wisp.slot", val, sizeof(val)) >= 0)
		b->booted = slot_of(val);
	if (esp_mount(e) < 0)
		return -1;
	snprintf(b->path, sizeof(b->path), "%s/grub/grubenv", ESP_DIR);
	return grubenv_load(&b->env, b->path, e);
}

void slot_version(char slot, char *out, size_t size)
{
	char path[64], text[1024];
	struct err e;

	*out = '\0';
	snprintf(path, sizeof(path), "%s/%c/slot.cfg", ESP_DIR, slot);
	if (read_text(path, text, sizeof(text), &e) >= 0)
		slot_cfg_version(text, out, size);
}

void console_say(const char *fmt, ...)
{
	char msg[512];
	int fd, n;
	va_list ap;

	va_start(ap, fmt);
	/* <5>: notice, printed on the console at the default log level */
	n = snprintf(msg, sizeof(msg), "<5>wisp-update: ");
	n += vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg + 3);
	/* The record must end its line: the kernel holds a record without one for a
	 * continuation, and the console shows it only when the next one comes (once
	 * 113 s late, at the reboot it announced; system test update-userdata). */
	if ((size_t)n >= sizeof(msg) - 1)
		n = (int)sizeof(msg) - 2;
	msg[n] = '\n', msg[n + 1] = 0;
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, msg, strlen(msg));
		close(fd);
	}
}
