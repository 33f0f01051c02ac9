/*
 * vmdk.c: the content id of a VMDK's descriptor, set to a fixed value so that
 * a conversion is reproducible (convert.c reads and writes the descriptor).
 *
 * qemu-img writes `CID=%x` of a random 32-bit number: 1 to 8 digits (one
 * conversion in sixteen has 7). The id written here always has 8, so the
 * text after it moves; the descriptor's area is a fixed number of sectors,
 * its text NUL-padded, and the new text must leave a NUL in it.
 */
#include "image-builder.h"

#include <stdio.h>
#include <string.h>

int ib_vmdk_set_cid(char *desc, size_t len, const uint8_t guid[16])
{
	size_t text = strnlen(desc, len), digits;
	char cid[9], *p = NULL;

	if (text >= len)
		return -1; /* no NUL: not a text qemu-img wrote */
	if (strncmp(desc, "CID=", 4) == 0)
		p = desc;
	else if ((p = strstr(desc, "\nCID=")))
		p++;
	if (!p)
		return -1;
	p += 4;
	digits = strspn(p, "0123456789abcdef");
	if (digits < 1 || digits > 8 || p[digits] != '\n' || text - digits + 8 >= len)
		return -1;
	memmove(p + 8, p + digits, text - (size_t)(p - desc) - digits + 1);
	snprintf(cid, sizeof(cid), "%02x%02x%02x%02x", guid[0], guid[1], guid[2], guid[3]);
	memcpy(p, cid, 8);
	return 0;
}
