/*
 * rxbuf.h: reassemble one websocket message from its fragments, with a cap.
 *
 * libwebsockets hands a message over in pieces (frames, and pieces of
 * frames no larger than the protocol's rx buffer). A message larger than
 * the cap is not kept: its remaining pieces are skipped, and the caller is
 * told once, when the message ends, so it can answer with an error.
 */
#ifndef BORA_PROTO_RXBUF_H
#define BORA_PROTO_RXBUF_H

#include <stddef.h>

struct bora_rxbuf {
	char *buf;
	size_t len;                /* bytes of the current message so far */
	size_t alloc;
	size_t max;                /* cap for one message */
	size_t total;              /* bytes seen of the current message */
	int oversize;              /* current message passed the cap */
};

enum bora_rx_state {
	BORA_RX_MORE,              /* message not complete yet */
	BORA_RX_READY,             /* buf[0..len) is a complete message */
	BORA_RX_OVERSIZE,          /* a message ended that passed the cap;
	                              total says how large it was */
	BORA_RX_NOMEM,
};

void bora_rxbuf_init(struct bora_rxbuf *rx, size_t max);

/* Add a piece; first/final are lws_is_first_fragment() and
 * lws_is_final_fragment() && !lws_remaining_packet_payload(). After READY
 * or OVERSIZE the next piece starts a new message. */
enum bora_rx_state bora_rxbuf_add(struct bora_rxbuf *rx, const void *in,
    size_t len, int first, int final);

void bora_rxbuf_free(struct bora_rxbuf *rx);

#endif
