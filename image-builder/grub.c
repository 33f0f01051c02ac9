/* grub.c: GRUB images and configuration for both firmware paths.
 *
 * Both images (i386-pc core.img and x86_64-efi BOOTX64.EFI) carry every
 * module they need and the same small embedded config, which finds the ESP
 * by its FAT volume id and hands over to /grub/grub.cfg there. Nothing but
 * grub.cfg, grubenv and each slot's kernel and slot.cfg lives on the ESP, so
 * BIOS and UEFI boots can't diverge through module files. grub.cfg is the
 * same for every version: what a slot boots is in its own directory, which
 * an update of the other slot never writes.
 */
#include "image-builder.h"
#include "../init/update/update.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const common_modules[] = {
    "part_gpt", "fat",	    "search",  "search_fs_uuid", "configfile", "normal", "linux",  "boot",
    "serial",	"terminal", "loadenv", "test",		 "echo",       "sleep",	 "reboot", "halt",
    "ls",	"cat",	    "regexp",
};
/* OpenPGP signatures of RSA keys over SHA-256 (secboot.c signs so) */
static const char *const sig_modules[] = {"pgp", "gcry_rsa", "gcry_sha256"};

static const char *const pc_modules[] = {"biosdisk"};
/* tpm: GRUB measures what it reads and runs into the TPM, if the machine has one
 * (docs/security.md, "Measured boot"); nothing without one */
static const char *const efi_modules[] = {"efi_gop", "tpm"};
/* The kernel started through its EFI stub, which hands it the firmware's TPM event
 * log. Not in a Secure Boot image: there Debian's linux command tries linuxefi first,
 * which asks shim (Wisp has none) to check the kernel, and fails the boot. */
static const char *const stub_modules[] = {"linuxefi"};

#define IB_MAX_TRIES  9
#define IB_GOOD_TRIES 3 /* boots a good slot gets before GRUB takes the other one */
/* A trial boot's kernel arguments (grubenv's wisp_watch replaces them): softdog
 * runs from the kernel's start and resets the host unless `update watch` takes
 * it over in time (docs/update.md). */
#define IB_TRIAL_WATCH "softdog.soft_active_on_boot=1 softdog.soft_margin=120"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Secure Boot: check_signatures from here on, and superusers without any password:
 * nobody can edit an entry or type a command (a `linux` line of one's own would boot
 * the signed kernel on another root), where grub.cfg failing its check would
 * otherwise leave GRUB's command line. Exported: configfile's context sees only those. */
#define ENFORCE "set check_signatures=enforce\nset superusers=\"root\"\nexport superusers\n"

char *ib_grub_early_cfg(const char *volid_str, bool enforce)
{
	/* enforce: from here on GRUB opens no file without a good .sig beside it, by the
	 * key built into the image (secboot.c) */
	return ib_asprintf("%ssearch --no-floppy --fs-uuid --set=root %s\n"
			   "set prefix=($root)/grub\n"
			   "configfile ($root)/grub/grub.cfg\n",
			   enforce ? ENFORCE : "", volid_str);
}

/* cfg + the formatted text; cfg is freed. */
static char *append(char *cfg, const char *fmt, ...) IB_PRINTF(2, 3);
static char *append(char *cfg, const char *fmt, ...)
{
	va_list ap;
	char *text, *out;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	out = ib_asprintf("%s%s", cfg, text);
	free(cfg), free(text);
	return out;
}

/* The slot's verity parameters as the updater's manifest holds them: one
 * renderer of the kernel arguments for both (init/update/slotcfg.c). */
static struct upd_verity upd_of(const struct ib_verity *v)
{
	struct upd_verity u = {.data_block_size = v->data_block_size,
			       .hash_block_size = v->hash_block_size,
			       .data_blocks = v->data_blocks,
			       .hash_start_block = v->hash_start_block};

