/*
 * enroll.h: enrollment and revocation on the coordinator (docs/security.md,
 * docs/protocol.md "enroll").
 *
 * A TLS connection to the agent port without a client certificate is an
 * enrollment connection: it may send one enroll message and gets one
 * answer, enrolled or an error, then is closed. Anything else is refused
 * with an error and the connection closed. Enrollment signs the agent's
 * CSR with the CA whose key is STATE_DIR/ca.key (made by `bora-coordinator
 * init`); without that key enrollment is refused. A token's use and the
 * agent's row are durable before enrolled is sent.
 *
 * Token guessing is rate limited per source address: ENROLL_RL_FAILS
 * refused tokens within ENROLL_RL_WINDOW_S, and every enroll from that
 * address is refused for ENROLL_RL_BLOCK_S.
 *
 * Revocation: the serials of revoked certificates are kept in memory (a
 * hash, loaded at start); the handshake refuses them.
 */
#ifndef BORA_COORD_ENROLL_H
#define BORA_COORD_ENROLL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libwebsockets.h>

#define ENROLL_RL_FAILS     5
#define ENROLL_RL_WINDOW_S  60
#define ENROLL_RL_BLOCK_S   60

struct coord_config;
struct store;
struct enroll_conn;

/* Load the CA (cfg->tls_ca, STATE_DIR/ca.key), the enrolled agents, the
 * tokens and the revocations from s. 0, or -1 with err. */
int enroll_init(const struct coord_config *cfg, struct store *s, char *err,
    size_t errlen);
void enroll_shutdown(void);

/* What enrollment asks of the connected agents, answered by the agent
 * server (which sits above enrollment): whether an agent of that name is
 * connected (a name in use is not enrolled again), and to hang up on it
 * (revocation), 1 when it was connected. live is kept, not copied. */
struct enroll_live_agents {
	int (*connected)(const char *name);
	int (*hang_up)(const char *name);
};
void enroll_set_live_agents(const struct enroll_live_agents *live);

/* 1 when the certificate serial (lowercase hex) is revoked. */
int enroll_serial_revoked(const char *serial);

/* An enrollment connection on wsi from addr ("ip:port"); NULL when out of
 * memory. Freed by enroll_conn_free() (at CLOSED). */
struct enroll_conn *enroll_conn_new(struct lws *wsi, const char *addr);
/* One whole text message (binary: is_binary). */
void enroll_conn_message(struct enroll_conn *c, const char *buf, size_t len,
    int is_binary, size_t max_bytes);
/* WRITEABLE: 0, or -1 to close (after the answer went out). */
int enroll_conn_writeable(struct enroll_conn *c);
void enroll_conn_free(struct enroll_conn *c);

/* A persist_on_turn() release hook: after each commit, the answers that
 * waited for durability go. */
void enroll_release(uint64_t durable, void *user);

/*
 * Revoke the certificate of enrolled agent name: the revocation is stored,
 * the handshake refuses its serial from now on, and its live connection
 * is closed. 0 with *out ({name, serial, revoked_ms, disconnected}, new
 * reference); -1 when no agent of that name was enrolled; -2 with err.
 */
int enroll_revoke(const char *name, json_t **out, char *err, size_t errlen);

/* The labels agent name was enrolled with (bound by its token, else asked
 * for at enrollment; borrowed), or NULL when it never enrolled here (its
 * certificate was made outside the coordinator: its hello's labels apply). */
const json_t *enroll_agent_labels(const char *name);

/* Every enrolled agent: [{name, labels, enrolled_ms, serial, fingerprint,
 * revoked_ms}]. New reference or NULL. */
json_t *enroll_agents_json(void);

#endif
