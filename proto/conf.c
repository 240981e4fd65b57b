/*
 * conf.c: daemon settings from a YAML file (libyaml events, not its document
 * loader), then from command-line flags (conf.h).
 *
 * The file is read whole (at most CONF_FILE_MAX bytes) and walked event by
 * event: mappings whose dotted name prefixes an item's key are descended,
 * an item's value is converted by conf_assign(), which the flags share.
 * Every error is collected, up to CONF_MAX_ERRORS.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "labels.h"

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_MAX_ERRORS 32
#define CONF_SHOW_MAX 60             /* bytes of a bad value quoted back */

/* Where error lines go: the caller's buffer, truncated at its size. */
struct conf_err {
	char *buf;
	size_t cap, len;
	int count;
	int full;
};

/* One file being walked. */
struct conf_parse {
	const struct bora_conf_item *items;
	size_t n_items;
	void *conf;
	const char *path;
	char *dir;                   /* relative PATH values are taken from here */
	const char *text;            /* the file */
	size_t textlen;
	yaml_parser_t parser;
	struct conf_err *err;
	size_t *set_line;            /* per item: line it was set at, 0 if not */
	int fatal;                   /* no more events: syntax or too many errors */
};

/* Keys seen in one mapping of the file, to refuse duplicates. */
struct conf_keys {
	char **key;
	size_t *line;
	size_t n, cap;
};

