/* secboot.c: the signatures of a Secure Boot image (docs/image-spec.md,
 * "Secure Boot").
 *
 * The firmware checks GRUB's EFI image (an Authenticode signature made by
 * osslsigncode with the spec's db key); GRUB, built with the spec's OpenPGP
 * public key and check_signatures=enforce, checks every file it reads from
 * the ESP (grub.cfg, each slot's slot.cfg and kernel) against a detached
 * .sig beside it, made here with gpg. Without shim: GRUB itself is what the
 * firmware's db must trust.
 *
 * Both signatures are dated SOURCE_DATE_EPOCH (osslsigncode -time, gpg's
 * frozen --faked-system-time): RSA PKCS#1 v1.5 is deterministic, so the same
 * inputs give the same bytes. gpg works in a private home in the build's
 * temporary directory and starts an agent there, which ib_sb_end stops.
 */
#include "image-builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int gpg(const struct ib_secboot *sb, const char *const *args, size_t n, char *out,
	       size_t outlen, struct ib_err *err)
{
	char epoch[32];
	const char *argv[24] = {"gpg",	    "--homedir",	   sb->home,   "--batch",
				"--no-tty", "--pinentry-mode",	   "loopback", "--passphrase",
				"",	    "--faked-system-time", epoch};
	size_t k = 11;

	snprintf(epoch, sizeof(epoch), "%lld!", (long long)sb->epoch);
	for (size_t i = 0; i < n && k < 23; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return ib_run_out(argv, NULL, out, outlen, NULL, 0, err);
}

/* Exactly one secret key that can sign: two would make the signer gpg's choice. */
static int one_key(const struct ib_secboot *sb, const char *file, struct ib_err *err)
{
	static const char *const list[] = {"--with-colons", "--list-secret-keys"};
	char out[8192];
	unsigned keys = 0;

	if (gpg(sb, list, 2, out, sizeof(out), err) < 0)
		return ib_err_ctx(err, "secure_boot.gpg_key %s", file);
	for (const char *p = out; (p = strstr(p, "sec:")); p += 4)
		if (p == out || p[-1] == '\n')
			keys++;
	if (keys != 1)
		return ib_err_set(err, 0,
				  "secure_boot.gpg_key %s: holds %u secret keys, expected one",
				  file, keys);
	return 0;
}

int ib_sb_begin(struct ib_secboot *sb, const struct ib_spec *spec, const char *tmp, time_t epoch,
		struct ib_err *err)
{
	const char *import[] = {"--import", spec->sb_gpg_key};
	const char *export[] = {"--output", NULL, "--export"};

	sb->epoch = epoch;
	sb->key = spec->sb_key;
	sb->cert = spec->sb_cert;
	sb->home = ib_path_join(tmp, "gnupg");
	sb->pubkey = ib_path_join(tmp, "grub-key.gpg");
	export[1] = sb->pubkey;
	if (mkdir(sb->home, 0700) < 0)
		return ib_err_set(err, errno, "mkdir %s", sb->home);
	if (gpg(sb, import, 2, NULL, 0, err) < 0)
		return ib_err_ctx(err, "secure_boot.gpg_key %s: not an OpenPGP key gpg imports",
				  spec->sb_gpg_key);
	if (one_key(sb, spec->sb_gpg_key, err) < 0 || gpg(sb, export, 3, NULL, 0, err) < 0)
		return -1;
	return 0;
}

int ib_sb_detach_sign(const struct ib_secboot *sb, const char *file, const char *sig,
		      struct ib_err *err)
{
	/* SHA-256: GRUB's image carries gcry_sha256 only (gpg would pick SHA-512 for this key). */
	const char *args[] = {"--yes", "--digest-algo", "SHA256", "--output",
			      sig,     "--detach-sign", file};
	int ret = gpg(sb, args, 7, NULL, 0, err);

	if (ret < 0)
		ib_err_ctx(err, "signing %s", file);
	else
		ret = ib_set_mtime(sig, sb->epoch, err);
	return ret;
}

int ib_sb_pe_sign(const struct ib_secboot *sb, const char *in, const char *out, struct ib_err *err)
{
	char epoch[32];
	const char *argv[] = {"osslsigncode", "sign",	"-h",	  "sha256", "-key",
			      sb->key,	      "-certs", sb->cert, "-time",  epoch,
			      "-in",	      in,	"-out",	  out,	    NULL};

	snprintf(epoch, sizeof(epoch), "%lld", (long long)sb->epoch);
	unlink(out); /* osslsigncode refuses to overwrite */
	if (ib_run(argv, NULL, err) < 0)
		return ib_err_ctx(err, "secure_boot.key %s, cert %s: signing GRUB's EFI image",
				  sb->key, sb->cert);
	return ib_set_mtime(out, sb->epoch, err);
}

void ib_sb_end(struct ib_secboot *sb)
{
	struct ib_err ignored;

	if (sb->home) {
		const char *argv[] = {"gpgconf", "--homedir", sb->home,
				      "--kill",	 "gpg-agent", NULL};
		ib_run(argv, NULL, &ignored);
	}
	free(sb->home), free(sb->pubkey);
	memset(sb, 0, sizeof(*sb));
}
