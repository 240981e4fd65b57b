/*
 * msg.h: the Bora wire protocol v1 (websocket subprotocol "bora.v1").
 *
 * One JSON object per text message, with a "type" field. Every message that
 * comes off the network goes through bora_msg_decode(), which checks the whole
 * message (size, nesting depth, UTF-8, JSON syntax) and then every field of
 * its type (presence, JSON type, range, string length, allowed values).
 * Unknown types and unknown fields are refused. docs/protocol.md documents
 * each message with an example.
 *
 * Ownership: a decoded struct bora_msg owns its JSON tree (msg->root); every
 * const char * and json_t * inside the union points into that tree and lives
 * until bora_msg_free(). For encoding, the caller fills a struct bora_msg
 * (root unused, may be NULL) whose pointers it owns; bora_msg_encode() borrows
 * them and returns a new malloc'ed string.
 */
#ifndef BORA_PROTO_MSG_H
#define BORA_PROTO_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define BORA_SUBPROTOCOL "bora.v1"
/* The operator API's events websocket (docs/api.md): the coordinator
 * serves it, the CLI reads it. */
#define BORA_EVENTS_SUBPROTOCOL "bora-events"

/* Default limits; the decoder takes them as parameters (struct bora_limits). */
#define BORA_MAX_MESSAGE_BYTES   (1024 * 1024)
#define BORA_MAX_DEPTH           32
#define BORA_MAX_STEP_ID         200  /* bytes; charset [A-Za-z0-9._:-] */
#define BORA_MAX_NAME            64   /* agent names: [A-Za-z0-9._-], first alnum */
#define BORA_MAX_KIND            32   /* step kinds: [a-z0-9_.] */
#define BORA_MAX_OUTPUT_CHUNK    (64 * 1024) /* bytes of data in one output message */
#define BORA_MAX_TIMEOUT_S       (7 * 24 * 3600)
#define BORA_MAX_TOKEN           128  /* bytes of an enrollment token */
#define BORA_MAX_CSR             8192 /* bytes of a PEM CSR */
#define BORA_MAX_CERT_PEM        16384 /* bytes of a PEM certificate (chain) */

enum bora_msg_type {
	BORA_MSG_HELLO,    /* agent -> coordinator, first message */
	BORA_MSG_WELCOME,  /* coordinator -> agent, answer to hello */
	BORA_MSG_RUN,      /* coordinator -> agent: start a step */
	BORA_MSG_ACCEPT,   /* agent -> coordinator: step started */
	BORA_MSG_OUTPUT,   /* agent -> coordinator: a chunk of stdout/stderr */
	BORA_MSG_RESULT,   /* agent -> coordinator: step finished */
	BORA_MSG_ACK,      /* coordinator -> agent: result is durable */
	BORA_MSG_CANCEL,   /* coordinator -> agent: stop a step */
	BORA_MSG_ERROR,    /* either way: your message was refused, and why */
	BORA_MSG_ENROLL,   /* agent without a certificate -> coordinator */
	BORA_MSG_ENROLLED, /* coordinator -> agent: its certificate */
	BORA_MSG_TYPE_COUNT
};

enum bora_stream { BORA_STREAM_STDOUT, BORA_STREAM_STDERR };

enum bora_status {
	BORA_STATUS_SUCCESS,    /* ran, exit 0 (or the runner's success codes) */
	BORA_STATUS_FAILED,     /* ran, non-zero exit or killed by a signal */
	BORA_STATUS_TIMEOUT,    /* killed (whole process group) at its timeout */
	BORA_STATUS_CANCELLED,  /* killed on a cancel message */
	BORA_STATUS_LOST,       /* started, but the agent died meanwhile */
	BORA_STATUS_ERROR,      /* could not be started (bad spec, exec failed) */
	BORA_STATUS_COUNT
};

struct bora_hello {
	const char *name;      /* the name the agent believes it has (its CN) */
	const char *version;   /* agent software version */
	json_t *labels;        /* object: string -> string, may be NULL on encode */
	json_t *facts;         /* object: any JSON, may be NULL on encode */
	json_t *running;       /* array of step ids still running, may be NULL */
	json_t *results;       /* array of result objects not yet acked (each one
	                          validated like a result message, without
	                          "type"); read them with bora_result_from_json() */
};

struct bora_welcome {
	const char *name;          /* the name from the agent's certificate */
	const char *version;       /* coordinator software version */
	uint32_t heartbeat_s;      /* ping interval the coordinator uses */
	uint32_t max_message;      /* largest message the coordinator takes */
};

