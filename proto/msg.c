/*
 * msg.c: the wire protocol v1 codec (see msg.h and docs/protocol.md).
 *
 * Decoding checks the raw bytes first (size, UTF-8, nesting depth), then
 * lets jansson parse, then walks one const field table per message type:
 * each entry names a JSON field, its kind (which says both how to check the
 * value and what C type it lands in), whether it is required, its limits and
 * where it goes in the type's struct. Encoding walks the same table the
 * other way, then runs the decoder's checks over what it built, so whatever
 * bora_msg_encode() returns, bora_msg_decode() accepts (within the default
 * limits; the size is the sender's business, see bora_msg_encode()).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_guard.h"
#include "msg.h"
#include "utf8.h"

/* Limits of single fields (docs/protocol.md lists them all). */
#define MSG_MAX_VERSION      63        /* hello.version, welcome.version */
#define MSG_MAX_LABELS       64        /* entries in hello.labels */
#define MSG_MAX_LABEL_VALUE  256       /* bytes of one label value */
#define MSG_MAX_TEXT         1024      /* cancel.reason, error.detail, result.error */
#define MSG_MAX_ERROR_CODE   64        /* error.code */
#define MSG_MAX_HEARTBEAT_S  3600
#define MSG_MIN_MAX_MESSAGE  1024
#define MSG_MAX_MAX_MESSAGE  (64 * 1024 * 1024)
#define MSG_MAX_SEQ          (INT64_C(1) << 53)  /* exact in a double */

/* What a field holds, on the wire and in its struct. */
enum field_kind {
	FK_STEP_ID,   /* const char *: a step id (bora_step_id_valid) */
	FK_NAME,      /* const char *: an agent name (bora_name_valid) */
	FK_KIND,      /* const char *: a step kind, [a-z0-9_.] */
	FK_STRING,    /* const char *: min..max bytes; aux: size_t length */
	FK_STATUS,    /* enum bora_status, by name */
	FK_STREAM,    /* enum bora_stream, by name */
	FK_INT,       /* int, min..max; aux: int "present" flag */
	FK_U32,       /* uint32_t, min..max */
	FK_U64,       /* uint64_t, min..max */
	FK_I64,       /* int64_t, min..max */
	FK_OBJECT,    /* json_t *: any object */
	FK_LABELS,    /* json_t *: object of label name -> short string */
	FK_STEP_IDS,  /* json_t *: array of step ids */
	FK_RESULTS,   /* json_t *: array of result objects */
};

#define F_REQUIRED  0x1u  /* absent is an error */
#define F_NULLABLE  0x2u  /* null is accepted and means absent */
#define F_AUX       0x4u  /* aux_off names a companion member */

struct msg_field {
	const char *name;        /* JSON field name */
	enum field_kind kind;
	unsigned flags;
	int64_t min, max;        /* integers: range; FK_STRING: bytes */
	size_t off;              /* offsetof the member in the type's struct */
	size_t aux_off;          /* with F_AUX: offsetof the companion */
};

#define FIELD(st, json, member, kind, flags, lo, hi) \
	{ json, kind, flags, lo, hi, offsetof(st, member), 0 }
#define FIELD_AUX(st, json, member, kind, flags, lo, hi, aux) \
	{ json, kind, (flags) | F_AUX, lo, hi, offsetof(st, member), \
	  offsetof(st, aux) }

static const struct msg_field hello_fields[] = {
	FIELD(struct bora_hello, "name", name, FK_NAME, F_REQUIRED, 0, 0),
	FIELD(struct bora_hello, "version", version, FK_STRING, F_REQUIRED,
	    1, MSG_MAX_VERSION),
	FIELD(struct bora_hello, "labels", labels, FK_LABELS, 0, 0, 0),
	FIELD(struct bora_hello, "facts", facts, FK_OBJECT, 0, 0, 0),
	FIELD(struct bora_hello, "running", running, FK_STEP_IDS, 0, 0, 0),
	FIELD(struct bora_hello, "results", results, FK_RESULTS, 0, 0, 0),
};

static const struct msg_field welcome_fields[] = {
	FIELD(struct bora_welcome, "name", name, FK_NAME, F_REQUIRED, 0, 0),
	FIELD(struct bora_welcome, "version", version, FK_STRING, F_REQUIRED,
	    1, MSG_MAX_VERSION),
	FIELD(struct bora_welcome, "heartbeat", heartbeat_s, FK_U32, F_REQUIRED,
	    1, MSG_MAX_HEARTBEAT_S),
	FIELD(struct bora_welcome, "max_message", max_message, FK_U32,
	    F_REQUIRED, MSG_MIN_MAX_MESSAGE, MSG_MAX_MAX_MESSAGE),
};

