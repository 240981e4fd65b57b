/*
 * log.c: one event per line on stderr, as text or as JSON (log.h).
 *
 * A line is built in one fixed buffer and handed to a single write(), so the
 * lines of one process never interleave and logging never allocates. A line
 * is at most LOG_LINE_MAX bytes; longer ones end in "...".
 */
#include "log.h"
#include "log_gate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#define LOG_LINE_MAX 8192            /* bytes of one line, newline included */
#define LOG_TAIL 16                  /* kept free for "...", closers, '\n' */

static enum bora_log_level log_level = BORA_LOG_INFO;
static enum bora_log_format log_format = BORA_LOG_TEXT;

static const char *const log_level_names[] = {
	[BORA_LOG_ERROR] = "error",
	[BORA_LOG_WARN] = "warn",
	[BORA_LOG_INFO] = "info",
	[BORA_LOG_DEBUG] = "debug",
};

/* Members the JSON form writes itself; a key=value with one of these names
 * stays in the message. */
static const char *const log_reserved[] = { "time", "level", "component",
	"msg" };

/* One output line. Appends stop at `limit`, which leaves LOG_TAIL bytes for
 * the closing text, so the line is never longer than LOG_LINE_MAX. */
struct log_out {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t limit;
	int full;                    /* something was cut */
};

/* A key=value token of a message. */
struct log_kv {
	const char *key, *val;
	size_t klen, vlen;
	int quoted;                  /* val is "..." (quotes excluded) */
};

static void	log_lws_emit(int, const char *);

void
bora_log_init(enum bora_log_level level, enum bora_log_format format)
{
	log_level = level;
	log_format = format;
	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_emit);
}

int
bora_log_level_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]);
	    i++)
		if (strcmp(s, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

int
bora_log_format_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "text") == 0)
		return BORA_LOG_TEXT;
	if (strcmp(s, "json") == 0)
		return BORA_LOG_JSON;
	return -1;
}

/* Append n bytes, cutting at the limit. */
static void
log_put(struct log_out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (n > o->limit - o->len) {
		n = o->limit - o->len;
		o->full = 1;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
log_puts(struct log_out *o, const char *s)
{
	log_put(o, s, strlen(s));
}

/* Append n bytes of message text, keeping it on one line: control bytes
 * other than tab are written as \n, \r or \xNN. */
static void
log_put_text(struct log_out *o, const char *s, size_t n)
{
	char esc[5];
	size_t i, start = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 || c == '\t')
			continue;
		log_put(o, s + start, i - start);
		start = i + 1;
		if (c == '\n')
			log_put(o, "\\n", 2);
		else if (c == '\r')
			log_put(o, "\\r", 2);
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			log_put(o, esc, 4);
		}
	}
	log_put(o, s + start, n - start);
}

/* Append the closing text; only ever called with less than LOG_TAIL bytes
 * after the limit was respected. */
static void
log_put_tail(struct log_out *o, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(o->buf) - o->len)
		n = sizeof(o->buf) - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t
log_utf8_len(const unsigned char *p, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Append s as a JSON string. Invalid UTF-8 becomes U+FFFD; past the limit
 * the string ends in "..." and is still closed. */
static void
log_put_json_str(struct log_out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	const char *unit;
	size_t i = 0, ulen;

	if (o->full || o->len + 1 > o->limit) {
		o->full = 1;
		return;
	}
	o->buf[o->len++] = '"';
	while (i < n) {
		unit = esc;
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			ulen = 2;
			i++;
		} else if (p[i] == '\n') {
			unit = "\\n";
			ulen = 2;
			i++;
		} else if (p[i] == '\t') {
			unit = "\\t";
			ulen = 2;
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			ulen = 6;
			i++;
		} else if ((ulen = log_utf8_len(p + i, n - i)) != 0) {
			unit = s + i;
			i += ulen;
		} else {
			unit = "\\ufffd";
			ulen = 6;
			i++;
		}
		if (o->len + ulen > o->limit) {
			o->full = 1;
			log_put_tail(o, "...");
			break;
		}
		memcpy(o->buf + o->len, unit, ulen);
		o->len += ulen;
	}
	log_put_tail(o, "\"");
}

/* Append ,"key":"value" or nothing when even the key does not fit. */
static void
log_put_json_member(struct log_out *o, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	if (o->full)
		return;
	if (o->len + klen + 5 > o->limit) {
		o->full = 1;
		return;
	}
	log_put(o, ",", 1);
	log_put_json_str(o, key, klen);
	log_put(o, ":", 1);
	log_put_json_str(o, val, vlen);
}

static int
log_is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

/*
 * Parse a key=value token at msg[pos] (len bytes in msg). The token ends at
 * a space or at the end. A value is either a run of non-space bytes without
 * '"', or a double-quoted string with backslash escapes (bora_log_quote).
 * Returns the end offset, or 0 when the token is not key=value.
 */
