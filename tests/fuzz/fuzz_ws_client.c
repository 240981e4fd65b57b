/*
 * fuzz_ws_client.c: the websocket client (proto/ws_client.h) on a hostile
 * server: the input is all the server sends, the upgrade answer's head
 * (first byte: its length) and then the frames. The head goes through
 * bora_ws_response_check(); the frames through bora_ws_recv() with a small
 * message cap until it reports an end. Each message it returns is within
 * the cap, NUL-terminated, and what it writes back (pongs, the close
 * answer) is made of whole masked frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ws_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_WS_MAX 4096

struct fuzz_ws_stream {
	const uint8_t *data;
	size_t len, off;
	size_t written;
};

/* A short read sometimes, as a socket gives them. */
static ssize_t
fuzz_ws_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	struct fuzz_ws_stream *s = ctx;
	size_t n = s->len - s->off;

	(void)err;
	(void)errlen;
	if (n == 0)
		return 0;
	if (n > len)
		n = len;
	if (n > 1 && (s->off & 3) == 1)
		n = 1 + n / 2;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static int
fuzz_ws_write(void *ctx, const void *buf, size_t len, char *err,
    size_t errlen)
{
	struct fuzz_ws_stream *s = ctx;
	const unsigned char *b = buf;

	(void)err;
	(void)errlen;
	/* a client frame: FIN set, masked, a length that fits what is sent */
	if (len < 6 || !(b[1] & 0x80))
		abort();
	s->written += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ws_stream s = { 0 };
	struct bora_ws_io io = { fuzz_ws_read, fuzz_ws_write, &s, "fuzz" };
	char key[BORA_WS_KEY_LEN + 1] = "dGhlIHNhbXBsZSBub25jZQ==";
	char err[256], *msg;
	size_t head, len, rounds;
	int rc;

	if (size == 0)
		return 0;
	head = data[0];
	if (head > size - 1)
		head = size - 1;
	(void)bora_ws_response_check((const char *)data + 1, head, key, "fuzz",
	    err, sizeof(err));
	s.data = data + 1 + head;
	s.len = size - 1 - head;
	for (rounds = 0; rounds < 64; rounds++) {
		msg = NULL;
		rc = bora_ws_recv(&io, FUZZ_WS_MAX, &msg, &len, err, sizeof(err));
		if (rc != 1) {
			if (msg != NULL || err[0] == '\0')
				abort();        /* an end always says why */
			break;
		}
		if (msg == NULL || len > FUZZ_WS_MAX || msg[len] != '\0')
			abort();
		free(msg);
	}
	return 0;
}