static const struct msg_field run_fields[] = {
	FIELD(struct bora_run, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
	FIELD(struct bora_run, "kind", kind, FK_KIND, F_REQUIRED, 0, 0),
	FIELD(struct bora_run, "spec", spec, FK_OBJECT, F_REQUIRED, 0, 0),
	FIELD(struct bora_run, "inputs", inputs, FK_OBJECT, 0, 0, 0),
	FIELD(struct bora_run, "timeout", timeout_s, FK_U32, F_REQUIRED,
	    1, BORA_MAX_TIMEOUT_S),
};

static const struct msg_field accept_fields[] = {
	FIELD(struct bora_accept, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
	FIELD(struct bora_accept, "pid", pid, FK_I64, 0, 0, INT64_MAX),
};

static const struct msg_field output_fields[] = {
	FIELD(struct bora_output, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
	FIELD(struct bora_output, "stream", stream, FK_STREAM, F_REQUIRED, 0, 0),
	FIELD(struct bora_output, "seq", seq, FK_U64, F_REQUIRED,
	    0, MSG_MAX_SEQ),
	FIELD_AUX(struct bora_output, "data", data, FK_STRING, F_REQUIRED,
	    0, BORA_MAX_OUTPUT_CHUNK, data_len),
};

/* Shared by the result message and each entry of hello.results. */
static const struct msg_field result_fields[] = {
	FIELD(struct bora_result, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
	FIELD(struct bora_result, "status", status, FK_STATUS, F_REQUIRED, 0, 0),
	FIELD_AUX(struct bora_result, "exit_code", exit_code, FK_INT,
	    F_NULLABLE, 0, 255, has_exit_code),
	FIELD(struct bora_result, "signal", signal, FK_INT, 0, 0, 64),
	FIELD(struct bora_result, "outputs", outputs, FK_OBJECT, 0, 0, 0),
	FIELD(struct bora_result, "started_ms", started_ms, FK_I64, 0,
	    0, INT64_MAX),
	FIELD(struct bora_result, "finished_ms", finished_ms, FK_I64, 0,
	    0, INT64_MAX),
	FIELD(struct bora_result, "stdout_bytes", stdout_bytes, FK_U64, 0,
	    0, INT64_MAX),
	FIELD(struct bora_result, "stderr_bytes", stderr_bytes, FK_U64, 0,
	    0, INT64_MAX),
	FIELD(struct bora_result, "error", error, FK_STRING, 0,
	    0, MSG_MAX_TEXT),
};

static const struct msg_field ack_fields[] = {
	FIELD(struct bora_ack, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
};

static const struct msg_field cancel_fields[] = {
	FIELD(struct bora_cancel, "step", step, FK_STEP_ID, F_REQUIRED, 0, 0),
	FIELD(struct bora_cancel, "reason", reason, FK_STRING, 0,
	    0, MSG_MAX_TEXT),
};

static const struct msg_field error_fields[] = {
	FIELD(struct bora_error_msg, "code", code, FK_STRING, F_REQUIRED,
	    1, MSG_MAX_ERROR_CODE),
	FIELD(struct bora_error_msg, "detail", detail, FK_STRING, F_REQUIRED,
	    0, MSG_MAX_TEXT),
};

static const struct msg_field enroll_fields[] = {
	FIELD(struct bora_enroll, "token", token, FK_STRING, F_REQUIRED,
	    1, BORA_MAX_TOKEN),
	FIELD(struct bora_enroll, "csr", csr, FK_STRING, F_REQUIRED,
	    1, BORA_MAX_CSR),
	FIELD(struct bora_enroll, "name", name, FK_NAME, 0, 0, 0),
	FIELD(struct bora_enroll, "labels", labels, FK_LABELS, 0, 0, 0),
};

static const struct msg_field enrolled_fields[] = {
	FIELD(struct bora_enrolled, "certificate", certificate, FK_STRING,
	    F_REQUIRED, 1, BORA_MAX_CERT_PEM),
	FIELD(struct bora_enrolled, "ca", ca, FK_STRING, F_REQUIRED,
	    1, BORA_MAX_CERT_PEM),
	FIELD(struct bora_enrolled, "name", name, FK_NAME, F_REQUIRED, 0, 0),
	FIELD(struct bora_enrolled, "labels", labels, FK_LABELS, 0, 0, 0),
};

struct msg_type {
	const char *name;
	const struct msg_field *fields;
	size_t nfields;
};

#define TYPE(name, f) { name, f, sizeof(f) / sizeof((f)[0]) }

static const struct msg_type msg_types[BORA_MSG_TYPE_COUNT] = {
	[BORA_MSG_HELLO]   = TYPE("hello", hello_fields),
	[BORA_MSG_WELCOME] = TYPE("welcome", welcome_fields),
	[BORA_MSG_RUN]     = TYPE("run", run_fields),
	[BORA_MSG_ACCEPT]  = TYPE("accept", accept_fields),
	[BORA_MSG_OUTPUT]  = TYPE("output", output_fields),
	[BORA_MSG_RESULT]  = TYPE("result", result_fields),
	[BORA_MSG_ACK]     = TYPE("ack", ack_fields),
	[BORA_MSG_CANCEL]  = TYPE("cancel", cancel_fields),
	[BORA_MSG_ERROR]   = TYPE("error", error_fields),
	[BORA_MSG_ENROLL]  = TYPE("enroll", enroll_fields),
	[BORA_MSG_ENROLLED] = TYPE("enrolled", enrolled_fields),
};

static const char *const status_names[BORA_STATUS_COUNT] = {
	[BORA_STATUS_SUCCESS]   = "success",
	[BORA_STATUS_FAILED]    = "failed",
	[BORA_STATUS_TIMEOUT]   = "timeout",
	[BORA_STATUS_CANCELLED] = "cancelled",
	[BORA_STATUS_LOST]      = "lost",
	[BORA_STATUS_ERROR]     = "error",
};

static const char *const stream_names[] = {
	[BORA_STREAM_STDOUT] = "stdout",
	[BORA_STREAM_STDERR] = "stderr",
};

#define NSTREAMS (sizeof(stream_names) / sizeof(stream_names[0]))

/* Member access by table offset. */
#define MEMBER(base, off, type) \
	((type *)(void *)((char *)(base) + (off)))
#define CMEMBER(base, off, type) \
	((type const *)(const void *)((const char *)(base) + (off)))

/* ---- names and shapes of strings ---- */

const char *
bora_msg_type_name(enum bora_msg_type t)
{
	return (unsigned)t < BORA_MSG_TYPE_COUNT ? msg_types[t].name : NULL;
}

const char *
bora_status_name(enum bora_status s)
{
	return (unsigned)s < BORA_STATUS_COUNT ? status_names[s] : NULL;
}

const char *
bora_stream_name(enum bora_stream s)
{
	return (unsigned)s < NSTREAMS ? stream_names[s] : NULL;
}

static int
msg_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
msg_is_step_char(unsigned char c)
{
	return msg_is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
}

static int
msg_is_name_char(unsigned char c)
{
	return msg_is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static int
msg_is_kind_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.';
}

/* What is wrong with a string, if anything. */
enum shape {
	SHAPE_OK,
	SHAPE_EMPTY,   /* shorter than its minimum of 1 */
	SHAPE_LONG,    /* longer than its maximum */
	SHAPE_NUL,     /* holds a NUL byte */
	SHAPE_CHAR,    /* a byte outside the charset (at *at) */
	SHAPE_FIRST,   /* does not start with a letter or digit */
};

/* Check n bytes of s: min..max bytes, each allowed by ok (NULL: any but
 * NUL), the first alphanumeric when first_alnum. */
static enum shape
msg_shape(const char *s, size_t n, size_t min, size_t max,
    int (*ok)(unsigned char), int first_alnum, size_t *at)
{
	size_t i;

	*at = 0;
	if (n < min)
		return SHAPE_EMPTY;
	if (n > max)
		return SHAPE_LONG;
	if (memchr(s, '\0', n) != NULL)
		return SHAPE_NUL;
	if (ok != NULL) {
		for (i = 0; i < n; i++) {
			if (!ok((unsigned char)s[i])) {
				*at = i;
				return SHAPE_CHAR;
			}
		}
	}
	if (first_alnum && n > 0 && !msg_is_alnum((unsigned char)s[0]))
		return SHAPE_FIRST;
	return SHAPE_OK;
}

int
bora_step_id_valid(const char *s)
{
	size_t at;

	return s != NULL && msg_shape(s, strlen(s), 1, BORA_MAX_STEP_ID,
	    msg_is_step_char, 0, &at) == SHAPE_OK;
}

int
bora_name_valid(const char *s)
{
	size_t at;

	return s != NULL && msg_shape(s, strlen(s), 1, BORA_MAX_NAME,
	    msg_is_name_char, 1, &at) == SHAPE_OK;
}

/* ---- errors ---- */

/* Cut a NUL-terminated buffer back to whole UTF-8 characters (snprintf may
 * have cut one in two; errors travel in error messages, which are JSON). */
static void
msg_trim_utf8(char *s)
{
	size_t n = strlen(s);

	n -= bora_utf8_incomplete_tail(s, n);
	s[n] = '\0';
}

static int msg_fail(struct bora_msg_err *err, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fill *err; always returns -1. */
static int
msg_fail(struct bora_msg_err *err, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->path, sizeof(err->path), "%s", path);
	msg_trim_utf8(err->path);
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	msg_trim_utf8(err->text);
	return -1;
}

/* "prefix.name", or "name" at the top. */
static void
msg_path_field(char *out, size_t size, const char *prefix, const char *name)
{
	snprintf(out, size, "%s%s%s", prefix, *prefix ? "." : "", name);
	msg_trim_utf8(out);
}

/* "prefix[i]". */
static void
msg_path_index(char *out, size_t size, const char *prefix, size_t i)
{
	snprintf(out, size, "%s[%zu]", prefix, i);
	msg_trim_utf8(out);
}

/* "a string", "an integer", ...: what a value is, for "got ...". */
static const char *
msg_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a real number";
	case JSON_TRUE:    return "true";
	case JSON_FALSE:   return "false";
	case JSON_NULL:    return "null";
	}
	return "an unknown value";
}

/* "one of a, b, c" from a table of names. */
static void
msg_names_list(char *out, size_t size, const char *const *names, size_t n)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i ? ", " : "one of ", names[i]);
}

/* What a field must be, as "expected ...". */
static void
msg_expect(const struct msg_field *f, char *out, size_t size)
{
	const char *orn = (f->flags & F_NULLABLE) ? "null or " : "";
	char list[128];

	switch (f->kind) {
	case FK_STEP_ID:
		snprintf(out, size, "expected a step id (1 to %d bytes of "
		    "A-Z a-z 0-9 . _ : -)", BORA_MAX_STEP_ID);
		break;
	case FK_NAME:
		snprintf(out, size, "expected a name (1 to %d bytes of "
		    "A-Z a-z 0-9 . _ -, first a letter or digit)", BORA_MAX_NAME);
		break;
	case FK_KIND:
		snprintf(out, size, "expected a step kind (1 to %d bytes of "
		    "a-z 0-9 _ .)", BORA_MAX_KIND);
		break;
	case FK_STRING:
		if (f->min > 0)
			snprintf(out, size, "expected a string of %lld to %lld "
			    "bytes", (long long)f->min, (long long)f->max);
		else
			snprintf(out, size, "expected a string of at most %lld "
			    "bytes", (long long)f->max);
		break;
	case FK_STATUS:
		msg_names_list(list, sizeof(list), status_names,
		    BORA_STATUS_COUNT);
		snprintf(out, size, "expected %s", list);
		break;
	case FK_STREAM:
		msg_names_list(list, sizeof(list), stream_names, NSTREAMS);
		snprintf(out, size, "expected %s", list);
		break;
	case FK_INT:
	case FK_U32:
	case FK_U64:
	case FK_I64:
		snprintf(out, size, "expected %san integer from %lld to %lld",
		    orn, (long long)f->min, (long long)f->max);
		break;
	case FK_OBJECT:
		snprintf(out, size, "expected an object");
		break;
	case FK_LABELS:
		snprintf(out, size, "expected an object of labels "
		    "(name: string)");
		break;
	case FK_STEP_IDS:
		snprintf(out, size, "expected an array of step ids");
		break;
	case FK_RESULTS:
		snprintf(out, size, "expected an array of result objects");
		break;
	}
}

/* Describe a string value for "got ...": quoted when short and plain. */
static void
msg_got_string(char *out, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n > 32)
		goto plain;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			goto plain;
	snprintf(out, size, "\"%.*s\"", (int)n, s);
	return;
plain:
	snprintf(out, size, "a string of %zu bytes", n);
}