	snprintf(u.root_hash, sizeof(u.root_hash), "%s", v->root_hash);
	snprintf(u.salt, sizeof(u.salt), "%s", v->salt);
	return u;
}

/* malloc'd text, or abort (as ib_asprintf) */
static char *must(char *s)
{
	if (!s)
		abort();
	return s;
}

char *ib_kernel_cmdline(char slot, const char *partuuid, const struct ib_verity *v,
			const char *spec_cmdline)
{
	struct upd_verity u = upd_of(v);
	char *dm = must(slot_dm(&u, partuuid)),
	     *args = must(slot_args(slot, partuuid, spec_cmdline));
	/* Quoted whole, as GRUB passes a word with blanks (and the kernel reads it). */
	char *line = ib_asprintf("\"dm-mod.create=%s\" %s", dm, args);

	free(dm), free(args);
	return line;
}

char *ib_slot_cfg(char slot, const char *partuuid, const struct ib_verity *v, const char *version,
		  const char *spec_cmdline, const char *writer)
{
	struct upd_verity u = upd_of(v);

	return must(
	    slot_cfg(slot, partuuid, &u, version, spec_cmdline, writer ? writer : "image-builder"));
}

/* A slot without its slot.cfg (never written, or an update cut short), or whose
 * slot.cfg does not load (Secure Boot: no good signature), loads no kernel: the
 * entry fails and GRUB takes its fallback, wisp_prev. wisp.tries= and
 * wisp.rollback= tell the updater's early `watch` what GRUB decided, so that a
 * boot that is no trial need not mount the ESP to learn it (init/update/watch.c). */
static char *menu_entry(char *cfg, char slot)
{
	/* wisp_dm emptied first: a slot.cfg that fails its signature loads nothing and
	 * GRUB's source still succeeds, and the other entry's values must not stand in.
	 * --unrestricted: a Secure Boot image sets superusers (nobody), so that the menu's
	 * entries boot but nobody edits them or reaches GRUB's command line. */
	return append(cfg,
		      "\nmenuentry \"Wisp (slot %1$c)\" --id wisp-%1$c --unrestricted {\n"
		      "\tset wisp_dm=\n\tset wisp_args=\n\tset wisp_version=\n"
		      "\tif [ ! -f /%1$c/slot.cfg ]; then\n"
		      "\t\techo \"wisp: slot %1$c holds no system (no /%1$c/slot.cfg)\"\n"
		      "\telse\n"
		      "\t\tsource /%1$c/slot.cfg\n"
		      "\t\tif [ -z \"$wisp_dm\" ]; then\n"
		      "\t\t\techo \"wisp: slot %1$c: /%1$c/slot.cfg did not load\"\n"
		      "\t\telse\n"
		      "\t\t\techo \"Wisp $wisp_version, slot %1$c\"\n"
		      "\t\t\t$wisp_linux /%1$c/vmlinuz \"dm-mod.create=$wisp_dm\" $wisp_args "
		      "$wisp_trial "
		      "wisp.tries=$wisp_tries wisp.rollback=$wisp_rollback\n"
		      "\t\tfi\n"
		      "\tfi\n}\n",
		      slot);
}

/* An update's slot boots with wisp_tries=N: each boot takes one try (GRUB has
 * no arithmetic: one case per count) and gets wisp_watch's arguments (softdog
 * running from the kernel's start: a boot that never arms a watchdog is reset);
 * a boot that finds none left goes back to wisp_prev and says so, on the
 * console and in wisp_rollback. The updater's
 * mark-good empties wisp_tries once the boot is good (docs/update.md). */
