/*
 * ws_client.h: the client side of a websocket (RFC 6455), the one both
 * binaries use: the CLI to follow an execution's events, the agent to
 * enroll. The upgrade headers with a random key, the check of the server's
 * Sec-WebSocket-Accept, and frames written (always masked) and read (never
 * masked: a server's) over any byte stream, with caps on what is read.
 *
 * The transport is the caller's (a unix socket, TLS): struct bora_ws_io.
 * Extensions are not offered, so a frame with a reserved bit is refused;
 * only text messages are data (a binary frame is refused).
 */
#ifndef BORA_PROTO_WS_CLIENT_H
#define BORA_PROTO_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BORA_WS_KEY_LEN      24     /* base64 of 16 random bytes */
#define BORA_WS_ACCEPT_LEN   28     /* base64 of a SHA-1 digest */
#define BORA_WS_CONTROL_MAX  125    /* payload of a control frame */
#define BORA_WS_HEAD_MAX     14     /* 2 + 8 (length) + 4 (mask) */

enum {
	BORA_WS_OP_CONT = 0x0,
	BORA_WS_OP_TEXT = 0x1,
	BORA_WS_OP_BINARY = 0x2,
	BORA_WS_OP_CLOSE = 0x8,
	BORA_WS_OP_PING = 0x9,
	BORA_WS_OP_PONG = 0xA,
};

/* A connection's bytes, both ways. */
struct bora_ws_io {
	/* Up to len bytes into buf: how many (> 0), 0 when the peer closed
	 * the stream, -1 with err set. */
	ssize_t (*read)(void *ctx, void *buf, size_t len, char *err,
	    size_t errlen);
	/* All of buf: 0, or -1 with err set. */
	int (*write)(void *ctx, const void *buf, size_t len, char *err,
	    size_t errlen);
	void *ctx;
	const char *peer;          /* named in errors: "the coordinator" */
};

/*
 * The header lines of an upgrade request (after the request line and
 * Host, before the empty line): Connection, Upgrade, Sec-WebSocket-Version,
 * Sec-WebSocket-Key (a new random one, copied to key for the check of the
 * answer) and Sec-WebSocket-Protocol: protocol. Returns their length, or
 * -1 when they do not fit in buf (n bytes) or there is no randomness.
 */
int bora_ws_upgrade_headers(char *buf, size_t n, const char *protocol,
    char key[BORA_WS_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept that answers key (RFC 6455 4.2.2): of its
 * first BORA_WS_KEY_LEN characters, the length of every key. */
void bora_ws_accept_of(const char *key, char out[BORA_WS_ACCEPT_LEN + 1]);

/* 1 when accept (a header's value, surrounding blanks allowed) answers
 * key, else 0. */
int bora_ws_accept_ok(const char *key, const char *accept);

/*
 * The head of the server's answer to the upgrade (status line and header
 * lines, head[0..len), the empty line included or not): 0 when it is
 * "HTTP/1.1 101" with a Sec-WebSocket-Accept that answers key, else -1
 * with a sentence in err naming the peer (the status line of a refusal).
 */
int bora_ws_response_check(const char *head, size_t len, const char *key,
    const char *peer, char *err, size_t errlen);

/*
 * A client frame's header into out: FIN set (we never fragment), op, the
 * payload length in its shortest form, the mask bit and mask. Returns its
 * length (6, 8 or 14).
 */
size_t bora_ws_frame_head(unsigned char out[BORA_WS_HEAD_MAX], int op,
    uint64_t len, const unsigned char mask[4]);

/* XOR data[0..len) with mask in place (masking and unmasking). */
void bora_ws_mask(unsigned char *data, size_t len,
    const unsigned char mask[4]);

/*
 * Send one frame of op with data (len bytes; at most BORA_WS_CONTROL_MAX
 * for a control op), masked with a new random key. data is not changed;
 * the masked copy is cleansed and freed (it may carry a token). 0, or -1
 * with err.
 */
int bora_ws_send(const struct bora_ws_io *io, int op, const void *data,
    size_t len, char *err, size_t errlen);

/*
 * The next text message from the server, its fragments joined, at most
 * max bytes. Pings are answered with a pong, pongs skipped; a close frame
 * is answered with one carrying its status code. Returns
 *   1: *msg is the message, NUL-terminated (malloc'ed: the caller frees
 *      it), *len its length;
 *   0: the server closed the websocket (err says so, with its code);
 *  -1: an error (err says which): the stream ended without a close frame,
 *      a malformed or unexpected frame, a message over max.
 * *msg is NULL unless 1 is returned.
 */
int bora_ws_recv(const struct bora_ws_io *io, size_t max, char **msg,
    size_t *len, char *err, size_t errlen);

#endif
