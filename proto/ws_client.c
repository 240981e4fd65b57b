/*
 * ws_client.c: the client side of a websocket (ws_client.h): the upgrade's
 * key and accept check, masked frames out, the server's frames in.
 *
 * Every read is bounded: a frame header is at most 10 bytes, a control
 * frame's payload BORA_WS_CONTROL_MAX, a message the caller's max (its
 * buffer grows only for a frame that fits).
 */
#include "ws_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int
bora_ws_upgrade_headers(char *buf, size_t n, const char *protocol,
    char key[BORA_WS_KEY_LEN + 1])
{
	unsigned char raw[16];
	int len;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	len = snprintf(buf, n, "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Protocol: %s\r\n", key, protocol);
	return len < 0 || (size_t)len >= n ? -1 : len;
}

void
bora_ws_accept_of(const char *key, char out[BORA_WS_ACCEPT_LEN + 1])
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char cat[BORA_WS_KEY_LEN + sizeof(WS_GUID)];
	size_t n = strnlen(key, BORA_WS_KEY_LEN);

	memcpy(cat, key, n);
	memcpy(cat + n, WS_GUID, sizeof(WS_GUID));
	SHA1((const unsigned char *)cat, n + sizeof(WS_GUID) - 1, md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

int
bora_ws_accept_ok(const char *key, const char *accept)
{
	char want[BORA_WS_ACCEPT_LEN + 1];
	size_t n;

	if (strlen(key) != BORA_WS_KEY_LEN)
		return 0;
	while (*accept == ' ' || *accept == '\t')
		accept++;
	n = strlen(accept);
	while (n > 0 && (accept[n - 1] == ' ' || accept[n - 1] == '\t' ||
	    accept[n - 1] == '\r'))
		n--;
	bora_ws_accept_of(key, want);
	return n == BORA_WS_ACCEPT_LEN && memcmp(want, accept, n) == 0;
}

int
bora_ws_response_check(const char *head, size_t len, const char *key,
    const char *peer, char *err, size_t errlen)
{
	static const char name[] = "Sec-WebSocket-Accept:";
	const char *line = head, *end = head + len, *eol, *v;
	char accept[BORA_WS_ACCEPT_LEN + 8];
	size_t first, vn;

	for (first = 0; first < len && head[first] != '\r' &&
	    head[first] != '\n'; first++)
		;
	if (first < 12 || strncmp(head, "HTTP/1.1 101", 12) != 0 ||
	    (first > 12 && head[12] != ' ')) {
		snprintf(err, errlen, "%s refused the websocket upgrade: %.*s",
		    peer, (int)(first > 200 ? 200 : first), head);
		return -1;
	}
	for (; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) < sizeof(name) - 1 ||
		    strncasecmp(line, name, sizeof(name) - 1) != 0)
			continue;
		v = line + sizeof(name) - 1;
		vn = (size_t)(eol - v);
		if (vn >= sizeof(accept))
			break;                 /* too long to be the answer */
		memcpy(accept, v, vn);
		accept[vn] = '\0';
		if (bora_ws_accept_ok(key, accept))
			return 0;
		break;
	}
	snprintf(err, errlen, "%s's websocket answer does not match the "
	    "request (Sec-WebSocket-Accept)", peer);
	return -1;
}

size_t
bora_ws_frame_head(unsigned char out[BORA_WS_HEAD_MAX], int op, uint64_t len,
    const unsigned char mask[4])
{
	size_t h = 0;
	int i;

	out[h++] = (unsigned char)(0x80 | (op & 0x0f));
	if (len < 126)
		out[h++] = (unsigned char)(0x80 | len);
	else if (len < 65536) {
		out[h++] = 0x80 | 126;
		out[h++] = (unsigned char)(len >> 8);
		out[h++] = (unsigned char)len;
	} else {
		out[h++] = 0x80 | 127;
		for (i = 7; i >= 0; i--)
			out[h++] = (unsigned char)(len >> (8 * i));
	}
	memcpy(out + h, mask, 4);
	return h + 4;
}

void
bora_ws_mask(unsigned char *data, size_t len, const unsigned char mask[4])
{
	size_t i;

	for (i = 0; i < len; i++)
		data[i] ^= mask[i & 3];
}