static char *counting(char *cfg)
{
	static const char env[] = "($root)/grub/grubenv";

	cfg = append(cfg,
		     "if [ \"$wisp_tries\" = 0 -a -n \"$wisp_prev\" ]; then\n"
		     "\techo \"wisp: slot $wisp_slot used its tries without a good boot: "
		     "rolling back to slot $wisp_prev\"\n"
		     "\tset wisp_rollback=\"$wisp_slot\"\n\tset wisp_slot=\"$wisp_prev\"\n"
		     "\tset wisp_prev=\"$wisp_rollback\"\n\tset wisp_tries=\n"
		     "\tsave_env -f %s wisp_slot wisp_prev wisp_tries wisp_rollback\n",
		     env);
	for (int n = IB_MAX_TRIES; n > 0; n--)
		cfg = append(cfg,
			     "elif [ \"$wisp_tries\" = %d ]; then\n\tset wisp_tries=%d\n"
			     "\tsave_env -f %s wisp_tries\n\tset wisp_trial=\"$wisp_watch\"\n",
			     n, n - 1, env);
	/* A good slot is counted too while the other holds a system it may fall back
	 * to (not one just rolled back from): a slot that keeps failing (a block that
	 * fails verity restarts the host, a critical unit never healthy) goes back to
	 * wisp_prev; mark-good empties the count at every good boot. */
	cfg = append(cfg,
		     "elif [ -z \"$wisp_tries\" -a -n \"$wisp_prev\" -a \"$wisp_prev\" != "
		     "\"$wisp_rollback\" ]; then\n\tset wisp_tries=%d\n"
		     "\tsave_env -f %s wisp_tries\n\tset wisp_trial=\"$wisp_watch\"\n",
		     IB_GOOD_TRIES - 1, env);
	return append(cfg, "fi\n");
}

/* grubenv is GRUB's to write, so nothing signs it (load_env --skip-sig): under
 * Secure Boot whoever can write the ESP can write it. What reaches the kernel's
 * command line from it is therefore only what the boot counting and the updater
 * write, each value matched whole (a wisp_tries of "1 init=/bin/sh" would be two
 * arguments): anything else is the default. */
static char *checked(char *cfg, const char *var, const char *re, const char *dflt)
{
	return append(cfg,
		      "set wisp_v=\"$%s\"\nset %s=\"%s\"\n"
		      "if regexp '%s' \"$wisp_v\"; then set %s=\"$wisp_v\"; fi\n",
		      var, var, dflt, re, var);
}

static char *checked_env(char *cfg, char default_slot)
{
	char slot[2] = {default_slot, '\0'};

	cfg = checked(cfg, "wisp_slot", "^[AB]$", slot);
	cfg = checked(cfg, "wisp_prev", "^[AB]?$", "");
	cfg = checked(cfg, "wisp_rollback", "^[AB]?$", "");
	cfg = checked(cfg, "wisp_tries", "^[0-9]?$", "");
	return checked(cfg, "wisp_watch",
		       "^softdog\\.soft_active_on_boot=1 softdog\\.soft_margin=[0-9]{1,5}"
		       "( wisp\\.update_deadline=[0-9]{1,7})?$",
		       IB_TRIAL_WATCH);
}

char *ib_grub_cfg(unsigned timeout, char default_slot, bool efi_stub)
{
	/* wisp_slot from grubenv picks the entry by its id (an update flips it
	 * to B); the spec's default applies when grubenv says nothing. When the
	 * chosen slot cannot boot at all (no kernel), GRUB falls back to wisp_prev. */
	char *cfg = ib_asprintf("# Written by image-builder. grubenv holds wisp_slot (the slot to "
				"boot), wisp_prev,\n# wisp_tries and wisp_rollback "
				"(docs/update.md).\n"
				"serial --unit=0 --speed=115200\n"
				"terminal_input serial console\n"
				"terminal_output serial console\n"
				"set timeout=%u\n"
				"set wisp_linux=linux\n%s"
				"set wisp_slot=%c\nset wisp_prev=\nset wisp_tries=\n"
				"set wisp_watch=\"" IB_TRIAL_WATCH "\"\nset wisp_trial=\n"
				"load_env --skip-sig -f ($root)/grub/grubenv wisp_slot wisp_prev "
				"wisp_tries wisp_watch wisp_rollback\n",
				timeout, efi_stub ? IB_GRUB_STUB_CFG : "", default_slot);

	cfg = checked_env(cfg, default_slot);
	cfg = counting(cfg);
	/* fallback is an entry's number in GRUB 2.06 (menu.c reads it with
	 * strtoul; an id there means no fallback at all): A is entry 0, B 1. */
	cfg = append(cfg, "set default=\"wisp-${wisp_slot}\"\n"
			  "if [ \"$wisp_prev\" = A ]; then set fallback=0; "
			  "elif [ \"$wisp_prev\" = B ]; then set fallback=1; fi\n");
	return menu_entry(menu_entry(cfg, 'A'), 'B');
}

