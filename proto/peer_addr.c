/* peer_addr.c: see peer_addr.h. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "peer_addr.h"

void
bora_fd_peer_addr(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
				inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12],
				    host, sizeof(host));
			else
				inet_ntop(AF_INET6, &in6->sin6_addr, host,
				    sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(out, outlen, "%s:%d", host, port);
}

void
bora_ssl_peer_addr(SSL *ssl, char *out, size_t outlen)
{
	bora_fd_peer_addr(ssl ? SSL_get_fd(ssl) : -1, out, outlen);
}

void
bora_wsi_peer_addr(struct lws *wsi, char *out, size_t outlen)
{
	bora_fd_peer_addr((int)lws_get_socket_fd(wsi), out, outlen);
}

const char *
bora_addr_host(const char *addr, char *out, size_t outlen)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon ? (size_t)(colon - addr) : strlen(addr);

	snprintf(out, outlen, "%.*s", (int)n, addr);
	return out;
}
