/* grub.c: GRUB images and configuration for both firmware paths.
 *
 * Both images (i386-pc core.img and x86_64-efi BOOTX64.EFI) carry every
 * module they need and the same small embedded config, which finds the ESP
 * by its FAT volume id and hands over to /grub/grub.cfg there. Nothing but
 * grub.cfg and grubenv lives on the ESP, so BIOS and UEFI boots can't
 * diverge through module files.
 */
#include "image-builder.h"

#include <errno.h>
#include <string.h>

static const char *const common_modules[] = {
    "part_gpt", "fat",	 "search", "search_fs_uuid", "configfile", "normal",
    "linux",	"boot",	 "serial", "terminal",	     "loadenv",	   "test",
    "echo",	"sleep", "reboot", "halt",	     "ls",	   "cat",
};

static const char *const pc_modules[] = {"biosdisk"};
static const char *const efi_modules[] = {"efi_gop"};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

char *ib_grub_early_cfg(const char *volid_str)
{
	return ib_asprintf("search --no-floppy --fs-uuid --set=root %s\n"
			   "set prefix=($root)/grub\n"
			   "configfile ($root)/grub/grub.cfg\n",
			   volid_str);
}

char *ib_kernel_cmdline(const char *partuuid, const char *spec_cmdline)
{
	return ib_asprintf("root=PARTUUID=%s ro rootfstype=erofs rootwait%s%s", partuuid,
			   *spec_cmdline ? " " : "", spec_cmdline);
}

static char *menu_entry(char *cfg, const struct ib_grub_slot *s, const char *cmdline_tail)
{
	char *cmdline = ib_kernel_cmdline(s->partuuid, cmdline_tail);
	char *out = ib_asprintf("%s\nmenuentry \"Wisp %s (slot %c)\" --id wisp-%c {\n"
				"\tlinux /%c/vmlinuz %s\n}\n",
				cfg, WISP_VERSION, s->name, s->name, s->name, cmdline);

	free(cmdline);
	free(cfg);
	return out;
}

char *ib_grub_cfg(unsigned timeout, char default_slot, const char *cmdline_tail,
		  const struct ib_grub_slot *slots, size_t nslots)
{
	/* wisp_slot from grubenv picks the entry by its id (an update flips it
	 * to B); the spec's default applies when grubenv says nothing, and
	 * GRUB falls back to the first entry for an unknown id. */
	char *cfg =
	    ib_asprintf("# Written by image-builder. The slot to boot is wisp_slot in grubenv.\n"
			"serial --unit=0 --speed=115200\n"
			"terminal_input serial console\n"
			"terminal_output serial console\n"
			"set timeout=%u\n"
			"set wisp_slot=%c\n"
			"load_env -f ($root)/grub/grubenv\n"
			"set default=\"wisp-${wisp_slot}\"\n",
			timeout, default_slot);

	for (size_t i = 0; i < nslots; i++)
		cfg = menu_entry(cfg, &slots[i], cmdline_tail);
	return cfg;
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

int ib_grub_mkimage(const char *format, const char *early_cfg, const char *out, struct ib_err *err)
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
	n = add_modules(argv, n, common_modules, ARRAY_SIZE(common_modules));
	n = pc ? add_modules(argv, n, pc_modules, ARRAY_SIZE(pc_modules))
	       : add_modules(argv, n, efi_modules, ARRAY_SIZE(efi_modules));
	argv[n] = NULL;
	ret = ib_run(argv, NULL, err);
	free(dir);
	if (ret < 0)
		return ib_err_ctx(err, "GRUB %s image", format);
	return 0;
}
