/*
 * cli_http_response.c: reading a response (cli_http_conn_int.h): the head
 * (status, Content-Length, Transfer-Encoding, Sec-WebSocket-Accept) within
 * HTTP_MAX_HEADER, then the body by Content-Length, by chunks or until the
 * server closes, into a sink: a growing buffer capped at its cap, or a line
 * splitter that hands each NDJSON line to the caller as soon as its newline
 * arrives.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_http_client_int.h"
#include "cli_http_conn_int.h"

#define HTTP_MAX_CHUNK_LINE  4096      /* "1a2b;ext\r\n" */

/* ---- sinks ------------------------------------------------------------- */

static int
http_buf_append(struct http_sink *s, const char *data, size_t len,
    char *err, size_t errlen, const char *what)
{
	size_t want;
	char *grown;

	if (len > s->cap - s->len)
		return http_errf(err, errlen, "%s is over %zu bytes", what,
		    s->cap);
	if (s->len + len + 1 > s->alloc) {
		want = s->alloc ? s->alloc : 16 * 1024;
		while (want < s->len + len + 1)
			want *= 2;
		if (want > s->cap + 1)
			want = s->cap + 1;
		grown = realloc(s->buf, want);
		if (grown == NULL)
			return http_errf(err, errlen, "out of memory");
		s->buf = grown;
		s->alloc = want;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/* Hand the line in s->buf (without its newline) to the callback. */
static int
http_sink_emit(struct http_sink *s)
{
	size_t len = s->len;

	if (len > 0 && s->buf[len - 1] == '\r')
		len--;
	if (len > 0) {
		s->buf[len] = '\0';
		if (s->fn(s->buf, len, s->ctx) != 0)
			s->stopped = 1;
	}
	s->len = 0;
	return 0;
}

static int
http_sink_write(struct http_sink *s, const char *data, size_t len, char *err,
    size_t errlen)
{
	const char *nl;
	size_t n;

	if (!s->lines)
		return http_buf_append(s, data, len, err, errlen,
		    "the response body");
	while (len > 0 && !s->stopped) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		if (http_buf_append(s, data, n, err, errlen,
		    "one line of the response") != 0)
			return HTTP_ERR;
		if (nl == NULL)
			break;
		http_sink_emit(s);
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* End of body: a last line without a newline still counts. */
void
http_sink_end(struct http_sink *s)
{
	if (s->lines && !s->stopped && s->len > 0)
		http_sink_emit(s);
}

/* ---- response parsing -------------------------------------------------- */


static void
http_trim(char **s, char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
	    (*e)[-1] == '\r'))
		(*e)--;
}

/* Transfer-Encoding: 1 when the codings are "chunked" (identity aside);
 * any other coding (gzip, ...) sets *other: we cannot decode it. */
static int
http_te_chunked(const char *v, size_t len, int *other)
{
	const char *p = v, *e = v + len, *t;
	size_t n;
	int chunked = 0;

	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		t = p;
		while (p < e && *p != ',')
			p++;
		n = (size_t)(p - t);
		while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (n == 7 && strncasecmp(t, "chunked", 7) == 0)
			chunked = 1;
		else if (!(n == 8 && strncasecmp(t, "identity", 8) == 0))
			*other = 1;
	}
	return chunked;
}

/* Parse the header block head[0..len) (lines end in \n or \r\n, the
 * last line is empty). */
static int
http_parse_head(char *head, size_t len, struct http_head *h, char *err,
    size_t errlen)
{
	char *line = head, *end = head + len, *eol, *colon, *vs, *ve, *p;
	unsigned long long v;
	int first = 1, other_te = 0;

	memset(h, 0, sizeof(*h));
	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		ve = eol;
		if (ve > line && ve[-1] == '\r')
			ve--;
		if (ve == line)
			break;                     /* the empty line */
		if (first) {
			/* HTTP/1.1 200 OK */
			if (ve - line < 12 || strncmp(line, "HTTP/1.", 7) != 0 ||
			    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
			    !isdigit((unsigned char)line[10]) ||
			    !isdigit((unsigned char)line[11]) ||
			    (ve - line > 12 && line[12] != ' '))
				return http_errf(err, errlen, "not an HTTP "
				    "response (is this the coordinator's API "
				    "socket?)");
			h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
			    (line[11] - '0');
			if (ve - line > 13)
				snprintf(h->reason, sizeof(h->reason), "%.*s",
				    (int)(ve - line - 13), line + 13);
			first = 0;
			line = eol + 1;
			continue;
		}
		colon = memchr(line, ':', (size_t)(ve - line));
		if (colon == NULL || colon == line)
			return http_errf(err, errlen, "malformed response "
			    "header line");
		vs = colon + 1;
		p = ve;
		http_trim(&vs, &p);
		ve = p;
		if ((size_t)(colon - line) == 14 &&
		    strncasecmp(line, "Content-Length", 14) == 0) {
			if (vs == ve)
				return http_errf(err, errlen, "empty "
				    "Content-Length in the response");
			for (v = 0, p = vs; p < ve; p++) {
				if (!isdigit((unsigned char)*p) ||
				    v > (ULLONG_MAX - 9) / 10)
					return http_errf(err, errlen, "bad "
					    "Content-Length in the response");
				v = v * 10 + (unsigned long long)(*p - '0');
			}
			if (h->has_length && h->length != v)
				return http_errf(err, errlen, "conflicting "
				    "Content-Length headers in the response");
			h->has_length = 1;
			h->length = v;
		} else if ((size_t)(colon - line) == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			h->chunked = http_te_chunked(vs, (size_t)(ve - vs),
			    &other_te);
		} else if ((size_t)(colon - line) == 20 &&
		    strncasecmp(line, "Sec-WebSocket-Accept", 20) == 0) {
			snprintf(h->ws_accept, sizeof(h->ws_accept), "%.*s",
			    (int)(ve - vs), vs);
		} else if ((size_t)(colon - line) == 12 &&
		    strncasecmp(line, "Content-Type", 12) == 0) {
			snprintf(h->content_type, sizeof(h->content_type),
			    "%.*s", (int)(ve - vs), vs);
		}
		line = eol + 1;
	}
	if (first)
		return http_errf(err, errlen, "empty response");
	if (other_te)
		return http_errf(err, errlen, "unsupported Transfer-Encoding "
		    "in the response");
	return 0;
}

