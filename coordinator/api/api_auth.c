/*
 * api_auth.c: who may use the operator API (docs/security.md).
 *
 * On the unix socket (vhost "api"), the socket's mode 0600 decides: whoever
 * can connect is an operator. On the HTTPS vhost (API_VHOST_HTTPS, config
 * api.listen / api.port) every request carries "Authorization: Bearer
 * TOKEN" with the operator token, whose sha256 the store keeps (tokens.c
 * compares in constant time). A refusal is 401 {"error":"unauthorized"},
 * logged with the peer address and the reason, never the token.
 *
 * Refusals are counted per source address (ratelimit.c, the rule of the
 * enrollment tokens): API_AUTH_RL_FAILS within API_AUTH_RL_WINDOW_S, and
 * every request from that address is answered 429 "rate_limited" with
 * Retry-After for API_AUTH_RL_BLOCK_S, right token or not.
 *
 * The operator token's hash is read from the store at start; after SIGHUP
 * (`bora-coordinator operator-token rotate` sends it) it is read again
 * before the next request is checked (tokens_operator_reload()).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "api.h"
#include "api_int.h"
#include "clock.h"
#include "log.h"
#include "log_gate.h"
#include "ratelimit.h"
#include "tokens.h"

#define API_AUTH_MAX  512          /* longer Authorization headers: refused */
#define API_AUTH_RL_FAILS     5
#define API_AUTH_RL_WINDOW_S  60
#define API_AUTH_RL_BLOCK_S   60

static struct ratelimit api_auth_rl;
static int api_auth_rl_ready;

#if defined(LWS_WITH_HTTP_UNCOMMON_HEADERS) || defined(LWS_ROLE_H2)
#define API_AUTH_HDR    WSI_TOKEN_HTTP_WWW_AUTHENTICATE
#define API_AUTH_HDR_V  "Bearer realm=\"bora\""
#else
#define API_AUTH_HDR    0
#define API_AUTH_HDR_V  NULL
#endif

static int
api_on_https(struct lws *wsi)
{
	struct lws_vhost *vh = lws_get_vhost(wsi);
	const char *name = vh ? lws_get_vhost_name(vh) : NULL;

	return name != NULL && strcmp(name, API_VHOST_HTTPS) == 0;
}

/* The token of "Authorization: Bearer TOKEN" into tok, or why not. */
static int
api_bearer(struct lws *wsi, char *tok, size_t toklen, char *why, size_t whylen)
{
	char hdr[API_AUTH_MAX + 1];
	const char *p;
	int n;

	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 0) {
		snprintf(why, whylen, "no Authorization header");
		return -1;
	}
	if (n > API_AUTH_MAX || lws_hdr_copy(wsi, hdr, sizeof(hdr),
	    WSI_TOKEN_HTTP_AUTHORIZATION) < 0) {
		snprintf(why, whylen, "Authorization header too long");
		return -1;
	}
	if (strncasecmp(hdr, "Bearer ", 7) != 0) {
		snprintf(why, whylen, "Authorization is not a Bearer token");
		OPENSSL_cleanse(hdr, sizeof(hdr));
		return -1;
	}
	for (p = hdr + 7; *p == ' '; p++)
		;
	n = snprintf(tok, toklen, "%s", p);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		tok[--n] = '\0';
	if (n <= 0 || (size_t)n >= toklen) {
		snprintf(why, whylen, "empty or oversized Bearer token");
		return -1;
	}
	return 0;
}

/* The peer's address without its port; an IPv4-mapped one as IPv4. */
static void
api_auth_peer(struct lws *wsi, char *addr, size_t n)
{
	snprintf(addr, n, "?");
	lws_get_peer_simple(wsi, addr, n);
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != NULL)
		memmove(addr, addr + 7, strlen(addr + 7) + 1);
	if (addr[0] == '\0')
		snprintf(addr, n, "?");
}

