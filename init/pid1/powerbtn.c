/*
 * powerbtn.c: the ACPI power button (QEMU's system_powerdown, a cloud's
 * "stop instance") asks for an orderly poweroff.
 *
 * The kernel's ACPI button driver reports it as an input device named
 * "Power Button"; evdev gives it a /dev/input/eventN node. No acpid: init
 * reads the key events itself from its loop.
 */
#include "pid1.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static struct watch button = {.fd = -1};

static void on_button(struct watch *w, uint32_t events)
{
	struct input_event ev[16];
	ssize_t n;

	(void)events;
	while ((n = read(w->fd, ev, sizeof(ev))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++)
			if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1) {
				log_msg(LOG_NOTICE, "power button pressed");
				shutdown_request(SHUTDOWN_POWEROFF, 0, 0);
			}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		loop_unwatch(w); /* the device went away */
		close(w->fd);
		w->fd = -1;
	}
}

/* /dev/input/eventN may not exist (no devtmpfs node yet): make it from sysfs' dev. */
static int open_event(const char *sys, const char *ev, struct err *e)
{
	char path[300], text[32], node[96];
	uint64_t maj, min;
	const char *end;
	int fd;

	snprintf(node, sizeof(node), "/dev/input/%s", ev);
	fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : err_set(e, errno, "open %s", node);
	snprintf(path, sizeof(path), "%s/class/input/%s/dev", sys, ev);
	if (read_text(path, text, sizeof(text), e) < 0)
		return -1;
	/* Not sscanf: it would pull musl's float parser into PID 1. */
	end = dec_scan(text, &maj);
	if (!end || *end != ':' || !dec_scan(end + 1, &min))
		return err_set(e, 0, "%s: \"%s\" is not MAJOR:MINOR", path, text);
	mkdir("/dev/input", 0755);
	if (mknod(node, S_IFCHR | 0600, makedev((unsigned)maj, (unsigned)min)) < 0 &&
	    errno != EEXIST)
		return err_set(e, errno, "mknod %s", node);
	fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd >= 0 ? fd : err_set(e, errno, "open %s", node);
}

/* The first eventN whose device is called "Power Button". Returns 0 or -1 (none). */
static int find_button(const char *sys, char *ev, size_t size)
{
	char dir[256], path[600], name[128];
	struct dirent *de;
	struct err e;
	int ret = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/input", sys);
	if (!(d = opendir(dir)))
		return -1;
	while (ret < 0 && (de = readdir(d))) {
		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device/name", dir, de->d_name);
		if (read_text(path, name, sizeof(name), &e) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, "Power Button") == 0 && strlen(de->d_name) < size) {
			strcpy(ev, de->d_name);
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

void powerbtn_setup(const char *sys)
{
	char ev[64];
	struct err e;

	if (find_button(sys, ev, sizeof(ev)) < 0) {
		log_msg(LOG_INFO, "no ACPI power button; poweroff only from inside");
		return;
	}
	button.fd = open_event(sys, ev, &e);
	button.ready = on_button;
	if (button.fd < 0 || loop_watch(&button, &e) < 0) {
		log_msg(LOG_ERR, "power button: %s", e.msg);
		if (button.fd >= 0)
			close(button.fd);
		button.fd = -1;
		return;
	}
	log_msg(LOG_INFO, "power button on /dev/input/%s", ev);
}
