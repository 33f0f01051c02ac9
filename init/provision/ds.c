/*
 * ds.c: datasources, in cloud-init's order of preference for a host
 * with no network yet: the kernel command line, then a NoCloud seed
 * (filesystem labelled cidata/CIDATA), then an OpenStack config drive
 * (label config-2), then EC2's metadata service when DMI says EC2 (or
 * wisp.ds=ec2), GCE's metadata server when DMI says GCE (or
 * wisp.ds=gce), or Azure's provisioning media (ovf-env.xml on a UDF or
 * iso9660 CD) and IMDS when DMI says Azure (or wisp.ds=azure).
 * Only what is already there is looked at: block
 * devices are probed once, without waiting for any to appear, and only
 * those that could hold a seed (dsdev.c): a host with no datasource pays
 * a read of the first 36 KiB of each of the others.
 *
 * A found datasource's files are copied to a directory under /run and
 * the filesystem is unmounted at once: the rest of the boot reads copies
 * (whose paths name the messages) and holds no device busy. Image
 * archives a seed carries (SEED_IMAGES) can be large, so they are not
 * copied: only the device is noted, for the image-import unit.
 * meta_data.json is read with init's YAML reader: JSON is a subset of
 * the YAML flow style that libyaml accepts, which spares init a second
 * parser library.
 */
#include "provision.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* iso9660's volume descriptor at 32 KiB, FAT's boot sector at 0, UDF's volume
 * recognition sequence from 32 KiB (after iso9660's descriptors on a bridge disc): in
 * one direct read (no page cache, no read-ahead of 128 KiB: 1-3 ms a device under TCG
 * against 2-14), of whole 4 KiB blocks into a buffer so aligned, which any device's
 * sectors divide */
#define PROBE_BYTES   (32768 + 8192)
#define MNT	      "/run/wisp/ds-mnt"
#define SYS_BLOCK     "/sys/class/block"
#define EC2_HELPER    "/usr/libexec/wisp/ec2-imds"     /* rootfs/skel/usr/libexec/wisp/ */
#define GCE_HELPER    "/usr/libexec/wisp/gce-metadata" /* likewise */
#define AZURE_HELPER  "/usr/libexec/wisp/azure-imds"   /* likewise */
#define AZURE_TAG     "7783-7084-3265-9085-8269-3286-77"
#define MD_TIMEOUT_MS 30000u

static void trim_label(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
		s[--n] = '\0';
}

int ds_label(const unsigned char *buf, size_t len, char *label, size_t size, const char **fstype)
{
	char l[33];

	if (size < 33)
		return -1;
	/* iso9660 primary volume descriptor: sector 16, "\1CD001", volume id at 40 */
	if (len >= 32768 + 72 && buf[32768] == 1 && !memcmp(buf + 32769, "CD001", 5)) {
		memcpy(l, buf + 32768 + 40, 32);
		l[32] = '\0';
		trim_label(l);
		snprintf(label, size, "%s", l);
		*fstype = "iso9660";
		return 0;
	}
	/* FAT: boot signature 55 AA; the label is in the extended BPB (FAT32's is further on) */
	if (len >= 512 && buf[510] == 0x55 && buf[511] == 0xaa) {
		size_t at = 0;
		if (!memcmp(buf + 82, "FAT32", 5) && buf[66] == 0x29)
			at = 71;
		else if ((!memcmp(buf + 54, "FAT12", 5) || !memcmp(buf + 54, "FAT16", 5)) &&
			 buf[38] == 0x29)
			at = 43;
		if (!at)
			return -1;
		memcpy(l, buf + at, 11);
		l[11] = '\0';
		trim_label(l);
		snprintf(label, size, "%s", l);
		*fstype = "vfat";
		return 0;
	}
	return -1;
}

/* UDF: a volume recognition sequence's NSR descriptor ("\0NSR02" or 03) in one of
 * the 2 KiB sectors from 16 in buf; after iso9660's descriptors on a bridge disc. */
bool ds_udf(const unsigned char *buf, size_t len)
{
	for (size_t at = 32768; at + 6 <= len; at += 2048)
		if (buf[at] == 0 &&
		    (!memcmp(buf + at + 1, "NSR02", 5) || !memcmp(buf + at + 1, "NSR03", 5)))
			return true;
	return false;
}

/* Name in dir matching want case-insensitively (ISO and FAT names vary in case). */
static int find_ci(const char *dir, const char *want, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = -1;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strcasecmp(de->d_name, want)) {
			ret = fmt_path(out, size, "%s/%s", dir, de->d_name);
			break;
		}
	closedir(d);
	return ret;
}