/* Describe what is wrong with a string's shape for "got ...". */
static void
msg_got_shape(char *out, size_t size, enum shape sh, const char *s,
    size_t n, size_t at)
{
	unsigned char c = (unsigned char)s[at];

	switch (sh) {
	case SHAPE_EMPTY:
		snprintf(out, size, n ? "%zu bytes" : "an empty string", n);
		break;
	case SHAPE_LONG:
		snprintf(out, size, "%zu bytes", n);
		break;
	case SHAPE_NUL:
		snprintf(out, size, "a string with a NUL byte");
		break;
	case SHAPE_CHAR:
		if (c > 0x20 && c < 0x7f)
			snprintf(out, size, "'%c' at byte %zu", c, at);
		else
			snprintf(out, size, "the byte 0x%02x at byte %zu", c, at);
		break;
	case SHAPE_FIRST:
		snprintf(out, size, "a first character that is not a letter "
		    "or digit");
		break;
	case SHAPE_OK:
		snprintf(out, size, "a valid string");
		break;
	}
}

/* Report field f at path: "expected ..., got <got>". */
static int
msg_fail_field(struct bora_msg_err *err, const char *path,
    const struct msg_field *f, const char *got)
{
	char expect[160];

	msg_expect(f, expect, sizeof(expect));
	return msg_fail(err, path, "%s, got %s", expect, got);
}

