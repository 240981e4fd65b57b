/*
 * json_guard.c: nesting depth and "\u0000" pre-scan over raw JSON text.
 *
 * A small state machine: outside a string, '[' and '{' go one level down and
 * ']' and '}' one up; '"' enters a string; inside a string, '\\' escapes the
 * next byte and '"' leaves it. Nothing is allocated and nothing recurses, so
 * the cost is one pass over bytes the size check has already bounded.
 */
#include <string.h>

#include "json_guard.h"

int
bora_json_guard_scan(const char *buf, size_t len, int max_depth,
    struct bora_json_guard *g)
{
	int depth = 0, in_string = 0;
	size_t i;

	g->depth = 0;
	g->too_deep_at = len;
	g->nul_at = len;
	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (c == '"') {
				in_string = 0;
			} else if (c == '\\' && i + 1 < len) {
				i++;
				if (buf[i] == 'u' && g->nul_at == len &&
				    len - i > 4 && memcmp(buf + i + 1, "0000", 4) == 0)
					g->nul_at = i - 1;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = 1;
			break;
		case '[':
		case '{':
			depth++;
			if (depth > g->depth)
				g->depth = depth;
			if (depth > max_depth) {
				g->too_deep_at = i;
				return -1;
			}
			break;
		case ']':
		case '}':
			if (depth > 0)  /* unbalanced: the parser will say so */
				depth--;
			break;
		default:
			break;
		}
	}
	return 0;
}
