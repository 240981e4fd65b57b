/*
 * cli_http_ws.c: an execution's events websocket (docs/api.md) over the
 * CLI's HTTP connection, after its 101 answer: proto/ws_client.c reads the
 * frames (text messages, fragmented or not; pings and the close answered)
 * through the connection's buffer, and each message goes to the line sink.
 */
#include <string.h>
#include <stdlib.h>

#include "cli_http_conn_int.h"
#include "ws_client.h"

/* struct bora_ws_io's read: the bytes after the 101 that are buffered in
 * c first, then more from the connection. */
static ssize_t
http_ws_io_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	struct http_conn *c = ctx;
	size_t n;
	ssize_t r;

	if (c->start == c->end) {
		c->start = c->end = 0;
		if ((r = http_fill(c, err, errlen)) <= 0)
			return r;
	}
	n = c->end - c->start;
	if (n > len)
		n = len;
	memcpy(buf, c->buf + c->start, n);
	c->start += n;
	return (ssize_t)n;
}

static int
http_ws_io_write(void *ctx, const void *buf, size_t len, char *err,
    size_t errlen)
{
	switch (http_send_all(ctx, buf, len, err, errlen)) {
	case 0:
		return 0;
	case 1:
		http_errf(err, errlen, "the coordinator hung up the events "
		    "websocket");
		return -1;
	default:
		return -1;
	}
}

int
http_ws_read(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen)
{
	const struct bora_ws_io io = { http_ws_io_read, http_ws_io_write, c,
	    "the coordinator" };
	char *msg;
	size_t len;
	int rc;

	while (!s->stopped) {
		rc = bora_ws_recv(&io, s->cap, &msg, &len, err, errlen);
		if (rc == 0)
			return 0;      /* the coordinator's close: the end */
		if (rc < 0)
			return HTTP_ERR;
		/* as a line of a stream: without a '\r', empty ones skipped */
		if (len > 0 && msg[len - 1] == '\r')
			msg[--len] = '\0';
		if (len > 0 && s->fn(msg, len, s->ctx) != 0)
			s->stopped = 1;
		free(msg);
	}
	return 0;
}
