/* hostname.c: the host name, from /etc/hostname or the default "wisp". */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_HOSTNAME "wisp"
#define HOST_NAME_LEN	 64 /* the kernel's __NEW_UTS_LEN */

int hostname_parse(const char *text, char *name, size_t size)
{
	size_t len;

	/* First line, blanks around it dropped. */
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	len = strcspn(text, "\n\r");
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0 || len > HOST_NAME_LEN || len >= size)
		return -1;
	/* RFC 1123 letters; anything else in a host name is a typo or an attack. */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return -1;
	}
	if (text[0] == '-' || text[0] == '.')
		return -1;
	memcpy(name, text, len);
	name[len] = '\0';
	return 0;
}

void hostname_setup(const char *path)
{
	char text[256], name[HOST_NAME_LEN + 1] = DEFAULT_HOSTNAME;
	struct err e;

	if (read_text(path, text, sizeof(text), &e) < 0) {
		if (e.num != ENOENT)
			log_err(&e);
	} else if (hostname_parse(text, name, sizeof(name)) < 0) {
		log_msg(LOG_WARNING, "%s: not a valid host name, using \"%s\"", path,
			DEFAULT_HOSTNAME);
		strcpy(name, DEFAULT_HOSTNAME);
	}
	if (sethostname(name, strlen(name)) < 0) {
		err_set(&e, errno, "sethostname %s", name);
		log_err(&e);
		return;
	}
	log_msg(LOG_INFO, "hostname %s", name);
}