int
bora_ws_send(const struct bora_ws_io *io, int op, const void *data,
    size_t len, char *err, size_t errlen)
{
	unsigned char mask[4], *frame;
	size_t h;
	int rc;

	if ((op & 0x08) && len > BORA_WS_CONTROL_MAX) {
		snprintf(err, errlen, "a websocket control frame over %d bytes",
		    BORA_WS_CONTROL_MAX);
		return -1;
	}
	if (len > SIZE_MAX - BORA_WS_HEAD_MAX ||
	    (frame = malloc(BORA_WS_HEAD_MAX + len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (RAND_bytes(mask, sizeof(mask)) != 1) {
		snprintf(err, errlen, "no randomness for the websocket mask");
		free(frame);
		return -1;
	}
	h = bora_ws_frame_head(frame, op, len, mask);
	if (len > 0)
		memcpy(frame + h, data, len);
	bora_ws_mask(frame + h, len, mask);
	rc = io->write(io->ctx, frame, h + len, err, errlen);
	OPENSSL_cleanse(frame, h + len);
	free(frame);
	return rc == 0 ? 0 : -1;
}

/* Exactly n bytes into buf. 0, or -1 (err set). */
static int
ws_read_exact(const struct bora_ws_io *io, void *buf, size_t n, char *err,
    size_t errlen)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = io->read(io->ctx, (char *)buf + got, n - got, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(err, errlen, "%s closed the connection "
			    "without a websocket close frame", io->peer);
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* A frame's header: fin, op and payload length (the server's frames are
 * never masked and set no reserved bit). 0, or -1 (err set). */
static int
ws_read_head(const struct bora_ws_io *io, int *fin, int *op, uint64_t *len,
    char *err, size_t errlen)
{
	unsigned char h[2], ext[8];
	size_t k, i;

	if (ws_read_exact(io, h, 2, err, errlen) != 0)
		return -1;
	*fin = (h[0] & 0x80) != 0;
	*op = h[0] & 0x0f;
	if ((h[0] & 0x70) != 0 || (h[1] & 0x80) != 0) {
		snprintf(err, errlen, "a malformed websocket frame from %s "
		    "(reserved bits or a mask)", io->peer);
		return -1;
	}
	*len = h[1] & 0x7f;
	if (*len < 126)
		return 0;
	k = *len == 126 ? 2 : 8;
	if (ws_read_exact(io, ext, k, err, errlen) != 0)
		return -1;
	for (*len = 0, i = 0; i < k; i++)
		*len = (*len << 8) | ext[i];
	return 0;
}

/* A control frame (op, its payload ctl[0..n)): a ping answered, a pong
 * skipped (1: read on), a close answered (0). -1 (err set). */
static int
ws_control(const struct bora_ws_io *io, int op, const unsigned char *ctl,
    size_t n, char *err, size_t errlen)
{
	char ignored[128];
	unsigned code;

	switch (op) {
	case BORA_WS_OP_PING:
		return bora_ws_send(io, BORA_WS_OP_PONG, ctl, n, err, errlen) ==
		    0 ? 1 : -1;
	case BORA_WS_OP_PONG:
		return 1;
	case BORA_WS_OP_CLOSE:
		/* answer with its status code; then it is over */
		(void)bora_ws_send(io, BORA_WS_OP_CLOSE, ctl, n >= 2 ? 2 : 0,
		    ignored, sizeof(ignored));
		code = n >= 2 ? (unsigned)ctl[0] << 8 | ctl[1] : 0;
		if (code != 0)
			snprintf(err, errlen, "%s closed the websocket (code "
			    "%u)", io->peer, code);
		else
			snprintf(err, errlen, "%s closed the websocket",
			    io->peer);
		return 0;
	default:
		snprintf(err, errlen, "an unexpected websocket frame (opcode "
		    "%d) from %s", op, io->peer);
		return -1;
	}
}

int
bora_ws_recv(const struct bora_ws_io *io, size_t max, char **msg,
    size_t *len, char *err, size_t errlen)
{
	unsigned char ctl[BORA_WS_CONTROL_MAX];
	char *buf = NULL, *grown;
	size_t total = 0;
	uint64_t n;
	int fin, op, in_msg = 0, rc = -1;

	*msg = NULL;
	*len = 0;
	for (;;) {
		if (ws_read_head(io, &fin, &op, &n, err, errlen) != 0)
			goto out;
		if (op & 0x08) {
			if (n > BORA_WS_CONTROL_MAX || !fin) {
				snprintf(err, errlen, "a malformed websocket "
				    "control frame from %s", io->peer);
				goto out;
			}
			if (ws_read_exact(io, ctl, (size_t)n, err, errlen) != 0)
				goto out;
			rc = ws_control(io, op, ctl, (size_t)n, err, errlen);
			if (rc != 1)
				goto out;
			rc = -1;
			continue;
		}
		if (op != (in_msg ? BORA_WS_OP_CONT : BORA_WS_OP_TEXT)) {
			snprintf(err, errlen, "an unexpected websocket frame "
			    "(opcode %d) from %s", op, io->peer);
			goto out;
		}
		if (n > max - total) {
			snprintf(err, errlen, "a websocket message from %s is "
			    "over %zu bytes", io->peer, max);
			goto out;
		}
		if ((grown = realloc(buf, total + (size_t)n + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		buf = grown;
		if (ws_read_exact(io, buf + total, (size_t)n, err, errlen) != 0)
			goto out;
		total += (size_t)n;
		in_msg = !fin;
		if (fin)
			break;
	}
	buf[total] = '\0';
	*msg = buf;
	*len = total;
	buf = NULL;
	rc = 1;
out:
	free(buf);
	return rc;
}