static int copy_file(const char *from, const char *to, struct err *e)
{
	char *buf = malloc(YAML_MAX_BYTES + 1);
	int n, ret;

	if (!buf)
		return err_set(e, ENOMEM, "read %s", from);
	/* all or nothing: user-data cut at the limit would apply half a config */
	n = read_file(from, buf, YAML_MAX_BYTES + 1, e);
	ret = n < 0 ? -1 : write_file(to, buf, (size_t)n, 0600, e);
	free(buf);
	return ret;
}

/* Copy the files named in names (relative to src, matched case-insensitively) to dir. */
static int copy_seed(const char *src, const char *dir, const char *const *names,
		     const char *const *as, size_t n, struct ud_sink *w)
{
	char from[512], to[512], sub[512];
	int copied = 0;
	struct err e;

	for (size_t i = 0; i < n; i++) {
		char base[512];
		const char *slash = strrchr(names[i], '/');
		snprintf(base, sizeof(base), "%s", src);
		if (slash) { /* one directory level at a time, each matched case-insensitively */
			char path[256], *save = NULL, *t;
			snprintf(path, sizeof(path), "%.*s", (int)(slash - names[i]), names[i]);
			for (t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
				if (find_ci(base, t, sub, sizeof(sub)) < 0)
					break;
				snprintf(base, sizeof(base), "%s", sub);
			}
			if (t)
				continue;
		}
		if (find_ci(base, slash ? slash + 1 : names[i], from, sizeof(from)) < 0 ||
		    fmt_path(to, sizeof(to), "%s/%s", dir, as[i]) < 0)
			continue;
		if (copy_file(from, to, &e) < 0)
			w->warn(w->ctx, "datasource: %s", e.msg);
		else
			copied++;
	}
	return copied;
}

static const char *const nocloud_files[] = {"user-data", "meta-data", "network-config",
					    "vendor-data"};
static const char *const cd_files[] = {
    "openstack/latest/meta_data.json", "openstack/latest/user_data",
    "openstack/latest/network_data.json", "openstack/latest/vendor_data.json"};
static const char *const cd_as[] = {"meta_data.json", "user-data", "network_data.json",
				    "vendor_data.json"};

/* The seed mounted on MNT has a directory of image archives: note the device, its
 * type and the directory's name as found, in SEED_INFO, for the image-import unit
 * (imgimport.c), which mounts the seed again later; PID 1 never reads an archive. */
static void note_images(const char *dev, const char *fstype, struct ud_sink *w)
{
	char dir[512], line[700];
	struct err e;

	if (find_ci(MNT, SEED_IMAGES, dir, sizeof(dir)) < 0)
		return;
	snprintf(line, sizeof(line), "%s %s %s\n", dev, fstype, strrchr(dir, '/') + 1);
	if (write_file(SEED_INFO, line, strlen(line), 0600, &e) < 0)
		w->warn(w->ctx, "datasource: write %s: %s", SEED_INFO, strerror(e.num));
}

/* The first PROBE_BYTES of device dev into buf (4 KiB aligned): directly, or through
 * the page cache where direct reads are refused (EINVAL); not again after an I/O error. */
