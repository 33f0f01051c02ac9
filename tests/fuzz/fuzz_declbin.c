/*
 * Fuzz target: the compiled form of declarations (init/lib/declbin.c), which
 * PID 1 decodes before its first fork. Whatever the bytes, the decoder
 * refuses them with a line naming the file, or reads a set that encodes back
 * to exactly those bytes (the form has one spelling per set), never past the
 * end of the buffer (ASan) and never leaking.
 *
 * A file the fuzzer invents rarely gets past the header's signature, which
 * changes with the table, so the first byte picks what the rest is: 0, the
 * file itself; 1, bytes XORed over a valid file compiled at start-up from
 * `units` below (its signature always the current one); 2, that file cut at
 * the length the next two bytes give. Build and run: bench/fuzz.sh.
 */
#include "lib/decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every kind of field: strings, lists, integers, a char array, dependencies. */
static const char units[] =
    "environment: {LANG: C.UTF-8, TZ: UTC}\n"
    "services:\n"
    "  - name: a\n"
    "    command: [/bin/a, --flag, '']\n"
    "    tty: console\n"
    "    env: {A: '1'}\n"
    "    working_dir: /srv\n"
    "    restart: on-failure\n"
    "    restart_delay: {initial: 50ms, max: 2m, reset_after: 1h}\n"
    "    stop_signal: INT\n"
    "    healthcheck: {command: test -f /run/ok, interval: 1s, retries: 2}\n"
    "    resources: {cpu_weight: 50, cpu_max: '0.5', memory_max: 64M, pids_max: 100}\n"
    "    early: true\n"
    "  - {name: b, kind: oneshot, command: [b], early: true, depends_on: {a: {condition: "
    "healthy}}}\n"
    "containers:\n"
    "  - {name: web, image: 'bb:1', ports: ['8080:80'], volumes: ['/srv:/srv:ro'], early: true}\n";

static char *valid;
static size_t valid_len;

static void ignore(void *ctx, const char *msg)
{
	(void)ctx, (void)msg;
}

/* The valid file: units parsed from a memfd (as fuzz_decl reads), then encoded. */
static void compile_valid(void)
{
	struct decls set = {0};
	char path[64];
	int fd = memfd_create("declbin", 0);

	if (fd < 0 || write(fd, units, sizeof(units) - 1) != (ssize_t)(sizeof(units) - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	decl_set_etc("/nonexistent");
	decl_load_file(&set, path, ignore, NULL);
	/* the set's problems and left-out names too, as image-builder's allowed errors */
	set.errors = strv_push(set.errors, "/etc/wisp/x.yaml:9:5: service \"z\": a problem");
	decls_note_broken(&set, "z");
	if (set.n != 3 || !set.errors || !set.broken ||
	    declbin_encode(&set, &valid, &valid_len) < 0)
		abort(); /* the seed must be the whole set, or the fuzzer explores less */
	decls_free(&set);
	close(fd);
}

/* The file this input stands for (see above), in a buffer of its own size (ASan). */
static unsigned char *input(const uint8_t *data, size_t size, size_t *len)
{
	unsigned char *buf;

	if (size == 0 || data[0] > 2)
		return NULL;
	if (data[0] == 0) {
		*len = size - 1;
		buf = malloc(*len + 1);
		if (buf)
			memcpy(buf, data + 1, *len);
		return buf;
	}
	*len = valid_len;
	if (data[0] == 2)
		*len = size < 3 ? 0 : ((size_t)data[1] << 8 | data[2]) % (valid_len + 1);
	buf = malloc(*len + 1);
	if (!buf)
		return NULL;
	memcpy(buf, valid, *len);
	for (size_t i = 1; data[0] == 1 && i < size && *len; i++)
		buf[(i - 1) % *len] ^= data[i];
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decls set = {0};
	struct err e;
	unsigned char *buf;
	char *again;
	size_t len, again_len;

	if (!valid)
		compile_valid();
	if (!(buf = input(data, size, &len)))
		return 0;
	if (declbin_decode(&set, buf, len, "fuzz", &e) < 0) {
		if (strncmp(e.msg, "fuzz: ", 6) != 0)
			abort(); /* every refusal names the file */
	} else {
		if (declbin_encode(&set, &again, &again_len) < 0)
			abort();
		if (again_len != len || memcmp(again, buf, len) != 0)
			abort(); /* read as a set that is not what the file says */
		free(again);
		decls_free(&set);
	}
	free(buf);
	return 0;
}