/* Find the end of the header block in c's unread bytes: the offset just
 * past the empty line, or 0 when it has not arrived yet. */
static size_t
http_head_end(const struct http_conn *c)
{
	const char *p = c->buf + c->start, *e = c->buf + c->end, *nl;

	while ((nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (nl + 1 < e && nl[1] == '\n')
			return (size_t)(nl + 2 - (c->buf + c->start));
		if (nl + 2 < e && nl[1] == '\r' && nl[2] == '\n')
			return (size_t)(nl + 3 - (c->buf + c->start));
		p = nl + 1;
	}
	return 0;
}

/* Read and parse the response head; 1xx interim responses but 101
 * (Switching Protocols) are skipped. */
int
http_read_head(struct http_conn *c, struct http_head *h, char *err,
    size_t errlen)
{
	size_t n;
	ssize_t r;

	for (;;) {
		while ((n = http_head_end(c)) == 0) {
			if (c->end - c->start >= HTTP_MAX_HEADER)
				return http_errf(err, errlen, "response headers "
				    "are over %d bytes", HTTP_MAX_HEADER);
			r = http_fill(c, err, errlen);
			if (r < 0)
				return HTTP_ERR;
			if (r == 0)
				return http_errf(err, errlen, "the coordinator "
				    "closed the connection %s",
				    c->end == c->start ? "without answering" :
				    "in the middle of the response headers");
		}
		if (http_parse_head(c->buf + c->start, n, h, err, errlen) != 0)
			return HTTP_ERR;
		c->start += n;
		if (h->status >= 200 || h->status == 101)
			return 0;      /* 101: a websocket from here on */
	}
}

/* One line of the chunked coding (size line, CRLF after data, trailer),
 * without its line ending, NUL-terminated in line. */
static int
http_read_line(struct http_conn *c, char *line, size_t max, char *err,
    size_t errlen)
{
	char *nl;
	size_t n;
	ssize_t r;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl != NULL)
			break;
		if (c->end - c->start >= max)
			return http_errf(err, errlen, "chunked body: line over "
			    "%zu bytes", max);
		r = http_fill(c, err, errlen);
		if (r < 0)
			return HTTP_ERR;
		if (r == 0)
			return http_errf(err, errlen, "the coordinator closed "
			    "the connection in the middle of the body");
	}
	n = (size_t)(nl - (c->buf + c->start));
	if (n >= max)
		return http_errf(err, errlen, "chunked body: line over %zu "
		    "bytes", max);
	memcpy(line, c->buf + c->start, n);
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	c->start += (size_t)(nl - (c->buf + c->start)) + 1;
	return 0;
}

/* Pass exactly len body bytes (or, with until_eof, all of them until the
 * server closes) to the sink. */
int
http_read_body_bytes(struct http_conn *c, unsigned long long len,
    int until_eof, struct http_sink *s, char *err, size_t errlen)
{
	size_t n;
	ssize_t r;

	while ((until_eof || len > 0) && !s->stopped) {
		if (c->start == c->end) {
			c->start = c->end = 0;
			r = http_fill(c, err, errlen);
			if (r < 0)
				return HTTP_ERR;
			if (r == 0) {
				if (until_eof)
					return 0;
				return http_errf(err, errlen, "the coordinator "
				    "closed the connection %llu bytes before "
				    "the end of the body", len);
			}
		}
		n = c->end - c->start;
		if (!until_eof && n > len)
			n = (size_t)len;
		if (http_sink_write(s, c->buf + c->start, n, err, errlen) != 0)
			return HTTP_ERR;
		c->start += n;
		len -= until_eof ? 0 : n;
	}
	return 0;
}

int
http_read_chunked(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen)
{
	char line[HTTP_MAX_CHUNK_LINE];
	unsigned long long size;
	size_t trailer = 0;
	char *p;
	int digits;

	for (;;) {
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		size = 0;
		digits = 0;
		for (p = line; isxdigit((unsigned char)*p); p++, digits++) {
			if (size > (ULLONG_MAX >> 4))
				return http_errf(err, errlen, "chunked body: "
				    "chunk size too large");
			size = size * 16 + (unsigned long long)(isdigit(
			    (unsigned char)*p) ? *p - '0' :
			    (tolower((unsigned char)*p) - 'a' + 10));
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (digits == 0 || (*p != '\0' && *p != ';'))
			return http_errf(err, errlen, "chunked body: bad chunk "
			    "size line");
		if (size == 0)
			break;
		if (http_read_body_bytes(c, size, 0, s, err, errlen) != 0)
			return HTTP_ERR;
		if (s->stopped)
			return 0;
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		if (line[0] != '\0')
			return http_errf(err, errlen, "chunked body: missing "
			    "CRLF after a chunk");
	}
	/* Trailer fields, up to the empty line. */
	for (;;) {
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		if (line[0] == '\0')
			return 0;
		trailer += strlen(line);
		if (trailer > HTTP_MAX_HEADER)
			return http_errf(err, errlen, "chunked body: trailer "
			    "over %d bytes", HTTP_MAX_HEADER);
	}
}