struct bora_run {
	const char *step;
	const char *kind;          /* "script", later "puppet", "file", ... */
	json_t *spec;              /* object, kind specific ({"script": "..."}) */
	json_t *inputs;            /* object, may be NULL on encode */
	uint32_t timeout_s;        /* 1 .. BORA_MAX_TIMEOUT_S */
};

struct bora_accept {
	const char *step;
	int64_t pid;               /* process (group) id, 0 when not a process */
};

struct bora_output {
	const char *step;
	enum bora_stream stream;
	uint64_t seq;              /* per step and stream, from 0, no gaps */
	const char *data;          /* valid UTF-8 (the agent replaces bad bytes
	                              with U+FFFD), at most BORA_MAX_OUTPUT_CHUNK */
	size_t data_len;
};

struct bora_result {
	const char *step;
	enum bora_status status;
	int has_exit_code;         /* 0: "exit_code" is null/absent */
	int exit_code;             /* 0..255 */
	int signal;                /* 0 or the signal that ended the process */
	json_t *outputs;           /* object, may be NULL on encode */
	int64_t started_ms;        /* unix time in ms, 0 if it never started */
	int64_t finished_ms;
	uint64_t stdout_bytes;     /* bytes the step wrote, kept or not */
	uint64_t stderr_bytes;
	const char *error;         /* optional human sentence, may be NULL */
};

struct bora_ack { const char *step; };

struct bora_cancel {
	const char *step;
	const char *reason;        /* may be NULL */
};

struct bora_error_msg {
	const char *code;          /* "bad_message", "unknown_step", ... */
	const char *detail;        /* one sentence, names the field path */
};

/* Enrollment (docs/protocol.md): the only message a connection without a
 * client certificate may send. */
struct bora_enroll {
	const char *token;         /* the one-time token, never logged */
	const char *csr;           /* PEM certificate request */
	const char *name;          /* requested name, may be NULL */
	json_t *labels;            /* may be NULL */
};

struct bora_enrolled {
	const char *certificate;   /* PEM, CN = name */
	const char *ca;            /* PEM of the CA that signed it */
	const char *name;          /* the name the coordinator gave */
	json_t *labels;            /* the labels it recorded, may be NULL */
};

struct bora_msg {
	enum bora_msg_type type;
	json_t *root;              /* decoded messages own this tree */
	union {
		struct bora_hello hello;
		struct bora_welcome welcome;
		struct bora_run run;
		struct bora_accept accept;
		struct bora_output output;
		struct bora_result result;
		struct bora_ack ack;
		struct bora_cancel cancel;
		struct bora_error_msg error;
		struct bora_enroll enroll;
		struct bora_enrolled enrolled;
	} u;
};

struct bora_limits {
	size_t max_bytes;          /* whole message */
	int max_depth;             /* nesting of arrays and objects */
};

#define BORA_LIMITS_DEFAULT { BORA_MAX_MESSAGE_BYTES, BORA_MAX_DEPTH }

/* A decode error: which field (a path like "results[2].status", or "" for
 * the message as a whole) and what is wrong with it, in one sentence. */
struct bora_msg_err {
	char path[128];
	char text[256];
};

/*
 * Decode and validate one message of len bytes (not NUL-terminated).
 * Returns 0 and fills *out (free with bora_msg_free), or -1 and fills *err;
 * on error nothing needs freeing.
 */
int bora_msg_decode(const char *buf, size_t len, const struct bora_limits *lim,
    struct bora_msg *out, struct bora_msg_err *err);

/* Release what bora_msg_decode() put in msg; safe on a zeroed struct. */
void bora_msg_free(struct bora_msg *msg);

/*
 * Encode msg as compact JSON. Returns a malloc'ed NUL-terminated string the
 * caller frees, and its length in *len (may be NULL); NULL on a struct that
 * would not decode (the encoder checks what the decoder checks).
 */
char *bora_msg_encode(const struct bora_msg *msg, size_t *len);

/*
 * Validate one result object (as found in hello.results) and fill *out;
 * strings point into obj. path_prefix names it in errors ("results[3]").
 */
int bora_result_from_json(const json_t *obj, const char *path_prefix,
    struct bora_result *out, struct bora_msg_err *err);

/* Build the JSON object of a result (no "type" field); new reference. */
json_t *bora_result_to_json(const struct bora_result *res);

/* "hello", "run", ...; "status" names; NULL when out of range. */
const char *bora_msg_type_name(enum bora_msg_type t);
const char *bora_status_name(enum bora_status s);
const char *bora_stream_name(enum bora_stream s);

/* 1 when s is a well-formed step id / agent name, else 0. */
int bora_step_id_valid(const char *s);
int bora_name_valid(const char *s);

#endif