/* ---- decoding: checking a JSON object against a table ---- */

static int msg_check_object(json_t *obj, const struct msg_field *fields,
    size_t nfields, const char *prefix, const char *skip_key, void *base,
    struct bora_msg_err *err);

/* jansson's iterators take json_t * although they only read; the checks
 * below never modify the tree they are given. */
static json_t *
msg_json_unconst(const json_t *j)
{
	return (json_t *)(uintptr_t)j;
}

static int
msg_check_string(const struct msg_field *f, json_t *v, const char *path,
    void *base, struct bora_msg_err *err)
{
	const char *s;
	size_t n, at, min = 0, max = 0;
	int (*ok)(unsigned char) = NULL;
	int first_alnum = 0;
	enum shape sh;
	char got[64];

	if (!json_is_string(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	s = json_string_value(v);
	n = json_string_length(v);
	switch (f->kind) {
	case FK_STEP_ID:
		min = 1, max = BORA_MAX_STEP_ID, ok = msg_is_step_char;
		break;
	case FK_NAME:
		min = 1, max = BORA_MAX_NAME, ok = msg_is_name_char;
		first_alnum = 1;
		break;
	case FK_KIND:
		min = 1, max = BORA_MAX_KIND, ok = msg_is_kind_char;
		break;
	default:
		min = (size_t)f->min, max = (size_t)f->max;
		break;
	}
	sh = msg_shape(s, n, min, max, ok, first_alnum, &at);
	if (sh != SHAPE_OK) {
		msg_got_shape(got, sizeof(got), sh, s, n, at);
		return msg_fail_field(err, path, f, got);
	}
	*MEMBER(base, f->off, const char *) = s;
	if (f->flags & F_AUX)
		*MEMBER(base, f->aux_off, size_t) = n;
	return 0;
}

/* Index of s (n bytes) in names, or -1. */
static int
msg_name_index(const char *s, size_t n, const char *const *names,
    size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return (int)i;
	return -1;
}

static int
msg_check_enum(const struct msg_field *f, json_t *v, const char *path,
    void *base, struct bora_msg_err *err)
{
	const char *const *names;
	size_t count;
	int i;
	char got[64];

	if (f->kind == FK_STATUS)
		names = status_names, count = BORA_STATUS_COUNT;
	else
		names = stream_names, count = NSTREAMS;
	if (!json_is_string(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	i = msg_name_index(json_string_value(v), json_string_length(v),
	    names, count);
	if (i < 0) {
		msg_got_string(got, sizeof(got), json_string_value(v),
		    json_string_length(v));
		return msg_fail_field(err, path, f, got);
	}
	if (f->kind == FK_STATUS)
		*MEMBER(base, f->off, enum bora_status) = (enum bora_status)i;
	else
		*MEMBER(base, f->off, enum bora_stream) = (enum bora_stream)i;
	return 0;
}

static int
msg_check_integer(const struct msg_field *f, json_t *v, const char *path,
    void *base, struct bora_msg_err *err)
{
	json_int_t x;
	char got[32];

	if (!json_is_integer(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	x = json_integer_value(v);
	if (x < f->min || x > f->max) {
		snprintf(got, sizeof(got), "%lld", (long long)x);
		return msg_fail_field(err, path, f, got);
	}
	switch (f->kind) {
	case FK_INT:
		*MEMBER(base, f->off, int) = (int)x;
		if (f->flags & F_AUX)
			*MEMBER(base, f->aux_off, int) = 1;
		break;
	case FK_U32:
		*MEMBER(base, f->off, uint32_t) = (uint32_t)x;
		break;
	case FK_U64:
		*MEMBER(base, f->off, uint64_t) = (uint64_t)x;
		break;
	default:
		*MEMBER(base, f->off, int64_t) = (int64_t)x;
		break;
	}
	return 0;
}

static int
msg_check_labels(const struct msg_field *f, json_t *v, const char *path,
    struct bora_msg_err *err)
{
	const char *key;
	json_t *val;
	size_t n, at;
	enum shape sh;
	char sub[sizeof(err->path)], got[64];

	if (!json_is_object(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	if (json_object_size(v) > MSG_MAX_LABELS)
		return msg_fail(err, path, "expected at most %d labels, got %zu",
		    MSG_MAX_LABELS, json_object_size(v));
	json_object_foreach(v, key, val) {
		msg_path_field(sub, sizeof(sub), path, key);
		sh = msg_shape(key, strlen(key), 1, BORA_MAX_NAME,
		    msg_is_name_char, 1, &at);
		if (sh != SHAPE_OK) {
			msg_got_shape(got, sizeof(got), sh, key, strlen(key), at);
			return msg_fail(err, sub, "expected a label name of 1 to "
			    "%d bytes of A-Z a-z 0-9 . _ -, first a letter or "
			    "digit, got %s", BORA_MAX_NAME, got);
		}
		if (!json_is_string(val))
			return msg_fail(err, sub, "expected a string of at most "
			    "%d bytes, got %s", MSG_MAX_LABEL_VALUE,
			    msg_json_kind(val));
		n = json_string_length(val);
		sh = msg_shape(json_string_value(val), n, 0,
		    MSG_MAX_LABEL_VALUE, NULL, 0, &at);
		if (sh != SHAPE_OK) {
			msg_got_shape(got, sizeof(got), sh,
			    json_string_value(val), n, at);
			return msg_fail(err, sub, "expected a string of at most "
			    "%d bytes, got %s", MSG_MAX_LABEL_VALUE, got);
		}
	}
	return 0;
}

static int
msg_check_step_ids(const struct msg_field *f, json_t *v, const char *path,
    struct bora_msg_err *err)
{
	static const struct msg_field one =
	    { "", FK_STEP_ID, F_REQUIRED, 0, 0, 0, 0 };
	const char *step;
	char sub[sizeof(err->path)];
	size_t i;

	if (!json_is_array(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	for (i = 0; i < json_array_size(v); i++) {
		msg_path_index(sub, sizeof(sub), path, i);
		if (msg_check_string(&one, json_array_get(v, i), sub, &step,
		    err) < 0)
			return -1;
	}
	return 0;
}

static int
msg_check_results(const struct msg_field *f, json_t *v, const char *path,
    struct bora_msg_err *err)
{
	struct bora_result scratch;
	char sub[sizeof(err->path)];
	json_t *el;
	size_t i;

	if (!json_is_array(v))
		return msg_fail_field(err, path, f, msg_json_kind(v));
	for (i = 0; i < json_array_size(v); i++) {
		el = json_array_get(v, i);
		msg_path_index(sub, sizeof(sub), path, i);
		if (!json_is_object(el))
			return msg_fail(err, sub, "expected a result object, "
			    "got %s", msg_json_kind(el));
		memset(&scratch, 0, sizeof(scratch));
		if (msg_check_object(el, result_fields,
		    sizeof(result_fields) / sizeof(result_fields[0]), sub, NULL,
		    &scratch, err) < 0)
			return -1;
	}
	return 0;
}

/* Check one field's value v (NULL when absent) and store it in base. */
static int
msg_check_field(const struct msg_field *f, json_t *v, const char *path,
    void *base, struct bora_msg_err *err)
{
	if (v == NULL || (json_is_null(v) && (f->flags & F_NULLABLE))) {
		if (f->flags & F_REQUIRED)
			return msg_fail(err, path, "missing required field");
		return 0;       /* base is zeroed: absent reads as 0 / NULL */
	}
	switch (f->kind) {
	case FK_STEP_ID:
	case FK_NAME:
	case FK_KIND:
	case FK_STRING:
		return msg_check_string(f, v, path, base, err);
	case FK_STATUS:
	case FK_STREAM:
		return msg_check_enum(f, v, path, base, err);
	case FK_INT:
	case FK_U32:
	case FK_U64:
	case FK_I64:
		return msg_check_integer(f, v, path, base, err);
	case FK_OBJECT:
		if (!json_is_object(v))
			return msg_fail_field(err, path, f, msg_json_kind(v));
		break;
	case FK_LABELS:
		if (msg_check_labels(f, v, path, err) < 0)
			return -1;
		break;
	case FK_STEP_IDS:
		if (msg_check_step_ids(f, v, path, err) < 0)
			return -1;
		break;
	case FK_RESULTS:
		if (msg_check_results(f, v, path, err) < 0)
			return -1;
		break;
	}
	*MEMBER(base, f->off, json_t *) = v;
	return 0;
}

static const struct msg_field *
msg_field_find(const struct msg_field *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/*
 * Check obj against a field table and fill base (zeroed by the caller; the
 * struct of the type). Every key must be in the table (or be skip_key);
 * prefix names obj in error paths ("" at the top).
 */
static int
msg_check_object(json_t *obj, const struct msg_field *fields,
    size_t nfields, const char *prefix, const char *skip_key, void *base,
    struct bora_msg_err *err)
{
	const char *key;
	json_t *v;
	char path[sizeof(err->path)];
	size_t i;

	json_object_foreach(obj, key, v) {
		if (skip_key != NULL && strcmp(key, skip_key) == 0)
			continue;
		if (msg_field_find(fields, nfields, key) == NULL) {
			msg_path_field(path, sizeof(path), prefix, key);
			return msg_fail(err, path, "unknown field");
		}
	}
	for (i = 0; i < nfields; i++) {
		msg_path_field(path, sizeof(path), prefix, fields[i].name);
		if (msg_check_field(&fields[i], json_object_get(obj,
		    fields[i].name), path, base, err) < 0)
			return -1;
	}
	return 0;
}

/* lim NULL means BORA_LIMITS_DEFAULT; err may be NULL. */
int
bora_msg_decode(const char *buf, size_t len, const struct bora_limits *lim,
    struct bora_msg *out, struct bora_msg_err *err)
{
	static const struct bora_limits deflim = BORA_LIMITS_DEFAULT;
	struct bora_msg_err ignored;
	struct bora_json_guard g;
	json_error_t jerr;
	json_t *root = NULL, *jt;
	const char *tname;
	size_t off;
	int t, rc = -1;

	if (lim == NULL)
		lim = &deflim;
	if (err == NULL)
		err = &ignored;
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (len > lim->max_bytes) {
		msg_fail(err, "", "message is %zu bytes; the limit is %zu",
		    len, lim->max_bytes);
		goto out;
	}
	off = bora_utf8_check(buf, len);
	if (off != len) {
		msg_fail(err, "", "invalid UTF-8 at byte offset %zu", off);
		goto out;
	}
	if (bora_json_guard_scan(buf, len, lim->max_depth, &g) < 0) {
		msg_fail(err, "", "nesting deeper than %d levels at byte offset "
		    "%zu", lim->max_depth, g.too_deep_at);
		goto out;
	}
	/* jansson 2.14 refuses "\u0000" in strings unless JSON_ALLOW_NUL. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		msg_fail(err, "", "invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		msg_fail(err, "", "expected a JSON object, got %s",
		    msg_json_kind(root));
		goto out;
	}
	jt = json_object_get(root, "type");
	if (jt == NULL) {
		msg_fail(err, "type", "missing required field");
		goto out;
	}
	if (!json_is_string(jt)) {
		msg_fail(err, "type", "expected a message type name, got %s",
		    msg_json_kind(jt));
		goto out;
	}
	tname = json_string_value(jt);
	for (t = 0; t < BORA_MSG_TYPE_COUNT; t++)
		if (strlen(msg_types[t].name) == json_string_length(jt) &&
		    strcmp(msg_types[t].name, tname) == 0)
			break;
	if (t == BORA_MSG_TYPE_COUNT) {
		char got[64];

		msg_got_string(got, sizeof(got), tname, json_string_length(jt));
		msg_fail(err, "type", "unknown message type %s; expected hello, "
		    "welcome, run, accept, output, result, ack, cancel, error, "
		    "enroll or enrolled",
		    got);
		goto out;
	}
	out->type = (enum bora_msg_type)t;
	if (msg_check_object(root, msg_types[t].fields, msg_types[t].nfields,
	    "", "type", &out->u, err) < 0)
		goto out;
	out->root = root;
	root = NULL;
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

void
bora_msg_free(struct bora_msg *msg)
{
	if (msg == NULL)
		return;
	json_decref(msg->root);
	memset(msg, 0, sizeof(*msg));
}

/* path_prefix may be NULL (""), err may be NULL. */
int
bora_result_from_json(const json_t *obj, const char *path_prefix,
    struct bora_result *out, struct bora_msg_err *err)
{
	const char *prefix = path_prefix ? path_prefix : "";
	struct bora_msg_err ignored;

	if (err == NULL)
		err = &ignored;
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (obj == NULL || !json_is_object(obj))
		return msg_fail(err, prefix, "expected a result object, got %s",
		    obj ? msg_json_kind(obj) : "nothing");
	if (msg_check_object(msg_json_unconst(obj), result_fields,
	    sizeof(result_fields) / sizeof(result_fields[0]), prefix, NULL,
	    out, err) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

/* ---- encoding: the tables the other way ---- */

/*
 * Build the JSON value of field f from base into *v (a new reference), or
 * leave *v NULL when the field is omitted: a NULL pointer, an absent
 * exit code, or an optional integer at its default of 0. Returns -1 on
 * what cannot be built (invalid UTF-8, an unknown enum value, a uint64
 * past what JSON integers hold, no memory).
 */
static int
msg_build_field(const struct msg_field *f, const void *base, json_t **v)
{
	const char *s, *name;
	json_t *j;
	long long x = 0;
	uint64_t u;

	*v = NULL;
	switch (f->kind) {
	case FK_STEP_ID:
	case FK_NAME:
	case FK_KIND:
	case FK_STRING:
		s = *CMEMBER(base, f->off, const char *);
		if (s == NULL)
			return 0;
		if (f->flags & F_AUX)
			*v = json_stringn(s, *CMEMBER(base, f->aux_off, size_t));
		else
			*v = json_string(s);
		return *v ? 0 : -1;
	case FK_STATUS:
		name = bora_status_name(*CMEMBER(base, f->off,
		    enum bora_status));
		*v = name ? json_string(name) : NULL;
		return *v ? 0 : -1;
	case FK_STREAM:
		name = bora_stream_name(*CMEMBER(base, f->off,
		    enum bora_stream));
		*v = name ? json_string(name) : NULL;
		return *v ? 0 : -1;
	case FK_INT:
		if ((f->flags & F_AUX) && !*CMEMBER(base, f->aux_off, int))
			return 0;
		x = *CMEMBER(base, f->off, int);
		break;
	case FK_U32:
		x = *CMEMBER(base, f->off, uint32_t);
		break;
	case FK_U64:
		u = *CMEMBER(base, f->off, uint64_t);
		if (u > (uint64_t)INT64_MAX)
			return -1;
		x = (long long)u;
		break;
	case FK_I64:
		x = *CMEMBER(base, f->off, int64_t);
		break;
	case FK_OBJECT:
	case FK_LABELS:
	case FK_STEP_IDS:
	case FK_RESULTS:
		j = *CMEMBER(base, f->off, json_t *);
		*v = j ? json_incref(j) : NULL;
		return 0;
	}
	if (x == 0 && !(f->flags & (F_REQUIRED | F_AUX)))
		return 0;
	*v = json_integer(x);
	return *v ? 0 : -1;
}

/* Add the fields of a table, read from base, to obj. */
static int
msg_build_fields(json_t *obj, const struct msg_field *fields, size_t n,
    const void *base)
{
	json_t *v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (msg_build_field(&fields[i], base, &v) < 0)
			return -1;
		if (v != NULL && json_object_set_new(obj, fields[i].name, v) < 0)
			return -1;
	}
	return 0;
}

char *
bora_msg_encode(const struct bora_msg *msg, size_t *len)
{
	const struct msg_type *t;
	struct bora_json_guard g;
	struct bora_msg_err err;
	struct bora_msg scratch;
	json_t *obj = NULL;
	char *text = NULL;
	size_t n;

	if (msg == NULL || (unsigned)msg->type >= BORA_MSG_TYPE_COUNT)
		return NULL;
	t = &msg_types[msg->type];
	obj = json_object();
	if (obj == NULL ||
	    json_object_set_new(obj, "type", json_string(t->name)) < 0 ||
	    msg_build_fields(obj, t->fields, t->nfields, &msg->u) < 0)
		goto out;
	/* What the decoder would check, on what we built. */
	memset(&scratch, 0, sizeof(scratch));
	if (msg_check_object(obj, t->fields, t->nfields, "", "type",
	    &scratch.u, &err) < 0)
		goto out;
	text = json_dumps(obj, JSON_COMPACT);
	if (text == NULL)
		goto out;
	/* And what it checks on the raw text: caller-built trees may hold
	 * deep nesting, NUL characters or keys jansson did not check. */
	n = strlen(text);
	if (bora_utf8_check(text, n) != n ||
	    bora_json_guard_scan(text, n, BORA_MAX_DEPTH, &g) < 0 ||
	    g.nul_at != n) {
		free(text);
		text = NULL;
		goto out;
	}
	if (len != NULL)
		*len = n;
out:
	json_decref(obj);
	return text;
}

json_t *
bora_result_to_json(const struct bora_result *res)
{
	struct bora_result scratch;
	struct bora_msg_err err;
	json_t *obj;

	if (res == NULL || (obj = json_object()) == NULL)
		return NULL;
	memset(&scratch, 0, sizeof(scratch));
	if (msg_build_fields(obj, result_fields,
	    sizeof(result_fields) / sizeof(result_fields[0]), res) < 0 ||
	    msg_check_object(obj, result_fields,
	    sizeof(result_fields) / sizeof(result_fields[0]), "", NULL,
	    &scratch, &err) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
