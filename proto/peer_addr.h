/*
 * peer_addr.h: "addr:port" of a connection's peer, for logs and per-source
 * limits. IPv4-mapped IPv6 is shown as IPv4; "?:0" when it cannot be told
 * (the peer has closed already).
 */
#ifndef BORA_PROTO_PEER_ADDR_H
#define BORA_PROTO_PEER_ADDR_H

#include <stddef.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

void bora_fd_peer_addr(int fd, char *out, size_t outlen);
/* Through the SSL object's socket: during the handshake, before lws has a
 * connection to ask. ssl may be NULL. */
void bora_ssl_peer_addr(SSL *ssl, char *out, size_t outlen);
void bora_wsi_peer_addr(struct lws *wsi, char *out, size_t outlen);
/* The host part of "addr:port" (an IPv6 address keeps its colons) in
 * out; returns out. For limits per source, whatever port it came from. */
const char *bora_addr_host(const char *addr, char *out, size_t outlen);

#endif