static void	conf_err_add(struct conf_err *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conf_error_at(struct conf_parse *, const yaml_mark_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
conf_err_add(struct conf_err *e, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	e->count++;
	if (e->full || e->buf == NULL || e->cap == 0)
		return;
	if (e->len + 2 > e->cap) {
		e->full = 1;
		return;
	}
	room = e->cap - e->len;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		e->buf[e->len] = '\0';
		return;
	}
	if ((size_t)n + 2 <= room) {
		e->len += (size_t)n;
		e->buf[e->len++] = '\n';
		e->buf[e->len] = '\0';
		return;
	}
	/* Cut: keep the line shape. */
	e->len = e->cap - 1;
	e->buf[e->len - 1] = '\n';
	e->buf[e->len] = '\0';
	e->full = 1;
}

/* A value as quoted back in an error: control bytes become '?', and long
 * values end in "...". */
static const char *
conf_show(const char *val, size_t len, char *buf, size_t n)
{
	size_t i, max = len;

	if (max > CONF_SHOW_MAX)
		max = CONF_SHOW_MAX;
	if (max > n - 4)
		max = n - 4;
	for (i = 0; i < max; i++)
		buf[i] = (unsigned char)val[i] < 0x20 || val[i] == 0x7f ?
		    '?' : val[i];
	if (max < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static void *
conf_field(void *conf, const struct bora_conf_item *it)
{
	return (char *)conf + it->offset;
}

static const struct bora_conf_item *
conf_find(const struct bora_conf_item *items, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(items[i].key, key) == 0)
			return &items[i];
	return NULL;
}

/* Is key a proper dotted prefix of some item ("tls" of "tls.cert")? */
static int
conf_is_prefix(const struct bora_conf_item *items, size_t n, const char *key)
{
	size_t i, len = strlen(key);

	for (i = 0; i < n; i++)
		if (strncmp(items[i].key, key, len) == 0 &&
		    items[i].key[len] == '.')
			return 1;
	return 0;
}

/* Does the flag name (len bytes) spell key, dots and underscores as '-'? */
static int
conf_flag_eq(const char *key, const char *name, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = key[i];
		if (c == '\0')
			return 0;
		if (c == '.' || c == '_')
			c = '-';
		if (c != name[i])
			return 0;
	}
	return key[len] == '\0';
}

static const struct bora_conf_item *
conf_find_flag(const struct bora_conf_item *items, size_t n, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (conf_flag_eq(items[i].key, name, len))
			return &items[i];
	return NULL;
}

static int
conf_parse_long(const char *val, size_t len, long *out)
{
	char buf[32];
	char *end;
	long v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
conf_parse_bool(const char *val, size_t len, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strlen(yes[i]) == len && strncasecmp(val, yes[i], len) == 0) {
			*out = 1;
			return 0;
		}
		if (strlen(no[i]) == len && strncasecmp(val, no[i], len) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * Convert val (len bytes) for item and store it in conf. Relative PATH
 * values are joined to dir when dir is not NULL. Returns 0, or -1 with one
 * sentence in why (the caller adds the place).
 */
static int
conf_assign(const struct bora_conf_item *it, void *conf, const char *val,
    size_t len, const char *dir, char *why, size_t whylen)
{
	char show[CONF_SHOW_MAX + 8];
	char **sp;
	char *s;
	json_t *obj, **mp;
	long l;
	int b;

	if (memchr(val, '\0', len) != NULL) {
		snprintf(why, whylen, "the value contains a NUL byte");
		return -1;
	}
	switch (it->type) {
	case BORA_CONF_STRING:
	case BORA_CONF_PATH:
		if (it->type == BORA_CONF_PATH && len == 0) {
			snprintf(why, whylen, "expected a path, got an empty "
			    "value");
			return -1;
		}
		if (it->type == BORA_CONF_PATH && dir != NULL && val[0] != '/') {
			if (asprintf(&s, "%s/%.*s", dir, (int)len, val) < 0)
				s = NULL;
		} else
			s = strndup(val, len);
		if (s == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		sp = conf_field(conf, it);
		free(*sp);
		*sp = s;
		return 0;
	case BORA_CONF_INT:
		if (conf_parse_long(val, len, &l) < 0 || l < it->min ||
		    l > it->max) {
			snprintf(why, whylen, "expected an integer from %ld to "
			    "%ld, got '%s'", it->min, it->max,
			    conf_show(val, len, show, sizeof(show)));
			return -1;
		}
		*(long *)conf_field(conf, it) = l;
		return 0;
	case BORA_CONF_BOOL:
		if (conf_parse_bool(val, len, &b) < 0) {
			snprintf(why, whylen, "expected true or false, got '%s'",
			    conf_show(val, len, show, sizeof(show)));
			return -1;
		}
		*(int *)conf_field(conf, it) = b;
		return 0;
	case BORA_CONF_MAP:
		if ((obj = bora_labels_parse(val, len, why, whylen)) == NULL)
			return -1;
		mp = conf_field(conf, it);
		json_decref(*mp);
		*mp = obj;
		return 0;
	}
	snprintf(why, whylen, "unknown setting type");
	return -1;
}

static const char *
conf_type_want(enum bora_conf_type t)
{
	switch (t) {
	case BORA_CONF_STRING:
		return "a string";
	case BORA_CONF_PATH:
		return "a path";
	case BORA_CONF_INT:
		return "an integer";
	case BORA_CONF_BOOL:
		return "true or false";
	case BORA_CONF_MAP:
		return "a mapping of names to values";
	}
	return "a value";
}

/* ---- The YAML file ---------------------------------------------------- */

static void
conf_error_at(struct conf_parse *p, const yaml_mark_t *m, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;

	if (p->fatal)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_err_add(p->err, "%s:%zu:%zu: %s", p->path, m->line + 1,
	    m->column + 1, msg);
	if (p->err->count >= CONF_MAX_ERRORS) {
		conf_err_add(p->err, "%s: too many errors, stopping",
		    p->path);
		p->fatal = 1;
	}
}

static void
conf_syntax_error(struct conf_parse *p)
{
	const yaml_parser_t *y = &p->parser;
	const char *problem = y->problem ? y->problem : "syntax error";
	yaml_mark_t m = y->problem_mark;
	size_t i;

	if (y->error == YAML_MEMORY_ERROR) {
		conf_err_add(p->err, "%s: out of memory", p->path);
		p->fatal = 1;
		return;
	}
	if (y->error == YAML_READER_ERROR) {
		/* Reader errors only give a byte offset. */
		memset(&m, 0, sizeof(m));
		for (i = 0; i < y->problem_offset && i < p->textlen; i++) {
			if (p->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else
				m.column++;
		}
	}
	if (y->context != NULL)
		conf_error_at(p, &m, "%s (%s at line %zu, column %zu)",
		    problem, y->context, y->context_mark.line + 1,
		    y->context_mark.column + 1);
	else
		conf_error_at(p, &m, "%s", problem);
	p->fatal = 1;
}

/* The next event, or -1 (error reported) when the file cannot be read on. */
static int
conf_next(struct conf_parse *p, yaml_event_t *ev)
{
	if (p->fatal)
		return -1;
	if (!yaml_parser_parse(&p->parser, ev)) {
		conf_syntax_error(p);
		return -1;
	}
	return 0;
}

/* Consume the rest of the node that ev starts, and delete ev. */
static void
conf_skip(struct conf_parse *p, yaml_event_t *ev)
{
	yaml_event_t e;
	int depth;

	if (ev->type != YAML_MAPPING_START_EVENT &&
	    ev->type != YAML_SEQUENCE_START_EVENT) {
		yaml_event_delete(ev);
		return;
	}
	yaml_event_delete(ev);
	for (depth = 1; depth > 0;) {
		if (conf_next(p, &e) < 0)
			return;
		if (e.type == YAML_MAPPING_START_EVENT ||
		    e.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (e.type == YAML_MAPPING_END_EVENT ||
		    e.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&e);
	}
}

/* Fetch and drop one whole node. */
static void
conf_skip_next(struct conf_parse *p)
{
	yaml_event_t ev;

	if (conf_next(p, &ev) == 0)
		conf_skip(p, &ev);
}

/* Refuse aliases and anchors: if ev is one, report, skip it and return 1. */
static int
conf_refused(struct conf_parse *p, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL;

	if (ev->type == YAML_ALIAS_EVENT) {
		conf_error_at(p, &ev->start_mark,
		    "aliases are not allowed in configuration");
		yaml_event_delete(ev);
		return 1;
	}
	if (ev->type == YAML_SCALAR_EVENT)
		anchor = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		anchor = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		anchor = ev->data.sequence_start.anchor;
	if (anchor == NULL)
		return 0;
	conf_error_at(p, &ev->start_mark,
	    "anchors and aliases are not allowed in configuration");
	conf_skip(p, ev);
	return 1;
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static int
conf_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *
conf_node_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	default:
		return "a scalar";
	}
}

/* Remember key in a mapping; 0 when new, else the line it was first at. */
static size_t
conf_keys_add(struct conf_keys *k, const char *key, size_t line)
{
	size_t i, ncap;
	char **nk;
	size_t *nl;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->key[i], key) == 0)
			return k->line[i];
	if (k->n == k->cap) {
		ncap = k->cap ? k->cap * 2 : 8;
		if ((nk = realloc(k->key, ncap * sizeof(*nk))) == NULL)
			return 0;
		k->key = nk;
		if ((nl = realloc(k->line, ncap * sizeof(*nl))) == NULL)
			return 0;
		k->line = nl;
		k->cap = ncap;
	}
	if ((k->key[k->n] = strdup(key)) == NULL)
		return 0;
	k->line[k->n++] = line;
	return 0;
}

static void
conf_keys_free(struct conf_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->key[i]);
	free(k->key);
	free(k->line);
}

/* The value of a MAP item: a mapping of scalars to scalars. The mapping's
 * start event is consumed already. */
static void
conf_parse_map(struct conf_parse *p, const struct bora_conf_item *it)
{
	char why[256];
	yaml_event_t kev, vev;
	json_t *obj, **mp;
	const char *key;
	size_t klen;

	if ((obj = json_object()) == NULL) {
		conf_err_add(p->err, "%s: out of memory", p->path);
		p->fatal = 1;
		return;
	}
	for (;;) {
		if (conf_next(p, &kev) < 0)
			goto out;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (conf_refused(p, &kev)) {
			conf_skip_next(p);
			continue;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			conf_error_at(p, &kev.start_mark, "%s: names must be "
			    "scalars, got %s", it->key, conf_node_kind(&kev));
			conf_skip(p, &kev);
			conf_skip_next(p);
			continue;
		}
		key = (const char *)kev.data.scalar.value;
		klen = kev.data.scalar.length;
		if (klen == 0 || memchr(key, '\0', klen) != NULL) {
			conf_error_at(p, &kev.start_mark, "%s: names must be "
			    "non-empty text", it->key);
			yaml_event_delete(&kev);
			conf_skip_next(p);
			continue;
		}
		if (json_object_getn(obj, key, klen) != NULL) {
			conf_error_at(p, &kev.start_mark, "duplicate key "
			    "'%s.%s'", it->key, key);
			yaml_event_delete(&kev);
			conf_skip_next(p);
			continue;
		}
		if (conf_next(p, &vev) < 0) {
			yaml_event_delete(&kev);
			goto out;
		}
		if (conf_refused(p, &vev)) {
			yaml_event_delete(&kev);
			continue;
		}
		if (vev.type != YAML_SCALAR_EVENT) {
			conf_error_at(p, &vev.start_mark, "%s.%s: expected a "
			    "string, got %s", it->key, key,
			    conf_node_kind(&vev));
			conf_skip(p, &vev);
		} else if (memchr(vev.data.scalar.value, '\0',
		    vev.data.scalar.length) != NULL) {
			conf_error_at(p, &vev.start_mark, "%s.%s: the value "
			    "contains a NUL byte", it->key, key);
			yaml_event_delete(&vev);
		} else {
			if (bora_labels_add(obj, key, klen,
			    (const char *)vev.data.scalar.value,
			    vev.data.scalar.length, why, sizeof(why)) != 0)
				conf_error_at(p, &kev.start_mark, "%s: %s",
				    it->key, why);
			yaml_event_delete(&vev);
		}
		yaml_event_delete(&kev);
	}
	mp = conf_field(p->conf, it);
	json_decref(*mp);
	*mp = obj;
	return;
out:
	json_decref(obj);
}

/* The value of item it, whose key is at km; takes vev. */
static void
conf_parse_item(struct conf_parse *p, const struct bora_conf_item *it,
    const yaml_mark_t *km, yaml_event_t *vev)
{
	char why[256];
	json_t **mp;
	size_t idx = (size_t)(it - p->items);

	if (p->set_line[idx] != 0) {
		conf_error_at(p, km, "duplicate key '%s' (first set at line "
		    "%zu)", it->key, p->set_line[idx]);
		conf_skip(p, vev);
		return;
	}
	p->set_line[idx] = km->line + 1;

	if (it->type == BORA_CONF_MAP) {
		if (vev->type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(vev);
			conf_parse_map(p, it);
		} else if (conf_is_null(vev)) {
			mp = conf_field(p->conf, it);
			json_decref(*mp);
			*mp = json_object();
			yaml_event_delete(vev);
		} else {
			conf_error_at(p, &vev->start_mark, "%s: expected %s, "
			    "got %s", it->key, conf_type_want(it->type),
			    conf_node_kind(vev));
			conf_skip(p, vev);
		}
		return;
	}
	if (vev->type != YAML_SCALAR_EVENT) {
		conf_error_at(p, &vev->start_mark, "%s: expected %s, got %s",
		    it->key, conf_type_want(it->type), conf_node_kind(vev));
		conf_skip(p, vev);
		return;
	}
	if (conf_is_null(vev))
		conf_error_at(p, &vev->start_mark, "%s: missing value "
		    "(expected %s)", it->key, conf_type_want(it->type));
	else if (conf_assign(it, p->conf, (const char *)vev->data.scalar.value,
	    vev->data.scalar.length, p->dir, why, sizeof(why)) < 0)
		conf_error_at(p, &vev->start_mark, "%s: %s", it->key, why);
	yaml_event_delete(vev);
}

/* A mapping whose start event is consumed; its keys get prefix. */
static void
conf_parse_mapping(struct conf_parse *p, const char *prefix)
{
	struct conf_keys seen = { 0 };
	const struct bora_conf_item *it;
	yaml_event_t kev, vev;
	yaml_mark_t km;
	char *full = NULL;
	size_t first;

	for (;;) {
		free(full);
		full = NULL;
		if (conf_next(p, &kev) < 0)
			break;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (conf_refused(p, &kev)) {
			conf_skip_next(p);
			continue;
		}
		if (kev.type != YAML_SCALAR_EVENT ||
		    kev.data.scalar.length == 0 ||
		    memchr(kev.data.scalar.value, '\0',
		    kev.data.scalar.length) != NULL) {
			conf_error_at(p, &kev.start_mark, "keys must be "
			    "names, got %s", conf_node_kind(&kev));
			conf_skip(p, &kev);
			conf_skip_next(p);
			continue;
		}
		km = kev.start_mark;
		if (asprintf(&full, "%s%s%s", prefix, prefix[0] ? "." : "",
		    (const char *)kev.data.scalar.value) < 0) {
			full = NULL;
			yaml_event_delete(&kev);
			conf_err_add(p->err, "%s: out of memory", p->path);
			p->fatal = 1;
			break;
		}
		yaml_event_delete(&kev);
		if ((first = conf_keys_add(&seen, full, km.line + 1)) != 0) {
			conf_error_at(p, &km, "duplicate key '%s' (first at "
			    "line %zu)", full, first);
			conf_skip_next(p);
			continue;
		}
		if (conf_next(p, &vev) < 0)
			break;
		if (conf_refused(p, &vev))
			continue;
		if ((it = conf_find(p->items, p->n_items, full)) != NULL)
			conf_parse_item(p, it, &km, &vev);
		else if (conf_is_prefix(p->items, p->n_items, full)) {
			if (vev.type == YAML_MAPPING_START_EVENT) {
				yaml_event_delete(&vev);
				conf_parse_mapping(p, full);
			} else if (conf_is_null(&vev))
				yaml_event_delete(&vev);
			else {
				conf_error_at(p, &vev.start_mark, "%s: expected "
				    "a mapping, got %s", full,
				    conf_node_kind(&vev));
				conf_skip(p, &vev);
			}
		} else {
			conf_error_at(p, &km, "unknown key '%s'", full);
			conf_skip(p, &vev);
		}
	}
	free(full);
	conf_keys_free(&seen);
}

static void
conf_parse_stream(struct conf_parse *p)
{
	yaml_event_t ev;
	int docs = 0;

	if (conf_next(p, &ev) < 0)              /* stream start */
		return;
	yaml_event_delete(&ev);
	for (;;) {
		if (conf_next(p, &ev) < 0)
			return;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		if (docs++ > 0) {
			conf_error_at(p, &ev.start_mark, "only one YAML "
			    "document is allowed");
			yaml_event_delete(&ev);
			return;
		}
		yaml_event_delete(&ev);         /* document start */
		if (conf_next(p, &ev) < 0)
			return;
		if (conf_refused(p, &ev))
			;
		else if (ev.type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(&ev);
			conf_parse_mapping(p, "");
		} else if (conf_is_null(&ev))
			yaml_event_delete(&ev);
		else {
			conf_error_at(p, &ev.start_mark, "the top level must "
			    "be a mapping of settings, got %s",
			    conf_node_kind(&ev));
			conf_skip(p, &ev);
		}
		if (conf_next(p, &ev) < 0)      /* document end */
			return;
		yaml_event_delete(&ev);
	}
}

/* Read path whole into *out (malloc'ed). -1 after reporting. */
static int
conf_read(const char *path, char **out, size_t *outlen, struct conf_err *e)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		conf_err_add(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		conf_err_add(e, "%s: out of memory", path);
		goto out;
	}
	while (len < CONF_FILE_MAX + 1) {
		n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_err_add(e, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		conf_err_add(e, "%s: the file is larger than 1 MiB", path);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* The absolute directory of path (malloc'ed), or NULL. */
static char *
conf_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd, *dir = NULL;

	if (slash == path)
		return strdup("/");
	if (slash != NULL && path[0] == '/')
		return strndup(path, (size_t)(slash - path));
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return slash ? strndup(path, (size_t)(slash - path)) : NULL;
	if (slash == NULL)
		return cwd;
	if (asprintf(&dir, "%s/%.*s", cwd, (int)(slash - path), path) < 0)
		dir = NULL;
	free(cwd);
	return dir;
}

/* Walk text (textlen bytes, the file named path) into conf; errors to err. */
static void
conf_load_text(const struct bora_conf_item *items, size_t n_items, void *conf,
    const char *path, const char *text, size_t textlen, struct conf_err *err)
{
	struct conf_parse p;

	memset(&p, 0, sizeof(p));
	p.items = items;
	p.n_items = n_items;
	p.conf = conf;
	p.path = path;
	p.text = text;
	p.textlen = textlen;
	p.err = err;
	p.dir = conf_dir_of(path);
	p.set_line = calloc(n_items ? n_items : 1, sizeof(*p.set_line));
	if (p.set_line == NULL || !yaml_parser_initialize(&p.parser)) {
		conf_err_add(err, "%s: out of memory", path);
		free(p.set_line);
		free(p.dir);
		return;
	}
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text,
	    textlen);
	conf_parse_stream(&p);

	yaml_parser_delete(&p.parser);
	free(p.set_line);
	free(p.dir);
}

int
bora_conf_load_file(const struct bora_conf_item *items, size_t n_items,
    void *conf, const char *path, char *errbuf, size_t errlen)
{
	struct conf_err err = { errbuf, errlen, 0, 0, 0 };
	char *text = NULL;
	size_t textlen = 0;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (conf_read(path, &text, &textlen, &err) < 0)
		return -1;
	conf_load_text(items, n_items, conf, path, text, textlen, &err);
	free(text);
	return err.count > 0 ? -1 : 0;
}

int
bora_conf_load_text(const struct bora_conf_item *items, size_t n_items,
    void *conf, const char *name, const char *text, size_t len,
    char *errbuf, size_t errlen)
{
	struct conf_err err = { errbuf, errlen, 0, 0, 0 };

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (len > CONF_FILE_MAX)
		conf_err_add(&err, "%s: the file is larger than 1 MiB", name);
	else
		conf_load_text(items, n_items, conf, name, text, len, &err);
	return err.count > 0 ? -1 : 0;
}

/* ---- Flags ------------------------------------------------------------ */

int
bora_conf_apply_flags(const struct bora_conf_item *items, size_t n_items,
    void *conf, int argc, char **argv, int first, int *next,
    char *errbuf, size_t errlen)
{
	struct conf_err err = { errbuf, errlen, 0, 0, 0 };
	const struct bora_conf_item *it, *neg;
	const char *a, *name, *eq, *val;
	char why[256];
	size_t nlen;
	int i;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	for (i = first; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (a[1] != '-') {
			conf_err_add(&err, "%s: unknown flag", a);
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		val = eq ? eq + 1 : NULL;

		/* --config FILE is the daemon's: read before the flags. */
		if (nlen == 6 && memcmp(name, "config", 6) == 0 &&
		    conf_find_flag(items, n_items, name, nlen) == NULL) {
			if (val == NULL && i + 1 < argc)
				i++;
			else if (val == NULL)
				conf_err_add(&err, "--config: needs a value");
			continue;
		}
		it = conf_find_flag(items, n_items, name, nlen);
		if (it == NULL && nlen > 3 && memcmp(name, "no-", 3) == 0 &&
		    (neg = conf_find_flag(items, n_items, name + 3,
		    nlen - 3)) != NULL && neg->type == BORA_CONF_BOOL) {
			if (val != NULL)
				conf_err_add(&err, "--%.*s: takes no value",
				    (int)nlen, name);
			else
				*(int *)conf_field(conf, neg) = 0;
			continue;
		}
		if (it == NULL) {
			conf_err_add(&err, "--%.*s: unknown flag", (int)nlen,
			    name);
			continue;
		}
		if (val == NULL) {
			if (it->type == BORA_CONF_BOOL)
				val = "true";
			else if (i + 1 >= argc || (argv[i + 1][0] == '-' &&
			    argv[i + 1][1] == '-' && argv[i + 1][2] != '\0')) {
				conf_err_add(&err, "--%.*s: needs a value",
				    (int)nlen, name);
				continue;
			} else
				val = argv[++i];
		}
		if (conf_assign(it, conf, val, strlen(val), NULL, why,
		    sizeof(why)) < 0)
			conf_err_add(&err, "--%.*s: %s", (int)nlen, name, why);
	}
	if (next != NULL)
		*next = i;
	return err.count > 0 ? -1 : 0;
}

int
bora_conf_find_config(int argc, char **argv, int first, const char **path,
    int *help, char *errbuf, size_t errlen)
{
	struct conf_err err = { errbuf, errlen, 0, 0, 0 };
	int i;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	*path = NULL;
	*help = 0;
	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			*help = 1;
		else if (strncmp(argv[i], "--config=", 9) == 0)
			*path = argv[i] + 9;
		else if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 < argc)
				*path = argv[++i];
			else
				conf_err_add(&err, "--config: needs a value");
		}
	}
	if (*path != NULL && (*path)[0] == '\0')
		conf_err_add(&err, "--config: needs a value");
	return err.count > 0 ? -1 : 0;
}

void
bora_conf_print_errors(FILE *out, const char *prog, const char *errbuf)
{
	const char *p = errbuf, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		fprintf(out, "%s: %.*s\n", prog,
		    (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
		p = nl ? nl + 1 : NULL;
	}
}

void
bora_conf_free(const struct bora_conf_item *items, size_t n_items,
    void *conf)
{
	size_t i;
	char **sp;
	json_t **mp;

	for (i = 0; i < n_items; i++) {
		switch (items[i].type) {
		case BORA_CONF_STRING:
		case BORA_CONF_PATH:
			sp = conf_field(conf, &items[i]);
			free(*sp);
			*sp = NULL;
			break;
		case BORA_CONF_MAP:
			mp = conf_field(conf, &items[i]);
			json_decref(*mp);
			*mp = NULL;
			break;
		case BORA_CONF_INT:
		case BORA_CONF_BOOL:
			break;
		}
	}
}

void
bora_conf_usage(const struct bora_conf_item *items, size_t n_items,
    FILE *out)
{
	char name[128], left[300], range[64];
	const char *arg;
	size_t i, j;

	for (i = 0; i < n_items; i++) {
		for (j = 0; items[i].key[j] != '\0' && j + 1 < sizeof(name);
		    j++)
			name[j] = items[i].key[j] == '.' ||
			    items[i].key[j] == '_' ? '-' : items[i].key[j];
		name[j] = '\0';
		switch (items[i].type) {
		case BORA_CONF_PATH:
			arg = " PATH";
			break;
		case BORA_CONF_INT:
			arg = " N";
			break;
		case BORA_CONF_MAP:
			arg = " K=V,...";
			break;
		case BORA_CONF_BOOL:
			arg = "";
			break;
		default:
			arg = " VALUE";
			break;
		}
		if (items[i].type == BORA_CONF_BOOL)
			snprintf(left, sizeof(left), "  --%s, --no-%s", name,
			    name);
		else
			snprintf(left, sizeof(left), "  --%s%s", name, arg);
		range[0] = '\0';
		if (items[i].type == BORA_CONF_INT)
			snprintf(range, sizeof(range), " (%ld..%ld)",
			    items[i].min, items[i].max);
		fprintf(out, "%-32s %s%s\n", left,
		    items[i].help ? items[i].help : "", range);
	}
}

/* "tls.cert" -> "--tls-cert" and "tls: cert:", for the missing-setting
 * message. */
static void
conf_key_forms(const char *key, char *flag, size_t flaglen, char *yaml,
    size_t yamllen)
{
	size_t i, f = 0, y = 0;

	f += (size_t)snprintf(flag, flaglen, "--");
	for (i = 0; key[i] != '\0' && f + 1 < flaglen; i++)
		flag[f++] = key[i] == '.' || key[i] == '_' ? '-' : key[i];
	flag[f] = '\0';
	for (i = 0; key[i] != '\0' && y + 3 < yamllen; i++) {
		if (key[i] == '.') {
			yaml[y++] = ':';
			yaml[y++] = ' ';
		} else
			yaml[y++] = key[i];
	}
	yaml[y++] = ':';
	yaml[y] = '\0';
}

static int
conf_daemon_required(const struct bora_conf_daemon *d, const void *conf)
{
	char flag[160], yaml[160];
	size_t i;
	int bad = 0;

	for (i = 0; i < d->n_items; i++) {
		if (!d->items[i].required || *(char *const *)(const void *)
		    ((const char *)conf + d->items[i].offset) != NULL)
			continue;
		conf_key_forms(d->items[i].key, flag, sizeof(flag), yaml,
		    sizeof(yaml));
		fprintf(stderr, "%s: missing setting %s (%s or %s in the config "
		    "file)\n", d->prog, d->items[i].key, flag, yaml);
		bad++;
	}
	return bad;
}

int
bora_conf_daemon_load(const struct bora_conf_daemon *d, void *conf,
    size_t conf_size, int argc, char **argv)
{
	char err[8192];
	const char *path;
	int help, next, bad = 0;

	memset(conf, 0, conf_size);
	if (bora_conf_find_config(argc, argv, 1, &path, &help, err,
	    sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, d->prog, err);
		return -1;
	}
	if (help) {
		bora_conf_daemon_usage(d, stdout);
		exit(0);
	}
	if (d->defaults(conf) < 0) {
		fprintf(stderr, "%s: out of memory\n", d->prog);
		goto fail;
	}
	if (path != NULL && bora_conf_load_file(d->items, d->n_items, conf,
	    path, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, d->prog, err);
		bad++;
	}
	if (bora_conf_apply_flags(d->items, d->n_items, conf, argc, argv, 1,
	    &next, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, d->prog, err);
		bad++;
	}
	if (next < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", d->prog,
		    argv[next]);
		bad++;
	}
	bad += conf_daemon_required(d, conf);
	bad += d->check(conf);
	if (bad == 0)
		return 0;
fail:
	bora_conf_free(d->items, d->n_items, conf);
	return -1;
}

void
bora_conf_daemon_usage(const struct bora_conf_daemon *d, FILE *out)
{
	fprintf(out, "usage: %s [--config FILE] [flags]\n"
	    "Settings come from the YAML file, then from flags, which win.\n"
	    "\n", d->prog);
	fprintf(out, "%-32s %s\n", "  --config FILE",
	    "read settings from this YAML file");
	fprintf(out, "%-32s %s\n", "  --help", "print this help and exit");
	bora_conf_usage(d->items, d->n_items, out);
}
