/* conn_guard.c: see conn_guard.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conn_guard.h"
#include "idmap.h"
#include "log.h"
#include "log_gate.h"

/* One per descriptor: the connection counted on it. */
struct guard_slot {
	int counted;                /* not yet authenticated, counted */
	struct guard_source *src;
};

/* Connections not yet authenticated from one address. */
struct guard_source {
	size_t n;
	char host[INET6_ADDRSTRLEN];
};

static struct {
	struct guard_slot *slots;   /* by descriptor */
	size_t nslots;
	struct idmap sources;       /* host -> guard_source */
	size_t total;
	size_t max_total, max_per_source;
} guard;

int
conn_guard_init(size_t max_total, size_t max_per_source, size_t fd_capacity)
{
	conn_guard_shutdown();
	if ((guard.slots = calloc(fd_capacity, sizeof(*guard.slots))) == NULL)
		return -1;
	guard.nslots = fd_capacity;
	guard.max_total = max_total;
	guard.max_per_source = max_per_source;
	return 0;
}

static void
guard_uncount(struct guard_slot *sl)
{
	struct guard_source *src = sl->src;

	if (!sl->counted)
		return;
	sl->counted = 0;
	sl->src = NULL;
	guard.total--;
	if (src != NULL && --src->n == 0) {
		(void)idmap_del(&guard.sources, src->host);
		free(src);
	}
}

void
conn_guard_shutdown(void)
{
	size_t i;

	for (i = 0; i < guard.nslots; i++)
		guard_uncount(&guard.slots[i]);
	free(guard.slots);
	idmap_free(&guard.sources);
	memset(&guard, 0, sizeof(guard));
}

/* The address as text, IPv4-mapped IPv6 as IPv4. */
static void
guard_host(const struct sockaddr *sa, char *out, size_t n)
{
	snprintf(out, n, "?");
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)n);
		else
			inet_ntop(AF_INET6, a, out, (socklen_t)n);
	}
}

int
conn_guard_admit(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct guard_source *src;
	struct guard_slot *sl;
	char host[INET6_ADDRSTRLEN];
	const char *why = NULL;

	if (guard.slots == NULL)
		return 1;                   /* not set up: no caps */
	if (fd < 0 || (size_t)fd >= guard.nslots || len == 0)
		return 0;
	sl = &guard.slots[fd];
	guard_uncount(sl);              /* a descriptor never bound (adopt
	                                   failed) is free again */
	guard_host(addr, host, sizeof(host));
	src = idmap_get(&guard.sources, host);
	if (guard.total >= guard.max_total)
		why = "too many unauthenticated connections";
	else if (src != NULL && src->n >= guard.max_per_source)
		why = "too many unauthenticated connections from this address";
	if (why != NULL) {
		log_limited(BORA_LOG_WARN, "server", "conn_guard", host,
		    "refused connection addr=%s reason=\"%s\" unauthenticated=%zu "
		    "from_address=%zu max=%zu max_per_address=%zu", host, why,
		    guard.total, src ? src->n : 0, guard.max_total,
		    guard.max_per_source);
		return 0;
	}
	if (src == NULL) {
		if ((src = calloc(1, sizeof(*src))) == NULL)
			return 0;
		snprintf(src->host, sizeof(src->host), "%s", host);
		if (idmap_put(&guard.sources, src->host, src) != 0) {
			free(src);
			return 0;
		}
	}
	src->n++;
	guard.total++;
	sl->counted = 1;
	sl->src = src;
	return 1;
}

void
conn_guard_bind(struct lws *wsi, int fd)
{
	if (guard.slots != NULL && fd >= 0 && (size_t)fd < guard.nslots &&
	    guard.slots[fd].counted)
		lws_set_opaque_user_data(wsi, &guard.slots[fd]);
}

void
conn_guard_authenticated(struct lws *wsi)
{
	struct guard_slot *sl = lws_get_opaque_user_data(wsi);

	if (sl != NULL)
		guard_uncount(sl);
	lws_set_opaque_user_data(wsi, NULL);
}

void
conn_guard_release(struct lws *wsi)
{
	conn_guard_authenticated(wsi);
}

size_t
conn_guard_unauth(void)
{
	return guard.total;
}

size_t
conn_guard_unauth_from(const char *host)
{
	struct guard_source *src = idmap_get(&guard.sources, host);

	return src ? src->n : 0;
}