static size_t
log_kv_parse(const char *msg, size_t len, size_t pos, struct log_kv *kv)
{
	size_t i = pos, k;

	while (i < len && log_is_key_char(msg[i]))
		i++;
	if (i == pos || i >= len || msg[i] != '=')
		return 0;
	kv->key = msg + pos;
	kv->klen = i - pos;
	for (k = 0; k < sizeof(log_reserved) / sizeof(log_reserved[0]); k++)
		if (strlen(log_reserved[k]) == kv->klen &&
		    memcmp(log_reserved[k], kv->key, kv->klen) == 0)
			return 0;
	i++;
	if (i < len && msg[i] == '"') {
		kv->quoted = 1;
		kv->val = msg + ++i;
		while (i < len && msg[i] != '"') {
			if (msg[i] == '\\' && i + 1 < len)
				i++;
			i++;
		}
		if (i >= len)
			return 0;
		kv->vlen = (size_t)(msg + i - kv->val);
		i++;
	} else {
		kv->quoted = 0;
		kv->val = msg + i;
		while (i < len && msg[i] != ' ' && msg[i] != '"')
			i++;
		kv->vlen = (size_t)(msg + i - kv->val);
	}
	if (i < len && msg[i] != ' ')
		return 0;
	return i;
}

/* Offset where the trailing run of key=value tokens starts, or len. */
static size_t
log_kv_start(const char *msg, size_t len)
{
	struct log_kv kv;
	size_t pos = 0, run = len, end;

	for (;;) {
		while (pos < len && msg[pos] == ' ')
			pos++;
		if (pos >= len)
			break;
		if ((end = log_kv_parse(msg, len, pos, &kv)) != 0) {
			if (run == len)
				run = pos;
			pos = end;
		} else {
			run = len;
			while (pos < len && msg[pos] != ' ')
				pos++;
		}
	}
	return run;
}

/* Undo bora_log_quote's escapes into out (at least vlen bytes). */
static size_t
log_unquote(const char *val, size_t vlen, char *out)
{
	size_t i, o = 0;
	unsigned int x;
	char hex[3];

	for (i = 0; i < vlen; i++) {
		if (val[i] != '\\' || i + 1 >= vlen) {
			out[o++] = val[i];
			continue;
		}
		switch (val[++i]) {
		case 'n':
			out[o++] = '\n';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'x':
			if (i + 2 < vlen) {
				hex[0] = val[i + 1];
				hex[1] = val[i + 2];
				hex[2] = '\0';
				if (sscanf(hex, "%2x", &x) == 1) {
					out[o++] = (char)x;
					i += 2;
					break;
				}
			}
			out[o++] = 'x';
			break;
		default:
			out[o++] = val[i];
			break;
		}
	}
	return o;
}

static void
log_time(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	char date[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03dZ", date, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void
log_write(const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(STDERR_FILENO, buf + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t)n;
	}
}

static void
log_text(struct log_out *o, const char *when, enum bora_log_level level,
    const char *component, const char *msg, size_t head, size_t ctx,
    size_t len, const char *err, int cut)
{
	char lv[8];

	snprintf(lv, sizeof(lv), "%-5s ", log_level_names[level]);
	log_puts(o, when);
	log_puts(o, " ");
	log_puts(o, lv);
	log_put_text(o, component, strlen(component));
	log_puts(o, ": ");
	log_put_text(o, msg, head);
	if (cut)
		log_puts(o, "...");
	if (err != NULL) {
		log_puts(o, ": ");
		log_puts(o, err);
	}
	if (ctx < len) {
		log_puts(o, " ");
		log_put_text(o, msg + ctx, len - ctx);
	}
	if (o->full)
		log_put_tail(o, "...");
	log_put_tail(o, "\n");
}

static void
log_json(struct log_out *o, const char *when, enum bora_log_level level,
    const char *component, const char *msg, size_t head, size_t ctx,
    size_t len, const char *err, int cut)
{
	char text[LOG_LINE_MAX];
	char val[LOG_LINE_MAX];
	struct log_kv kv;
	size_t n, pos, end;
	int r;

	log_puts(o, "{\"time\":");
	log_put_json_str(o, when, strlen(when));
	log_put_json_member(o, "level", 5, log_level_names[level],
	    strlen(log_level_names[level]));
	log_put_json_member(o, "component", 9, component, strlen(component));

	r = snprintf(text, sizeof(text), "%.*s%s%s%s", (int)head, msg,
	    cut ? "..." : "", err != NULL ? ": " : "", err != NULL ? err : "");
	n = r < 0 ? 0 : (size_t)r;
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	log_put_json_member(o, "msg", 3, text, n);

	for (pos = ctx; pos < len; pos = end) {
		while (pos < len && msg[pos] == ' ')
			pos++;
		if (pos >= len || (end = log_kv_parse(msg, len, pos, &kv)) == 0)
			break;
		if (kv.quoted) {
			n = log_unquote(kv.val, kv.vlen, val);
			log_put_json_member(o, kv.key, kv.klen, val, n);
		} else
			log_put_json_member(o, kv.key, kv.klen, kv.val, kv.vlen);
	}
	log_put_tail(o, "}\n");
}

void
bora_log(enum bora_log_level level, int with_errno, const char *component,
    const char *fmt, ...)
{
	struct log_out out;
	char msg[LOG_LINE_MAX];
	char when[40];
	char errtext[128];
	const char *err = NULL;
	va_list ap;
	int saved = errno, n, cut = 0;
	size_t len, ctx, head;

	if ((int)level < 0 || level > BORA_LOG_DEBUG)
		level = BORA_LOG_ERROR;
	if (level > log_level)
		return;
	if (component == NULL)
		component = "-";
	if (with_errno)
		err = strerror_r(saved, errtext, sizeof(errtext));

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg[0] = '\0';
		len = 0;
	} else if ((size_t)n >= sizeof(msg)) {
		len = sizeof(msg) - 1;
		cut = 1;
	} else
		len = (size_t)n;

	/* The message, then strerror, then the key=value context. */
	ctx = cut ? len : log_kv_start(msg, len);
	head = ctx;
	while (head > 0 && msg[head - 1] == ' ')
		head--;

	log_time(when, sizeof(when));
	out.len = 0;
	out.full = 0;
	out.limit = sizeof(out.buf) - LOG_TAIL;
	if (log_format == BORA_LOG_JSON)
		log_json(&out, when, level, component, msg, head, ctx, len,
		    err, cut);
	else
		log_text(&out, when, level, component, msg, head, ctx, len,
		    err, cut);
	log_write(out.buf, out.len);
	errno = saved;
}

