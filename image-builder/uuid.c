/* uuid.c: every identifier of an image is derived from the spec's name,
 * so two builds of one spec carry the same UUIDs (reproducibility) and
 * different specs do not collide. */
#include "image-builder.h"

#include <stdio.h>
#include <string.h>

/* The Wisp namespace (a random v4 UUID, fixed forever: changing it changes
 * every derived identifier). */
static const char wisp_ns[] = "73cbec29-fe7d-48f1-97aa-0dfd1b8012cc";

void ib_uuid_derive(uuid_t out, const char *name, const char *purpose)
{
	char buf[512];
	uuid_t ns;
	int n;

	uuid_parse(wisp_ns, ns);
	n = snprintf(buf, sizeof(buf), "%s/%s", name, purpose);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1; /* names are length-checked by the spec */
	uuid_generate_sha1(out, ns, buf, (size_t)n);
}

void ib_part_uuid(uuid_t out, const char *name, const char *part)
{
	char purpose[64];

	snprintf(purpose, sizeof(purpose), "partition/%s", part);
	ib_uuid_derive(out, name, purpose);
}

void ib_uuid_to_guid(uint8_t out[16], const uuid_t in)
{
	/* GUIDs store time_low, time_mid and time_hi little-endian. */
	out[0] = in[3], out[1] = in[2], out[2] = in[1], out[3] = in[0];
	out[4] = in[5], out[5] = in[4];
	out[6] = in[7], out[7] = in[6];
	memcpy(out + 8, in + 8, 8);
}

uint32_t ib_fat_volid(const char *name)
{
	uuid_t u;

	ib_uuid_derive(u, name, "esp/volume-id");
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

void ib_fat_volid_str(uint32_t volid, char out[10])
{
	snprintf(out, 10, "%04X-%04X", (unsigned)(volid >> 16), (unsigned)(volid & 0xffff));
}
