/*
 * cli_http_ws.c: the client side of a websocket (RFC 6455), as much as the
 * CLI needs to follow the events of an execution (docs/api.md): the key
 * and its accept check, and reading the server's frames (text messages,
 * fragmented or not; pings answered; the close answered). The server's
 * frames are never masked; ours always are.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "cli_http_conn_int.h"

#define WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_OP_CONT    0x0
#define WS_OP_TEXT    0x1
#define WS_OP_BINARY  0x2
#define WS_OP_CLOSE   0x8
#define WS_OP_PING    0x9
#define WS_OP_PONG    0xA

void
http_ws_key(char key[25])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0x5a, sizeof(raw));   /* not a secret: a nonce */
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
}

int
http_ws_accept_ok(const char *key, const char *accept)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char cat[64], want[32];

	if (strlen(key) != 24)
		return 0;
	memcpy(cat, key, 24);
	memcpy(cat + 24, WS_GUID, sizeof(WS_GUID));
	SHA1((const unsigned char *)cat, strlen(cat), md);
	EVP_EncodeBlock((unsigned char *)want, md, sizeof(md));
	return strcmp(want, accept) == 0;
}

/* At least n unread bytes in c (n <= HTTP_RBUF). 0; -1 (err set). */
static int
http_ws_need(struct http_conn *c, size_t n, char *err, size_t errlen)
{
	ssize_t r;

	while (c->end - c->start < n) {
		if (c->start > 0) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		r = http_fill(c, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			http_errf(err, errlen, "the coordinator closed the "
			    "events websocket without a close frame");
			return -1;
		}
	}
	return 0;
}

/* A masked frame of ours (len <= 125: control frames only). */
static int
http_ws_send(struct http_conn *c, int op, const unsigned char *data,
    size_t len, char *err, size_t errlen)
{
	unsigned char f[2 + 4 + 125];
	size_t i;

	if (len > 125)
		len = 125;
	f[0] = (unsigned char)(0x80 | op);
	f[1] = (unsigned char)(0x80 | len);
	if (RAND_bytes(f + 2, 4) != 1)
		memset(f + 2, 0x3c, 4);
	for (i = 0; i < len; i++)
		f[6 + i] = data[i] ^ f[2 + i % 4];
	return http_send_all(c, (const char *)f, 6 + len, err, errlen) < 0 ?
	    -1 : 0;
}

/* The frame header at c's unread bytes: op, fin and payload length; the
 * header consumed. 0; -1 (err set). */
static int
http_ws_header(struct http_conn *c, int *op, int *fin, unsigned long long *len,
    char *err, size_t errlen)
{
	const unsigned char *p;
	size_t ext, i;

	if (http_ws_need(c, 2, err, errlen) != 0)
		return -1;
	p = (const unsigned char *)c->buf + c->start;
	*fin = (p[0] & 0x80) != 0;
	*op = p[0] & 0x0f;
	if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0)
		return http_errf(err, errlen, "a malformed websocket frame "
		    "from the coordinator (reserved bits or a mask)");
	*len = p[1] & 0x7f;
	ext = *len == 126 ? 2 : *len == 127 ? 8 : 0;
	if (http_ws_need(c, 2 + ext, err, errlen) != 0)
		return -1;
	p = (const unsigned char *)c->buf + c->start;
	if (ext > 0)
		for (*len = 0, i = 0; i < ext; i++)
			*len = (*len << 8) | p[2 + i];
	c->start += 2 + ext;
	return 0;
}

int
http_ws_read(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen)
{
	unsigned char ctl[125];
	unsigned long long len;
	size_t take, nctl;
	int op, fin, in_text = 0;

	while (!s->stopped) {
		if (http_ws_header(c, &op, &fin, &len, err, errlen) != 0)
			return HTTP_ERR;
		if (op >= 0x8 && (len > 125 || !fin))
			return http_errf(err, errlen, "a malformed websocket "
			    "control frame from the coordinator");
		if (op == WS_OP_BINARY || (op == WS_OP_CONT && !in_text) ||
		    (op == WS_OP_TEXT && in_text) || (op > WS_OP_BINARY &&
		    op < WS_OP_CLOSE) || op > WS_OP_PONG)
			return http_errf(err, errlen, "an unexpected websocket "
			    "frame (opcode %d) from the coordinator", op);
		nctl = 0;
		while (len > 0) {
			if (http_ws_need(c, 1, err, errlen) != 0)
				return HTTP_ERR;
			take = c->end - c->start;
			if (take > len)
				take = (size_t)len;
			if (op >= 0x8) {
				memcpy(ctl + nctl, c->buf + c->start, take);
				nctl += take;
			} else if (http_buf_append(s, c->buf + c->start, take,
			    err, errlen, "one event") != 0)
				return HTTP_ERR;
			c->start += take;
			len -= take;
		}
		if (op == WS_OP_PING) {
			if (http_ws_send(c, WS_OP_PONG, ctl, nctl, err,
			    errlen) != 0)
				return HTTP_ERR;
		} else if (op == WS_OP_CLOSE) {
			/* answer with its status; then it is over */
			(void)http_ws_send(c, WS_OP_CLOSE, ctl, nctl >= 2 ? 2 : 0,
			    err, errlen);
			return 0;
		} else if (op != WS_OP_PONG) {
			in_text = !fin;
			if (fin)
				http_sink_emit(s);
		}
	}
	return 0;
}