static ssize_t read_start(const char *dev, unsigned char *buf)
{
	ssize_t n = -1;

	for (int direct = 1; direct >= 0; direct--) {
		int fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (direct ? O_DIRECT : 0));
		if (fd >= 0) {
			n = pread(fd, buf, PROBE_BYTES, 0);
			close(fd);
		}
		if (n >= 0 || errno != EINVAL)
			break;
	}
	return n;
}

/* One block device: is it a seed? Mount it, copy, unmount. 1 found. */
static int probe_dev(const char *name, const char *dir, const char *force, struct ds_found *f,
		     struct ud_sink *w)
{
	static unsigned char buf[PROBE_BYTES] __attribute__((aligned(4096)));
	char dev[300], label[64];
	const char *fstype;
	ssize_t n;
	bool cd;
	int found = 0;

	snprintf(dev, sizeof(dev), "/dev/%s", name);
	n = read_start(dev, buf);
	if (n <= 0 || ds_label(buf, (size_t)n, label, sizeof(label), &fstype) < 0)
		return 0;
	cd = !strcmp(label, "config-2") || !strcmp(label, "CONFIG-2");
	if (strcasecmp(label, "cidata") != 0 && !cd)
		return 0;
	if (force && strcmp(force, cd ? "configdrive" : "nocloud") != 0)
		return 0;
	mkdir(MNT, 0700);
	if (mount(dev, MNT, fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		w->warn(w->ctx, "datasource: mount %s (%s, label %s): %s", dev, fstype, label,
			strerror(errno));
		return 0;
	}
	if (cd)
		found = copy_seed(MNT, dir, cd_files, cd_as, ARRAY_LEN(cd_files), w) > 0;
	else
		found = copy_seed(MNT, dir, nocloud_files, nocloud_files, ARRAY_LEN(nocloud_files),
				  w) > 0;
	if (found)
		note_images(dev, fstype, w);
	umount2(MNT, MNT_DETACH);
	if (!found) {
		w->warn(w->ctx, "datasource: %s (label %s) holds none of the expected files", dev,
			label);
		return 0;
	}
	snprintf(f->name, sizeof(f->name), "%s (%s, %s)", cd ? "ConfigDrive" : "NoCloud", dev,
		 fstype);
	return 1;
}

/*
 * Azure's provisioning media: a CD whose UDF (or iso9660) file system holds
 * ovf-env.xml, read as cloud-init's DataSourceAzure reads it (it mounts
 * each udf and iso9660 device). Mounted read-only, nosuid, nodev, noexec,
 * ovf-env.xml copied (at most YAML_MAX_BYTES, all or nothing) and
 * unmounted at once. 1 found.
 */
static int azure_dev(const char *name, const char *dir, char *what, size_t size, struct ud_sink *w)
{
	static unsigned char buf[PROBE_BYTES] __attribute__((aligned(4096)));
	static const char *const ovf[] = {AZURE_OVF_FILE};
	const char *types[2] = {NULL, NULL}, *fstype;
	char dev[300], label[64];
	ssize_t n;
	int found = 0;

	snprintf(dev, sizeof(dev), "/dev/%s", name);
	if ((n = read_start(dev, buf)) <= 0)
		return 0;
	if (ds_label(buf, (size_t)n, label, sizeof(label), &fstype) == 0 &&
	    !strcmp(fstype, "iso9660"))
		types[1] = "iso9660"; /* a bridge disc's other view, should udf fail */
	if (ds_udf(buf, (size_t)n))
		types[0] = "udf";
	mkdir(MNT, 0700);
	for (int i = 0; i < 2 && !found; i++) {
		if (!types[i] || mount(dev, MNT, types[i],
				       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			continue;
		found = copy_seed(MNT, dir, ovf, ovf, 1, w) > 0;
		umount2(MNT, MNT_DETACH);
		if (found)
			snprintf(what, size, "provisioning media %s, %s", dev, types[i]);
	}
	return found;
}

/* The block devices worth reading (dsdev.c), in their order. */
static size_t devices(struct ds_dev **devs)
{
	static char mountinfo[16384]; /* cut short, a mounted device is only read needlessly */
	struct err e;

	if (read_text("/proc/self/mountinfo", mountinfo, sizeof(mountinfo), &e) < 0)
		mountinfo[0] = '\0';
	return ds_devices(SYS_BLOCK, mountinfo, devs);
}

/* The first device that is Azure's provisioning media. 1 found, its name in what. */
static int azure_media(const char *dir, char *what, size_t size, struct ud_sink *w)
{
	struct ds_dev *devs;
	size_t n = devices(&devs);
	int found = 0;

	for (size_t i = 0; !found && i < n; i++)
		found = azure_dev(devs[i].name, dir, what, size, w);
	free(devs);
	return found;
}

static int scan_disks(const char *dir, const char *force, struct ds_found *f, struct ud_sink *w)
{
	struct ds_dev *devs;
	size_t n = devices(&devs);
	int found = 0;

	for (size_t i = 0; !found && i < n; i++)
		found = probe_dev(devs[i].name, dir, force, f, w);
	free(devs);
	return found;
}

/* "ds=nocloud;s=file:///seed/;i=IID;h=HOST": the seed dir and the overrides. */
static int cmdline_nocloud(const char *line, const char *dir, struct ds_found *f, struct ud_sink *w)
{
	char val[1024], *save = NULL, seed[512] = "";
	int copied = 0;

	if (cmdline_get(line, "ds", val, sizeof(val)) < 0 || strncasecmp(val, "nocloud", 7) != 0)
		return 0;
	for (char *t = strtok_r(val, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		if (!strncmp(t, "s=", 2) || !strncmp(t, "seedfrom=", 9)) {
			const char *u = strchr(t, '=') + 1;
			if (strncmp(u, "file://", 7) != 0) {
				w->warn(w->ctx,
					"datasource: ds=nocloud: seed %s: only file:// is "
					"supported",
					u);
				continue;
			}
			snprintf(seed, sizeof(seed), "%s", u + 7);
		} else if (!strncmp(t, "i=", 2) || !strncmp(t, "instance-id=", 12))
			snprintf(f->iid, sizeof(f->iid), "%s", strchr(t, '=') + 1);
		else if (!strncmp(t, "h=", 2) || !strncmp(t, "local-hostname=", 15))
			snprintf(f->hostname, sizeof(f->hostname), "%s", strchr(t, '=') + 1);
	}
	if (!*seed && !*f->iid)
		return 0; /* plain "ds=nocloud": a cidata disk is what is meant */
	if (*seed)
		copied =
		    copy_seed(seed, dir, nocloud_files, nocloud_files, ARRAY_LEN(nocloud_files), w);
	if (!copied && !*f->iid) {
		w->warn(w->ctx, "datasource: ds=nocloud: nothing found at \"%s\"", seed);
		return 0;
	}
	snprintf(f->name, sizeof(f->name), "NoCloud (kernel command line)");
	return 1;
}

/* wisp.userdata=BASE64: the whole user-data on the command line (tests, small hosts). */
static int cmdline_userdata(const char *line, const char *dir, struct ds_found *f,
			    struct ud_sink *w)
{
	char val[4096], path[512];
	unsigned char out[3072];
	struct err e;
	ssize_t n;

	if (cmdline_get(line, "wisp.userdata", val, sizeof(val)) < 0)
		return 0;
	if ((n = b64_decode(val, strlen(val), out, sizeof(out))) < 0) {
		w->warn(w->ctx, "datasource: wisp.userdata=: not valid base64; ignored");
		return 0;
	}
	if (fmt_path(path, sizeof(path), "%s/user-data", dir) < 0 ||
	    write_file(path, out, (size_t)n, 0600, &e) < 0)
		return 0;
	if (!*f->iid) { /* same user-data, same instance: an id from its bytes (FNV-1a) */
		uint32_t h = 2166136261u;
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ out[i]) * 16777619u;
		snprintf(f->iid, sizeof(f->iid), "iid-cmdline-%08x", h);
	}
	snprintf(f->name, sizeof(f->name), "kernel command line (wisp.userdata)");
	return 1;
}

static bool dmi_is(const char *name, const char *prefix)
{
	char path[64], buf[128];
	struct err e;

	snprintf(path, sizeof(path), "/sys/class/dmi/id/%s", name);
	return read_text(path, buf, sizeof(buf), &e) >= 0 &&
	       !strncasecmp(buf, prefix, strlen(prefix));
}

/* EC2, told from DMI as cloud-init does: Nitro's vendor or instance-id asset tag, or
 * Xen's "ec2..." uuid that is also the serial (a random uuid starts so once in 4096). */
static bool dmi_ec2(void)
{
	return dmi_is("sys_vendor", "Amazon EC2") || dmi_is("board_asset_tag", "i-") ||
	       (dmi_is("product_uuid", "ec2") && dmi_is("product_serial", "ec2"));
}

/* GCE, told from DMI as cloud-init does: its product name, or Google as the vendor. */
static bool dmi_gce(void)
{
	return dmi_is("product_name", "Google Compute Engine") || dmi_is("sys_vendor", "Google");
}

/* Azure, told from DMI as cloud-init does: the chassis asset tag every Azure VM has. */
static bool dmi_azure(void)
{
	return dmi_is("chassis_asset_tag", AZURE_TAG);
}

/* The metadata services: each is looked at only when DMI names its cloud (or
 * wisp.ds= does), so at most one is asked on a host, and none on others. */
static const struct md_source {
	const char *ds;	    /* wisp.ds= value, and the name in messages */
	const char *name;   /* in the datasource line */
	const char *helper; /* fetches into a directory in NoCloud's layout */
	const char *what;
	bool (*dmi)(void);
	const char *ready_key; /* the command line's key for the ready report's endpoint */
	const char *ready_ep;  /* its default; NULL: no ready report */
	/* media the cloud attaches, read before the service (enough without it); NULL none */
	int (*media)(const char *dir, char *what, size_t size, struct ud_sink *w);
} md_sources[] = {
    {"ec2", "EC2", EC2_HELPER, "metadata service", dmi_ec2, NULL, NULL, NULL},
    {"gce", "GCE", GCE_HELPER, "metadata server", dmi_gce, NULL, NULL, NULL},
    {"azure", "Azure", AZURE_HELPER, "IMDS", dmi_azure, "wisp.wireserver", AZURE_WIRESERVER,
     azure_media},
};

/* Wait for pid at most ms; kill its process group after that. Its wait status, or -1. */
static int wait_bounded(pid_t pid, uint64_t ms, const char *ds, struct ud_sink *w)
{
	struct err e;
	int st = 0, r = spawn_wait(pid, now_ms() + ms, &st, &e);

	if (r == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
	} else if (r < 0)
		w->warn(w->ctx, "datasource: %s: %s", ds, e.msg);
	return r == 1 ? st : -1;
}

/* The command line's key=HOST[:PORT] into ep (left as it is without the key). */
static int endpoint(const char *line, const char *key, char *ep, size_t size, struct ud_sink *w)
{
	if (cmdline_get(line, key, ep, size) >= 0 &&
	    (!*ep || strspn(ep, "0123456789abcdefghijklmnopqrstuvwxyz.-:[]") != strlen(ep))) {
		w->warn(w->ctx, "datasource: %s=%s: not a host[:port]; ignored", key, ep);
		return -1;
	}
	return 0;
}

/*
 * A metadata service needs the network, which is not up yet: the helper
 * script takes a one-shot DHCP lease and fetches into dir (HTTP is
 * busybox's, not provision's). provision waits for it, bounded, as for
 * bootcmd. EC2, GCE and Azure all answer at 169.254.169.254 (GCE's name,
 * metadata.google.internal, needs DNS, which is not there yet), so one
 * wisp.imds= points any elsewhere. Azure's helper also fetches the goal
 * state from its wire server (wisp.wireserver=), which the ready report
 * names once provisioning has applied what it got (azure.c).
 */
/* Azure's instance id without IMDS: the VM's DMI uuid, as cloud-init's _iid() (IMDS's
 * vmId, the same VM's, replaces it); lower case, only [0-9a-f-]. */
static void dmi_iid(struct ds_found *f)
{
	char buf[64];
	struct err e;

	if (*f->iid || read_text("/sys/class/dmi/id/product_uuid", buf, sizeof(buf), &e) < 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	for (char *c = buf; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (*buf && strspn(buf, "0123456789abcdef-") == strlen(buf))
		snprintf(f->iid, sizeof(f->iid), "%s", buf);
}

/* The name of what was found: the service, the media, or both. */
static void md_name(const struct md_source *m, const char *ep, bool svc, const char *media,
		    struct ds_found *f)
{
	if (svc)
		snprintf(f->name, sizeof(f->name), "%s (%s at %s%s%s)", m->name, m->what, ep,
			 *media ? "; " : "", media);
	else
		snprintf(f->name, sizeof(f->name), "%s (%s)", m->name, media);
}

static int md_fetch(const struct md_source *m, const char *line, const char *dir,
		    struct ds_found *f, struct ud_sink *w)
{
	char ep[128] = "169.254.169.254", ws[128] = "", media[350] = "";
	char *argv[] = {(char *)m->helper, ep, (char *)dir, m->ready_ep ? ws : NULL, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	const struct spawn_req r = {.argv = argv, .envp = envp};
	struct err e;
	pid_t pid;
	int st;

	if (m->ready_ep)
		snprintf(ws, sizeof(ws), "%s", m->ready_ep);
	if (endpoint(line, "wisp.imds", ep, sizeof(ep), w) < 0 ||
	    (m->ready_ep && endpoint(line, m->ready_key, ws, sizeof(ws), w) < 0))
		return 0;
	if (m->media && m->media(dir, media, sizeof(media), w))
		dmi_iid(f);
	fw_wait(); /* its lease brings up an interface: the host is closed first */
	if ((pid = spawn(&r, NULL, &e)) < 0) {
		w->warn(w->ctx, "datasource: %s: %s", m->ds, e.msg);
		st = -1;
	} else if ((st = wait_bounded(pid, MD_TIMEOUT_MS, m->ds, w)) < 0 || !WIFEXITED(st) ||
		   WEXITSTATUS(st)) {
		w->warn(w->ctx, "datasource: %s: nothing from the %s at %s%s%s", m->ds, m->what, ep,
			st < 0 ? " in time" : "", *media ? "; the media alone" : "");
		st = -1;
	}
	if (st < 0 && !*media)
		return 0;
	md_name(m, ep, st >= 0, media, f);
	snprintf(f->wireserver, sizeof(f->wireserver), "%s", ws);
	return 1;
}

/* The metadata service wisp.ds= names, or NULL. */
static const struct md_source *md_forced(const char *force)
{
	for (size_t i = 0; i < ARRAY_LEN(md_sources); i++)
		if (!strcmp(force, md_sources[i].ds))
			return &md_sources[i];
	return NULL;
}

/* The forced metadata service, or (nothing forced) the first whose DMI matches. */
static int md_find(const char *force, const char *line, const char *dir, struct ds_found *f,
		   struct ud_sink *w)
{
	const struct md_source *m = md_forced(force);

	if (m)
		return md_fetch(m, line, dir, f, w);
	for (size_t i = 0; !*force && i < ARRAY_LEN(md_sources); i++)
		if (md_sources[i].dmi())
			return md_fetch(&md_sources[i], line, dir, f, w);
	return 0;
}

/* What Azure's helper leaves (golden tests: tests/provision/golden/azure/seed). */
static const char *const azure_files[] = {AZURE_OVF_FILE, AZURE_IMDS_FILE, AZURE_GOALSTATE_FILE,
					  "user-data"};

int ds_seed(const char *seed, const char *dir, struct ds_found *f, struct ud_sink *w)
{
	const char *kind = "NoCloud";
	char sub[512];
	int copied;

	memset(f, 0, sizeof(*f));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return 0;
	if (find_ci(seed, "openstack", sub, sizeof(sub)) == 0) {
		kind = "ConfigDrive";
		copied = copy_seed(seed, dir, cd_files, cd_as, ARRAY_LEN(cd_files), w);
	} else if (find_ci(seed, AZURE_IMDS_FILE, sub, sizeof(sub)) == 0 ||
		   find_ci(seed, AZURE_OVF_FILE, sub, sizeof(sub)) == 0) {
		kind = "Azure";
		copied = copy_seed(seed, dir, azure_files, azure_files, ARRAY_LEN(azure_files), w);
		snprintf(f->wireserver, sizeof(f->wireserver), AZURE_WIRESERVER);
	} else
		copied =
		    copy_seed(seed, dir, nocloud_files, nocloud_files, ARRAY_LEN(nocloud_files), w);
	if (!copied) {
		w->warn(w->ctx, "datasource: %s holds none of the expected files", seed);
		return 0;
	}
	snprintf(f->name, sizeof(f->name), "%s (seed directory)", kind);
	return 1;
}

int ds_find(const char *line, const char *dir, struct ds_found *f, struct ud_sink *w)
{
	char force[32] = "";
	int found = 0;

	memset(f, 0, sizeof(*f));
	cmdline_get(line, "wisp.ds", force, sizeof(force));
	if (!strcmp(force, "none"))
		return 0;
	if (*force && strcmp(force, "nocloud") && strcmp(force, "configdrive") &&
	    strcmp(force, "cmdline") && !md_forced(force))
		w->warn(w->ctx,
			"wisp.ds=%s: unknown datasource (nocloud, configdrive, cmdline, ec2, gce, "
			"azure, none); looking for any",
			force),
		    force[0] = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return 0;
	if (!*force || !strcmp(force, "cmdline") || !strcmp(force, "nocloud"))
		found = cmdline_userdata(line, dir, f, w) || cmdline_nocloud(line, dir, f, w);
	if (!found && strcmp(force, "cmdline") && !md_forced(force))
		found = scan_disks(dir, *force ? force : NULL, f, w);
	if (!found)
		found = md_find(force, line, dir, f, w);
	if (!found)
		return 0;
	return 1;
}

size_t ds_read_inputs(const char *dir, const char *const *names, size_t n, struct parse_input *in,
		      char (*path)[512], const char *before, const char *after, struct ud_sink *w)
{
	size_t got = 0;
	struct err e;
	int len;

	for (size_t i = 0; i < n; i++) {
		char *buf;

		if (fmt_path(path[got], sizeof(path[got]), "%s/%s", dir, names[i]) < 0 ||
		    access(path[got], F_OK) < 0)
			continue;
		if (!(buf = malloc(YAML_MAX_BYTES + 1)) ||
		    (len = read_file(path[got], buf, YAML_MAX_BYTES + 1, &e)) < 0) {
			w->warn(w->ctx, "%s%s%s", before, buf ? e.msg : "out of memory", after);
			free(buf);
			continue;
		}
		in[got] = (struct parse_input){.name = path[got], .data = buf, .len = (size_t)len};
		got++;
	}
	return got;
}

void ds_inputs_free(struct parse_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)in[i].data);
}
