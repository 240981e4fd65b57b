/*
 * conn_guard.h: what connections to the agent port may cost before they
 * authenticate. Anyone who reaches the port can open TCP connections
 * without credentials; each holds a descriptor and TLS state. So the
 * connections not yet authenticated (in the TLS handshake, or enrolling)
 * are capped in total and per source address: past a cap a new one is
 * closed at accept, before TLS (logged rate limited). A connection leaves
 * the count when it authenticates (a verified agent certificate) or closes.
 *
 * The agent server calls these from its lws callbacks (agent_server.c):
 * conn_guard_admit() on LWS_CALLBACK_FILTER_NETWORK_CONNECTION, _bind() on
 * LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED, _authenticated() when the
 * agent's certificate has been verified, _release() on
 * LWS_CALLBACK_WSI_DESTROY. Every call is O(1).
 */
#ifndef BORA_COORD_CONN_GUARD_H
#define BORA_COORD_CONN_GUARD_H

#include <stddef.h>
#include <sys/socket.h>

#include <libwebsockets.h>

/* The caps; fd_capacity: descriptors are below it (the fd limit). 0, or
 * -1 when out of memory. */
int conn_guard_init(size_t max_total, size_t max_per_source,
    size_t fd_capacity);
void conn_guard_shutdown(void);

/* A connection accepted on fd from addr: 1 to take it (it is counted), 0
 * to close it (a cap is reached; logged, rate limited). */
int conn_guard_admit(int fd, const struct sockaddr *addr, socklen_t len);
/* The connection's wsi, once lws made it for fd. */
void conn_guard_bind(struct lws *wsi, int fd);
/* It presented a verified agent certificate: no longer counted. */
void conn_guard_authenticated(struct lws *wsi);
/* It is gone (whatever state it reached). */
void conn_guard_release(struct lws *wsi);

/* Not yet authenticated: all, and from the host of addr ("ip"). */
size_t conn_guard_unauth(void);
size_t conn_guard_unauth_from(const char *host);

#endif
