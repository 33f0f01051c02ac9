/* curl_config.h: what curl's configure would write for Wisp's libcurl
 * (rootfs/tls/tls.mk, docs/tls.md): static musl on x86-64 Linux, wolfSSL,
 * HTTP and HTTPS only. Written by hand because the Debian source's configure
 * is generated from a configure.ac that Debian's patches change (Debian runs
 * autoreconf), and because for musl it would only probe what is listed here.
 * Reference: configure of curl 7.88.1 run with musl-gcc; the HAVE_ lines below
 * are its findings, less those only the curl tool or a disabled feature reads.
 */
#ifndef WISP_CURL_CONFIG_H
#define WISP_CURL_CONFIG_H

/* TLS: wolfSSL (its options: user_settings.h in the sysroot, which
 * wolfssl/options.h points at; ALPN is among them). No CA bundle
 * path is compiled in: the caller names one (CURLOPT_CAINFO), and curl's
 * default would be a build-host guess. */
#define USE_WOLFSSL	     1
#define HAVE_WOLFSSL_USEALPN 1
/* vtls/wolfssl.c calls this only for CURLOPT_SSL_EC_CURVES, which no program
 * of the image sets; wolfSSL has it with OPENSSL_EXTRA only, which is not
 * built. A transfer that sets curves fails ("failed setting curves list"). */
#define SSL_CTX_set1_curves_list(ctx, names) ((void)(ctx), (void)(names), 0)

/* Name resolution in a thread of its own (musl's getaddrinfo, which works
 * statically: no NSS), so that CURLOPT_TIMEOUT bounds DNS too without
 * SIGALRM in a program that has other uses for signals. */
#define USE_THREADS_POSIX	    1
#define HAVE_PTHREAD_H		    1
#define HAVE_GETADDRINFO	    1
#define HAVE_GETADDRINFO_THREADSAFE 1
#define HAVE_FREEADDRINFO	    1
#define ENABLE_IPV6		    1

/* Only HTTP and HTTPS. */
#define CURL_DISABLE_DICT   1
#define CURL_DISABLE_FILE   1
#define CURL_DISABLE_FTP    1
#define CURL_DISABLE_GOPHER 1
#define CURL_DISABLE_IMAP   1
#define CURL_DISABLE_LDAP   1
#define CURL_DISABLE_LDAPS  1
#define CURL_DISABLE_MQTT   1
#define CURL_DISABLE_POP3   1
#define CURL_DISABLE_RTSP   1
#define CURL_DISABLE_SMB    1
#define CURL_DISABLE_SMTP   1
#define CURL_DISABLE_TELNET 1
#define CURL_DISABLE_TFTP   1

/* No state files (alt-svc, HSTS, cookies, .netrc): ROOT is read-only and a
 * pull keeps nothing between runs; no DNS-over-HTTPS, no proxies, no MIME
 * forms, no option-name lookup. Digest and NTLM authentication are left out
 * (registries use Basic and Bearer, which stay). */
#define CURL_DISABLE_ALTSVC	    1
#define CURL_DISABLE_COOKIES	    1
#define CURL_DISABLE_HSTS	    1
#define CURL_DISABLE_NETRC	    1
#define CURL_DISABLE_DOH	    1
#define CURL_DISABLE_PROXY	    1
#define CURL_DISABLE_MIME	    1
#define CURL_DISABLE_GETOPTIONS	    1
#define CURL_DISABLE_CRYPTO_AUTH    1
#define CURL_DISABLE_NTLM	    1
#define CURL_DISABLE_PROGRESS_METER 1

/* The platform, as configure finds it for musl-gcc on x86-64. */
#define OS				"x86_64-pc-linux-musl"
#define CURL_EXTERN_SYMBOL		__attribute__((__visibility__("default")))
#define CURL_SA_FAMILY_T		sa_family_t
#define SIZEOF_CURL_OFF_T		8
#define SIZEOF_INT			4
#define SIZEOF_LONG			8
#define SIZEOF_OFF_T			8
#define SIZEOF_SIZE_T			8
#define SIZEOF_TIME_T			8
#define STDC_HEADERS			1
#define HAVE_ARPA_INET_H		1
#define HAVE_ATOMIC			1
#define HAVE_BOOL_T			1
#define HAVE_CLOCK_GETTIME_MONOTONIC	1
#define HAVE_CONNECT			1
#define HAVE_FCNTL			1
#define HAVE_FCNTL_H			1
#define HAVE_FCNTL_O_NONBLOCK		1
#define HAVE_GETEUID			1
#define HAVE_GETHOSTNAME		1
#define HAVE_GETPEERNAME		1
#define HAVE_GETPPID			1
#define HAVE_GETSOCKNAME		1
#define HAVE_GETTIMEOFDAY		1
#define HAVE_GMTIME_R			1
#define HAVE_IF_NAMETOINDEX		1
#define HAVE_INET_NTOP			1
#define HAVE_INET_PTON			1
#define HAVE_INTTYPES_H			1
#define HAVE_LONGLONG			1
#define HAVE_MSG_NOSIGNAL		1
#define HAVE_NETDB_H			1
#define HAVE_NETINET_IN_H		1
#define HAVE_NETINET_TCP_H		1
#define HAVE_NET_IF_H			1
#define HAVE_PIPE			1
#define HAVE_POLL_FINE			1
#define HAVE_POLL_H			1
#define HAVE_POSIX_STRERROR_R		1
#define HAVE_RECV			1
#define HAVE_SCHED_YIELD		1
#define HAVE_SELECT			1
#define HAVE_SEND			1
#define HAVE_SENDMSG			1
#define HAVE_SIGACTION			1
#define HAVE_SIGNAL			1
#define HAVE_SIGNAL_H			1
#define HAVE_SNPRINTF			1
#define HAVE_SOCKADDR_IN6_SIN6_SCOPE_ID 1
#define HAVE_SOCKET			1
#define HAVE_SOCKETPAIR			1
#define HAVE_STDATOMIC_H		1
#define HAVE_STDBOOL_H			1
#define HAVE_STDINT_H			1
#define HAVE_STDIO_H			1
#define HAVE_STDLIB_H			1
#define HAVE_STRCASECMP			1
#define HAVE_STRDUP			1
#define HAVE_STRERROR_R			1
#define HAVE_STRINGS_H			1
#define HAVE_STRING_H			1
#define HAVE_STRTOK_R			1
#define HAVE_STRTOLL			1
#define HAVE_STRUCT_SOCKADDR_STORAGE	1
#define HAVE_STRUCT_TIMEVAL		1
#define HAVE_SUSECONDS_T		1
#define HAVE_SYS_IOCTL_H		1
#define HAVE_SYS_PARAM_H		1
#define HAVE_SYS_POLL_H			1
#define HAVE_SYS_RESOURCE_H		1
#define HAVE_SYS_SELECT_H		1
#define HAVE_SYS_SOCKET_H		1
#define HAVE_SYS_STAT_H			1
#define HAVE_SYS_TIME_H			1
#define HAVE_SYS_TYPES_H		1
#define HAVE_SYS_UIO_H			1
#define HAVE_SYS_UN_H			1
#define HAVE_UNISTD_H			1
#define HAVE_VARIADIC_MACROS_C99	1
#define HAVE_VARIADIC_MACROS_GCC	1

#endif
