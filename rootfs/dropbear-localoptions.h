/*
 * dropbear-localoptions.h: Wisp's compile-time options for dropbear
 * (copied to the build directory as localoptions.h; the defaults are in
 * dropbear's default_options.h). Only the server is built.
 */

/* Host keys survive reboots in STATE: ROOT and /etc are rebuilt from
 * read-only sources. `dropbear -R` creates each one at the first
 * connection that wants its type. */
#define DSS_PRIV_FILENAME     "/var/lib/wisp/ssh/dropbear_dss_host_key"
#define RSA_PRIV_FILENAME     "/var/lib/wisp/ssh/dropbear_rsa_host_key"
#define ECDSA_PRIV_FILENAME   "/var/lib/wisp/ssh/dropbear_ecdsa_host_key"
#define ED25519_PRIV_FILENAME "/var/lib/wisp/ssh/dropbear_ed25519_host_key"
#define DROPBEAR_PIDFILE      "/run/dropbear.pid"

/* Key-only: password (and PAM) authentication is not compiled in. */
#define DROPBEAR_SVR_PASSWORD_AUTH 0
#define DROPBEAR_SVR_PAM_AUTH	   0

/* Login sessions get the PATH units get (docs/declarations.md): busybox
 * puts applets such as ip and ifconfig in /sbin. */
#define DEFAULT_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/* No X server and no xauth on Wisp. */
#define DROPBEAR_X11FWD 0

/* No sftp-server on Wisp (scp and ssh commands work). */
#define DROPBEAR_SFTPSERVER 0

/* inetd mode needs an inetd. */
#define INETD_MODE 0