/* Same escaping as GRUB's lib/envblk.c: backslash before '\\' and '\n'. */
static size_t escape(char *dst, const char *src)
{
	size_t n = 0;

	for (; *src; src++) {
		if (*src == '\\' || *src == '\n')
			dst[n++] = '\\';
		dst[n++] = *src;
	}
	return n;
}

int ib_grubenv_block(uint8_t out[IB_GRUBENV_SIZE], const char *const *vars, size_t n,
		     struct ib_err *err)
{
	static const char sig[] = "# GRUB Environment Block\n";
	char *p = (char *)out;
	size_t used = sizeof(sig) - 1;

	memset(out, '#', IB_GRUBENV_SIZE);
	memcpy(p, sig, used);
	for (size_t i = 0; i < n; i++) {
		if (!strchr(vars[i], '=') || vars[i][0] == '=')
			return ib_err_set(err, EINVAL, "grubenv: \"%s\" is not NAME=VALUE",
					  vars[i]);
		if (used + 2 * strlen(vars[i]) + 1 > IB_GRUBENV_SIZE)
			return ib_err_set(err, ENOSPC, "grubenv: no room for \"%s\"", vars[i]);
		used += escape(p + used, vars[i]);
		p[used++] = '\n';
	}
	return 0;
}

static size_t add_modules(const char **argv, size_t n, const char *const *mods, size_t count)
{
	for (size_t i = 0; i < count; i++)
		argv[n++] = mods[i];
	return n;
}

int ib_grub_mkimage(const char *format, const char *early_cfg, const char *pubkey, const char *out,
		    struct ib_err *err)
{
	const char *argv[64];
	char *dir = ib_asprintf("%s/%s", IB_GRUB_DIR, format);
	bool pc = strcmp(format, "i386-pc") == 0;
	size_t n = 0;
	int ret;

	argv[n++] = "grub-mkimage";
	argv[n++] = "-O", argv[n++] = format;
	argv[n++] = "-d", argv[n++] = dir;
	argv[n++] = "-p", argv[n++] = "/grub";
	argv[n++] = "-c", argv[n++] = early_cfg;
	argv[n++] = "-o", argv[n++] = out;
	if (pubkey) {
		/* no shim: the firmware's db trusts this image itself, and GRUB checks the
		 * kernel with its own key rather than asking shim */
		argv[n++] = "--disable-shim-lock", argv[n++] = "--pubkey", argv[n++] = pubkey;
	}
	n = add_modules(argv, n, common_modules, ARRAY_SIZE(common_modules));
	n = pc ? add_modules(argv, n, pc_modules, ARRAY_SIZE(pc_modules))
	       : add_modules(argv, n, efi_modules, ARRAY_SIZE(efi_modules));
	if (pubkey)
		n = add_modules(argv, n, sig_modules, ARRAY_SIZE(sig_modules));
	else if (!pc)
		n = add_modules(argv, n, stub_modules, ARRAY_SIZE(stub_modules));
	argv[n] = NULL;
	ret = ib_run(argv, NULL, err);
	free(dir);
	if (ret < 0)
		return ib_err_ctx(err, "GRUB %s image", format);
	return 0;
}