/*
 * libwebsockets' lines: drop the trailing newline and, when present, the
 * "[2018/11/13 07:41:57:3989] E: " prefix its own emitter would add.
 */
static void
log_lws_emit(int level, const char *line)
{
	const char *p = line, *q;
	enum bora_log_level lv;
	char key[32], sfx[40];
	size_t n;

	if (p[0] == '[' && (q = strchr(p, ']')) != NULL && q - p < 40 &&
	    q[1] == ' ') {
		p = q + 2;
		if (p[0] >= 'A' && p[0] <= 'Z' && p[1] == ':' && p[2] == ' ')
			p += 3;
	}
	n = strlen(p);
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		lv = BORA_LOG_ERROR;
	else if (level & LLL_WARN)
		lv = BORA_LOG_WARN;
	else if (level & (LLL_NOTICE | LLL_INFO))
		lv = BORA_LOG_INFO;
	else
		lv = BORA_LOG_DEBUG;
	/* lws says the same thing once per event (accept: errno 24 when the
	 * descriptors are out): a few lines per window, keyed by its start */
	snprintf(key, sizeof(key), "%.*s", (int)(n < 24 ? n : 24), p);
	if (bora_log_gate("lws", key, sfx, sizeof(sfx)))
		bora_log(lv, 0, "lws", "%.*s%s", (int)n, p, sfx);
}

/* How c is written inside quotes; returns the length put in out. */
static size_t
log_quote_unit(unsigned char c, char out[5])
{
	switch (c) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		snprintf(out, 5, "\\x%02x", c);
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

const char *
bora_log_quote(const char *s, char *buf, size_t n)
{
	const unsigned char *p;
	char unit[5];
	size_t total, pos = 0, ulen, i;
	int quote = 0;
	const char *tail;

	if (n == 0)
		return buf;
	if (s == NULL)
		s = "";
	p = (const unsigned char *)s;
	if (*p == '\0')
		quote = 1;
	for (i = 0; p[i] != '\0'; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '=')
			quote = 1;
	if (!quote) {
		total = i;
		if (total < n) {
			memcpy(buf, s, total + 1);
			return buf;
		}
	} else {
		total = 2;
		for (i = 0; p[i] != '\0'; i++)
			total += log_quote_unit(p[i], unit);
		if (total < n) {
			buf[pos++] = '"';
			for (i = 0; p[i] != '\0'; i++) {
				ulen = log_quote_unit(p[i], unit);
				memcpy(buf + pos, unit, ulen);
				pos += ulen;
			}
			buf[pos++] = '"';
			buf[pos] = '\0';
			return buf;
		}
	}

	/* Too long: as much as fits, then "..." (and the closing quote). */
	tail = quote ? "...\"" : "...";
	if (quote && n > 1)
		buf[pos++] = '"';
	for (i = 0; p[i] != '\0'; i++) {
		ulen = quote ? log_quote_unit(p[i], unit) : 1;
		if (!quote)
			unit[0] = (char)p[i];
		if (pos + ulen + strlen(tail) + 1 > n)
			break;
		memcpy(buf + pos, unit, ulen);
		pos += ulen;
	}
	for (; *tail != '\0' && pos + 1 < n; tail++)
		buf[pos++] = *tail;
	buf[pos] = '\0';
	return buf;
}

int
bora_log_check_settings(const char *prog, const char *level,
    const char *format)
{
	int bad = 0;

	if (bora_log_level_parse(level) < 0) {
		fprintf(stderr, "%s: log.level: expected error, warn, info or "
		    "debug, got '%s'\n", prog, level ? level : "");
		bad++;
	}
	if (bora_log_format_parse(format) < 0) {
		fprintf(stderr, "%s: log.format: expected text or json, got "
		    "'%s'\n", prog, format ? format : "");
		bad++;
	}
	return bad;
}