/* 429 for an address over the limit; blocked_ms > 0 is how long still. */
static int
api_auth_blocked(struct api_session *ss, const char *addr, int64_t blocked_ms)
{
	char retry[24];
	long long s = (long long)((blocked_ms + 999) / 1000);

	snprintf(retry, sizeof(retry), "%lld", s);
	ss->close_after = 1;
	return api_error_h(ss, 429, "rate_limited", WSI_TOKEN_HTTP_RETRY_AFTER,
	    retry, "too many refused operator tokens from %s; try again in "
	    "%lld s", addr, s) ? -1 : 1;
}

/*
 * Whether the request on wsi (method, path: for the log) may go on: 0 on
 * the unix socket or with the operator token; API_AUTH_BLOCKED when its
 * address is rate limited (*blocked_ms: how long still), API_AUTH_REFUSED
 * (why says why). Every refusal is logged, never the token.
 */
enum { API_AUTH_OK, API_AUTH_BLOCKED, API_AUTH_REFUSED };

static int
api_auth_verdict(struct lws *wsi, const char *method, const char *path,
    char *addr, size_t addrlen, int64_t *blocked_ms, char *why,
    size_t whylen)
{
	char tok[API_AUTH_MAX + 1], q[128];
	int64_t now;
	int rc;

	if (!api_on_https(wsi))
		return API_AUTH_OK;    /* the unix socket: its mode decides */
	if (!api_auth_rl_ready) {
		ratelimit_init(&api_auth_rl, API_AUTH_RL_FAILS,
		    API_AUTH_RL_WINDOW_S, API_AUTH_RL_BLOCK_S);
		api_auth_rl_ready = 1;
	}
	api_auth_peer(wsi, addr, addrlen);
	now = bora_wall_ms();
	if ((*blocked_ms = ratelimit_blocked(&api_auth_rl, addr, now)) > 0) {
		log_limited(BORA_LOG_WARN, "api", "blocked_request", addr,
		    "refused request addr=%s method=%s path=%s "
		    "reason=\"rate limited: too many refused operator tokens\" "
		    "retry_after_s=%lld", addr, method, bora_log_quote(path, q,
		    sizeof(q)), (long long)((*blocked_ms + 999) / 1000));
		return API_AUTH_BLOCKED;
	}
	tokens_operator_reload_if_asked();
	rc = api_bearer(wsi, tok, sizeof(tok), why, whylen);
	if (rc == 0)
		rc = tokens_operator_check(tok, why, whylen);
	OPENSSL_cleanse(tok, sizeof(tok));
	if (rc == 0)
		return API_AUTH_OK;
	log_limited(BORA_LOG_WARN, "api", "refused_request", addr,
	    "refused request addr=%s method=%s path=%s reason=\"%s\"", addr,
	    method, bora_log_quote(path, q, sizeof(q)), why);
	if (ratelimit_fail(&api_auth_rl, addr, now))
		log_warnx("api", "rate limiting operator token addr=%s "
		    "failures=%d window_s=%d blocked_s=%d", addr,
		    API_AUTH_RL_FAILS, API_AUTH_RL_WINDOW_S, API_AUTH_RL_BLOCK_S);
	return API_AUTH_REFUSED;
}

int
api_auth_check(struct api_session *ss)
{
	char why[160], addr[64];
	int64_t blocked = 0;

	switch (api_auth_verdict(ss->wsi, ss->method, ss->path, addr,
	    sizeof(addr), &blocked, why, sizeof(why))) {
	case API_AUTH_OK:
		return 0;
	case API_AUTH_BLOCKED:
		return api_auth_blocked(ss, addr, blocked);
	default:
		break;
	}
	ss->close_after = 1;
	return api_error_h(ss, 401, "unauthorized", API_AUTH_HDR, API_AUTH_HDR_V,
	    "%s; the HTTPS API takes \"Authorization: Bearer TOKEN\" with "
	    "the operator token", why) ? -1 : 1;
}

unsigned
api_auth_upgrade(struct lws *wsi, const char *path)
{
	char why[160], addr[64];
	int64_t blocked = 0;

	switch (api_auth_verdict(wsi, "GET", path, addr, sizeof(addr),
	    &blocked, why, sizeof(why))) {
	case API_AUTH_OK:
		return 0;
	case API_AUTH_BLOCKED:
		return 429;
	default:
		return 401;
	}
}
