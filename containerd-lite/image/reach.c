/* image/reach.c: a registry cannot make the host connect to the host's own
 * services. A token realm or a redirect names any URL the registry likes,
 * and the host fetches it as root from inside: http://169.254.169.254/ (the
 * cloud's metadata service, whose answers a realm's JSON can carry back as
 * the next request's token), 127.0.0.1:PORT, a link-local peer. So every
 * connection a pull opens is classed by its address (the one curl resolved,
 * so a name that resolves there counts too): loopback (127/8, 0/8, ::1, ::),
 * link-local and the clouds' metadata and wire-server addresses
 * (169.254/16, 168.63.129.16, fe80::/10, fd00:ec2::254, fd20:ce::254, and
 * their IPv4-mapped forms; where wisp.imds= or wisp.wireserver= on the
 * kernel command line move them, those addresses too). The registry's own connections record their
 * classes in its endpoint (a registry on loopback is the user's choice); a
 * connection for another origin (a realm on another host, a redirect's
 * target) into a class the registry's were not in is refused before the
 * socket exists. Docker and containerd follow both anywhere. */
#include "http.h"
#include "../net/net.h" /* the clouds' metadata addresses */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static unsigned class4(uint32_t a) /* host order */
{
	if (a >> 24 == 127 || a >> 24 == 0)
		return IMG_REACH_LOOP;
	if (a >> 16 == 0xa9fe || a == NET_WIRESERVER) /* 169.254/16 (NET_IMDS4's) */
		return IMG_REACH_LINK;
	return 0;
}

static unsigned class6(const struct in6_addr *a)
{
	uint32_t v4;

	if (IN6_IS_ADDR_V4MAPPED(a)) {
		memcpy(&v4, a->s6_addr + 12, 4);
		return class4(ntohl(v4));
	}
	if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
		return IMG_REACH_LOOP;
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return IMG_REACH_LINK;
	for (size_t i = 0; i < NET_IMDS6_N; i++)
		if (!memcmp(a->s6_addr, net_imds6[i], 16))
			return IMG_REACH_LINK;
	return 0;
}

/* A metadata endpoint the kernel command line moved (wisp.imds=,
 * wisp.wireserver=: net/imds.c), at any port: the same service. */
static bool moved(int family, const uint8_t *addr)
{
	struct net_endpoint ep[NET_IMDS_MAX];
	size_t n = net_imds_read(ep);

	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)addr))
		family = AF_INET, addr += 12;
	for (size_t i = 0; i < n; i++)
		if (ep[i].family == family && !memcmp(ep[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

unsigned img_reach_class(const struct sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
	unsigned c;

	if (sa->sa_family == AF_INET)
		c = class4(ntohl(in->sin_addr.s_addr));
	else if (sa->sa_family == AF_INET6)
		c = class6(&in6->sin6_addr);
	else
		return 0;
	if (!c && moved(sa->sa_family, sa->sa_family == AF_INET ? (const uint8_t *)&in->sin_addr
								: in6->sin6_addr.s6_addr))
		c = IMG_REACH_LINK;
	return c;
}

static void name_addr(const struct sockaddr *sa, char *out, size_t n)
{
	const void *a =
	    sa->sa_family == AF_INET
		? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

	if (!inet_ntop(sa->sa_family, a, out, (socklen_t)n))
		img_fmt(out, n, "?");
}

static curl_socket_t open_guarded(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct img_req *req = ud;
	unsigned cls = img_reach_class(&a->addr);

	(void)purpose;
	if (!req->foreign) {
		req->guard->reach |= cls;
	} else if (cls & ~req->guard->reach) {
		name_addr(&a->addr, req->refused, sizeof(req->refused));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void img_reach_guard(CURL *h, struct img_endpoint *ep, struct img_req *req, bool foreign)
{
	req->guard = ep;
	req->foreign = foreign;
	req->refused[0] = 0;
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, req);
}

const char *img_reach_error(const struct img_req *req, CURLcode rc, char *out, size_t n)
{
	if (!req->refused[0])
		return curl_easy_strerror(rc);
	img_fmt(out, n,
		"refused: %s is the host's own (loopback, link-local or a cloud's metadata "
		"service) and the registry is not there",
		req->refused);
	return out;
}
