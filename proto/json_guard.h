/*
 * json_guard.h: a linear pre-scan of raw JSON text (internal to proto/).
 *
 * The scan runs before any parser allocates: it measures the nesting of
 * arrays and objects outside strings, so a message like [[[[...]]]] is
 * refused without recursion or a tree, and it notes "\u0000" escapes (the
 * encoder uses this to refuse text the decoder would refuse). It does not
 * check the syntax; the parser does that afterwards.
 */
#ifndef BORA_PROTO_JSON_GUARD_H
#define BORA_PROTO_JSON_GUARD_H

#include <stddef.h>

struct bora_json_guard {
	int depth;            /* deepest nesting seen; the top-level value's
	                         brackets are level 1 */
	size_t too_deep_at;   /* offset of the bracket that went past max_depth,
	                         or len */
	size_t nul_at;        /* offset of the first \u0000 escape in a string,
	                         or len */
};

/*
 * Scan len bytes of buf. Returns 0 when no nesting is deeper than max_depth,
 * -1 when some is (the scan stops there: g->too_deep_at, g->depth is then
 * max_depth + 1). g is always filled.
 */
int bora_json_guard_scan(const char *buf, size_t len, int max_depth,
    struct bora_json_guard *g);

#endif
