/* rxbuf.c: websocket message reassembly with a cap. */
#include <stdlib.h>
#include <string.h>

#include "rxbuf.h"

void
bora_rxbuf_init(struct bora_rxbuf *rx, size_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = max;
}

enum bora_rx_state
bora_rxbuf_add(struct bora_rxbuf *rx, const void *in, size_t len, int first,
    int final)
{
	if (first) {
		rx->len = 0;
		rx->total = 0;
		rx->oversize = 0;
	}
	rx->total += len;
	if (!rx->oversize && rx->len + len > rx->max) {
		rx->oversize = 1;
		rx->len = 0;
	}
	if (!rx->oversize && len > 0) {
		if (rx->len + len + 1 > rx->alloc) {
			size_t want = rx->alloc ? rx->alloc : 4096;
			char *grown;

			while (want < rx->len + len + 1)
				want *= 2;
			if (want > rx->max + 1)
				want = rx->max + 1;
			grown = realloc(rx->buf, want);
			if (grown == NULL) {
				rx->len = 0;
				return BORA_RX_NOMEM;
			}
			rx->buf = grown;
			rx->alloc = want;
		}
		memcpy(rx->buf + rx->len, in, len);
		rx->len += len;
		rx->buf[rx->len] = '\0';
	}
	if (!final)
		return BORA_RX_MORE;
	return rx->oversize ? BORA_RX_OVERSIZE : BORA_RX_READY;
}

void
bora_rxbuf_free(struct bora_rxbuf *rx)
{
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}
