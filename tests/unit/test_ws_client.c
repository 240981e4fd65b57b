/* test_ws_client.c: the websocket client of proto/ws_client.c on real
 * bytes: the accept check (RFC 6455's own example; a wrong accept is
 * refused), the upgrade headers, masked frames out (RFC 6455 5.7), and the
 * server's frames in: fragments, pings answered, close answered, caps and
 * every malformed frame refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ws_client.h"

/* RFC 6455 1.3 */
#define RFC_KEY     "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* A byte stream in memory: reads come from in (chunk bytes at most per
 * read, 0: all there is), writes go to out. */
struct mem_io {
	const unsigned char *in;
	size_t in_len, pos, chunk;
	unsigned char out[4096];
	size_t out_len;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	struct mem_io *m = ctx;
	size_t n = m->in_len - m->pos;

	(void)err;
	(void)errlen;
	if (n > len)
		n = len;
	if (m->chunk > 0 && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->in + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int
mem_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct mem_io *m = ctx;

	if (len > sizeof(m->out) - m->out_len) {
		snprintf(err, errlen, "test buffer full");
		return -1;
	}
	memcpy(m->out + m->out_len, buf, len);
	m->out_len += len;
	return 0;
}

static struct bora_ws_io
mem_io(struct mem_io *m, const void *in, size_t len, size_t chunk)
{
	struct bora_ws_io io = { mem_read, mem_write, m, "the coordinator" };

	memset(m, 0, sizeof(*m));
	m->in = in;
	m->in_len = len;
	m->chunk = chunk;
	return io;
}

/* One frame a client wrote at out[0..): its op, and its payload unmasked
 * into payload (the header checked: FIN, mask bit set). Its length. */
static size_t
client_frame(const unsigned char *out, size_t out_len, int *op,
    unsigned char *payload, size_t *plen)
{
	size_t h = 2, n, i;

	assert_true(out_len >= 6);
	assert_true(out[0] & 0x80);                 /* FIN */
	assert_int_equal(out[0] & 0x70, 0);         /* no reserved bit */
	assert_true(out[1] & 0x80);                 /* masked */
	*op = out[0] & 0x0f;
	n = out[1] & 0x7f;
	assert_true(n < 126);                       /* control frames here */
	for (i = 0; i < n; i++)
		payload[i] = out[h + 4 + i] ^ out[h + (i & 3)];
	*plen = n;
	return h + 4 + n;
}

/* ---- the upgrade ------------------------------------------------------- */

static void
test_accept_of_rfc_example(void **state)
{
	char out[BORA_WS_ACCEPT_LEN + 1];

	(void)state;
	bora_ws_accept_of(RFC_KEY, out);
	assert_string_equal(out, RFC_ACCEPT);
}

static void
test_accept_ok_refuses_a_wrong_accept(void **state)
{
	(void)state;
	assert_int_equal(bora_ws_accept_ok(RFC_KEY, RFC_ACCEPT), 1);
	assert_int_equal(bora_ws_accept_ok(RFC_KEY, " " RFC_ACCEPT "\r"), 1);
	/* one character off, cut, longer, empty, another key's */
	assert_int_equal(bora_ws_accept_ok(RFC_KEY,
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOp="), 0);
	assert_int_equal(bora_ws_accept_ok(RFC_KEY,
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"), 0);
	assert_int_equal(bora_ws_accept_ok(RFC_KEY, RFC_ACCEPT "x"), 0);
	assert_int_equal(bora_ws_accept_ok(RFC_KEY, ""), 0);
	assert_int_equal(bora_ws_accept_ok("AAAAAAAAAAAAAAAAAAAAAA==",
	    RFC_ACCEPT), 0);
	/* a key that is not 24 characters is no key of ours */
	assert_int_equal(bora_ws_accept_ok("dGhl", RFC_ACCEPT), 0);
}

static void
test_upgrade_headers_carry_a_fresh_key(void **state)
{
	char buf[512], buf2[512], key[BORA_WS_KEY_LEN + 1],
	    key2[BORA_WS_KEY_LEN + 1], want[128];
	unsigned char raw[32];
	int n;

	(void)state;
	n = bora_ws_upgrade_headers(buf, sizeof(buf), "bora.v1", key);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(strlen(key), BORA_WS_KEY_LEN);
	/* 16 random bytes, base64 */
	assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)key,
	    BORA_WS_KEY_LEN), 18);
	assert_string_equal(key + 22, "==");
	snprintf(want, sizeof(want), "Sec-WebSocket-Key: %s\r\n", key);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "Connection: Upgrade\r\n"));
	assert_non_null(strstr(buf, "Upgrade: websocket\r\n"));
	assert_non_null(strstr(buf, "Sec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr(buf, "Sec-WebSocket-Protocol: bora.v1\r\n"));
	assert_int_equal(buf[n - 1], '\n');
	/* another request, another key */
	assert_true(bora_ws_upgrade_headers(buf2, sizeof(buf2), "bora.v1",
	    key2) > 0);
	assert_string_not_equal(key, key2);
	/* too small a buffer: refused, never cut */
	assert_int_equal(bora_ws_upgrade_headers(buf, 40, "bora.v1", key), -1);
}

static void
test_response_check(void **state)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "sec-websocket-accept: " RFC_ACCEPT "\r\n"
	    "Sec-WebSocket-Protocol: bora.v1\r\n\r\n";
	static const char wrong[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n";
	static const char none[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n\r\n";
	static const char refused[] = "HTTP/1.1 401 Unauthorized\r\n"
	    "Content-Length: 0\r\n\r\n";
	static const char not101[] = "HTTP/1.1 1010 Nope\r\n"
	    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n";
	char err[256];

	(void)state;
	assert_int_equal(bora_ws_response_check(ok, strlen(ok), RFC_KEY,
	    "the coordinator", err, sizeof(err)), 0);
	/* the head without its empty line is as good */
	assert_int_equal(bora_ws_response_check(ok, strlen(ok) - 2, RFC_KEY,
	    "the coordinator", err, sizeof(err)), 0);
	assert_int_equal(bora_ws_response_check(wrong, strlen(wrong), RFC_KEY,
	    "the coordinator", err, sizeof(err)), -1);
	assert_string_equal(err, "the coordinator's websocket answer does not "
	    "match the request (Sec-WebSocket-Accept)");
	assert_int_equal(bora_ws_response_check(none, strlen(none), RFC_KEY,
	    "the coordinator", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(bora_ws_response_check(refused, strlen(refused),
	    RFC_KEY, "the coordinator", err, sizeof(err)), -1);
	assert_string_equal(err, "the coordinator refused the websocket "
	    "upgrade: HTTP/1.1 401 Unauthorized");
	assert_int_equal(bora_ws_response_check(not101, strlen(not101),
	    RFC_KEY, "the coordinator", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused"));
	/* the right accept for another key */
	assert_int_equal(bora_ws_response_check(ok, strlen(ok),
	    "AAAAAAAAAAAAAAAAAAAAAA==", "the coordinator", err, sizeof(err)),
	    -1);
}

/* ---- frames out -------------------------------------------------------- */

static void
test_frame_head_and_mask_rfc_example(void **state)
{
	/* RFC 6455 5.7: a single-frame masked text message "Hello" */
	static const unsigned char want[] = { 0x81, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char f[BORA_WS_HEAD_MAX + 5];
	size_t h;

	(void)state;
	h = bora_ws_frame_head(f, BORA_WS_OP_TEXT, 5, mask);
	assert_int_equal(h, 6);
	memcpy(f + h, "Hello", 5);
	bora_ws_mask(f + h, 5, mask);
	assert_memory_equal(f, want, sizeof(want));
	/* masking twice is the identity */
	bora_ws_mask(f + h, 5, mask);
	assert_memory_equal(f + h, "Hello", 5);
}

static void
test_frame_head_lengths(void **state)
{
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	static const unsigned char h126[] = { 0x81, 0xfe, 0x01, 0x00, 1, 2, 3,
	    4 };
	static const unsigned char h127[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0x01,
	    0x00, 0x00, 1, 2, 3, 4 };
	unsigned char f[BORA_WS_HEAD_MAX];

	(void)state;
	assert_int_equal(bora_ws_frame_head(f, BORA_WS_OP_TEXT, 125, mask), 6);
	assert_int_equal(f[1], 0x80 | 125);
	assert_int_equal(bora_ws_frame_head(f, BORA_WS_OP_TEXT, 256, mask), 8);
	assert_memory_equal(f, h126, sizeof(h126));
	assert_int_equal(bora_ws_frame_head(f, BORA_WS_OP_TEXT, 65535, mask),
	    8);
	assert_int_equal(f[2], 0xff);
	assert_int_equal(f[3], 0xff);
	assert_int_equal(bora_ws_frame_head(f, BORA_WS_OP_TEXT, 65536, mask),
	    14);
	assert_memory_equal(f, h127, sizeof(h127));
	assert_int_equal(bora_ws_frame_head(f, BORA_WS_OP_CLOSE, 2, mask), 6);
	assert_int_equal(f[0], 0x88);
}

static void
test_send_masks_and_keeps_the_data(void **state)
{
	char text[300], err[128];
	struct mem_io m;
	struct bora_ws_io io = mem_io(&m, NULL, 0, 0);
	unsigned char got[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	assert_int_equal(bora_ws_send(&io, BORA_WS_OP_TEXT, text, sizeof(text),
	    err, sizeof(err)), 0);
	assert_int_equal(m.out_len, 8 + sizeof(text));
	assert_int_equal(m.out[0], 0x81);
	assert_int_equal(m.out[1], 0x80 | 126);
	assert_int_equal(m.out[2] << 8 | m.out[3], (int)sizeof(text));
	for (i = 0; i < sizeof(text); i++)
		got[i] = m.out[8 + i] ^ m.out[4 + (i & 3)];
	assert_memory_equal(got, text, sizeof(text));
	assert_int_equal(text[0], 'a');             /* the caller's bytes */
	/* a control frame over 125 bytes is not sent */
	m.out_len = 0;
	assert_int_equal(bora_ws_send(&io, BORA_WS_OP_PING, text, 126, err,
	    sizeof(err)), -1);
	assert_int_equal(m.out_len, 0);
}

/* ---- frames in --------------------------------------------------------- */

/* recv on bytes, read chunk bytes at a time; returns its result. */
static int
recv_on(struct mem_io *m, const void *in, size_t len, size_t chunk,
    size_t max, char **msg, size_t *mlen, char *err, size_t errlen)
{
	struct bora_ws_io io = mem_io(m, in, len, chunk);

	return bora_ws_recv(&io, max, msg, mlen, err, errlen);
}

static void
test_recv_unmasked_text(void **state)
{
	/* RFC 6455 5.7: a single-frame unmasked text message */
	static const unsigned char in[] = { 0x81, 0x05, 'H', 'e', 'l', 'l',
	    'o' };
	struct mem_io m;
	char *msg, err[128];
	size_t len, chunk;

	(void)state;
	for (chunk = 0; chunk <= 2; chunk++) {      /* whole, 1 and 2 bytes */
		assert_int_equal(recv_on(&m, in, sizeof(in), chunk, 1024, &msg,
		    &len, err, sizeof(err)), 1);
		assert_int_equal(len, 5);
		assert_string_equal(msg, "Hello");
		assert_int_equal(m.out_len, 0);
		free(msg);
	}
}

static void
test_recv_fragments_with_a_ping_between(void **state)
{
	/* RFC 6455 5.7: "Hel" + "lo", and an unmasked ping between */
	static const unsigned char in[] = { 0x01, 0x03, 'H', 'e', 'l',
	    0x89, 0x05, 'H', 'e', 'l', 'l', 'o',
	    0x80, 0x02, 'l', 'o' };
	unsigned char payload[BORA_WS_CONTROL_MAX];
	struct mem_io m;
	char *msg, err[128];
	size_t len, plen;
	int op;

	(void)state;
	assert_int_equal(recv_on(&m, in, sizeof(in), 0, 1024, &msg, &len, err,
	    sizeof(err)), 1);
	assert_string_equal(msg, "Hello");
	free(msg);
	/* the ping was answered with a masked pong of the same payload */
	assert_int_equal(client_frame(m.out, m.out_len, &op, payload, &plen),
	    m.out_len);
	assert_int_equal(op, BORA_WS_OP_PONG);
	assert_int_equal(plen, 5);
	assert_memory_equal(payload, "Hello", 5);
}

static void
test_recv_lengths_16_and_64_bits(void **state)
{
	unsigned char in[10 + 300];
	struct mem_io m;
	char *msg, err[128];
	size_t len;

	(void)state;
	in[0] = 0x81;
	in[1] = 126;
	in[2] = 0x01;
	in[3] = 0x2c;                               /* 300 */
	memset(in + 4, 'x', 300);
	assert_int_equal(recv_on(&m, in, 4 + 300, 7, 300, &msg, &len, err,
	    sizeof(err)), 1);
	assert_int_equal(len, 300);
	assert_int_equal(strspn(msg, "x"), 300);
	free(msg);
	/* the same in the 64-bit form */
	memset(in + 2, 0, 8);
	in[1] = 127;
	in[8] = 0x01;
	in[9] = 0x2c;
	memset(in + 10, 'y', 300);
	assert_int_equal(recv_on(&m, in, 10 + 300, 0, 1024, &msg, &len, err,
	    sizeof(err)), 1);
	assert_int_equal(len, 300);
	assert_int_equal(msg[299], 'y');
	free(msg);
}

static void
test_recv_close_is_answered(void **state)
{
	static const unsigned char in[] = { 0x88, 0x02, 0x03, 0xe8 };
	static const unsigned char bare[] = { 0x88, 0x00 };
	unsigned char payload[BORA_WS_CONTROL_MAX];
	struct mem_io m;
	char *msg, err[128];
	size_t len, plen;
	int op;

	(void)state;
	assert_int_equal(recv_on(&m, in, sizeof(in), 0, 1024, &msg, &len, err,
	    sizeof(err)), 0);
	assert_null(msg);
	assert_string_equal(err, "the coordinator closed the websocket (code "
	    "1000)");
	client_frame(m.out, m.out_len, &op, payload, &plen);
	assert_int_equal(op, BORA_WS_OP_CLOSE);
	assert_int_equal(plen, 2);
	assert_int_equal(payload[0] << 8 | payload[1], 1000);
	assert_int_equal(recv_on(&m, bare, sizeof(bare), 0, 1024, &msg, &len,
	    err, sizeof(err)), 0);
	assert_string_equal(err, "the coordinator closed the websocket");
	client_frame(m.out, m.out_len, &op, payload, &plen);
	assert_int_equal(plen, 0);
}

/* Each of these is refused with err saying so, and nothing is returned. */
static void
test_recv_refuses_malformed_frames(void **state)
{
	static const struct {
		const char *what;
		unsigned char in[16];
		size_t len;
		const char *err;
	} c[] = {
		{ "masked", { 0x81, 0x85, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e' },
		    11, "malformed websocket frame" },
		{ "reserved bit", { 0xc1, 0x01, 'a' }, 3,
		    "malformed websocket frame" },
		{ "binary", { 0x82, 0x01, 'a' }, 3, "opcode 2" },
		{ "reserved opcode", { 0x83, 0x01, 'a' }, 3, "opcode 3" },
		{ "reserved control", { 0x8b, 0x00 }, 2, "opcode 11" },
		{ "continuation first", { 0x80, 0x01, 'a' }, 3, "opcode 0" },
		{ "text in a text", { 0x01, 0x01, 'a', 0x81, 0x01, 'b' }, 6,
		    "opcode 1" },
		{ "long control", { 0x89, 0x7e, 0x00, 0x7e }, 4,
		    "control frame" },
		{ "fragmented control", { 0x09, 0x01, 'a' }, 3,
		    "control frame" },
		{ "cut header", { 0x81 }, 1,
		    "without a websocket close frame" },
		{ "cut payload", { 0x81, 0x05, 'H', 'e' }, 4,
		    "without a websocket close frame" },
		{ "nothing", { 0 }, 0, "without a websocket close frame" },
	};
	struct mem_io m;
	char *msg, err[128];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = '\0';
		msg = (char *)1;
		assert_int_equal(recv_on(&m, c[i].in, c[i].len, 0, 1024, &msg,
		    &len, err, sizeof(err)), -1);
		assert_null(msg);
		if (strstr(err, c[i].err) == NULL)
			fail_msg("%s: err \"%s\" lacks \"%s\"", c[i].what, err,
			    c[i].err);
		assert_non_null(strstr(err, "the coordinator"));
	}
}

static void
test_recv_caps_a_message(void **state)
{
	static const unsigned char one[] = { 0x81, 0x05, 'H', 'e', 'l', 'l',
	    'o' };
	static const unsigned char two[] = { 0x01, 0x03, 'H', 'e', 'l',
	    0x80, 0x02, 'l', 'o' };
	/* announces 2^63 bytes: refused before any is read or allocated */
	static const unsigned char huge[] = { 0x81, 0x7f, 0x80, 0, 0, 0, 0, 0,
	    0, 0, 'x' };
	struct mem_io m;
	char *msg, err[128];
	size_t len;

	(void)state;
	assert_int_equal(recv_on(&m, one, sizeof(one), 0, 5, &msg, &len, err,
	    sizeof(err)), 1);
	free(msg);
	assert_int_equal(recv_on(&m, one, sizeof(one), 0, 4, &msg, &len, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "a websocket message from the coordinator is "
	    "over 4 bytes");
	/* the cap is on the joined message, not on each fragment */
	assert_int_equal(recv_on(&m, two, sizeof(two), 0, 4, &msg, &len, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "over 4 bytes"));
	assert_int_equal(m.pos, 7);                 /* "lo" not read */
	assert_int_equal(recv_on(&m, huge, sizeof(huge), 0, 1 << 20, &msg,
	    &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 1048576 bytes"));
	assert_int_equal(m.pos, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_of_rfc_example),
		cmocka_unit_test(test_accept_ok_refuses_a_wrong_accept),
		cmocka_unit_test(test_upgrade_headers_carry_a_fresh_key),
		cmocka_unit_test(test_response_check),
		cmocka_unit_test(test_frame_head_and_mask_rfc_example),
		cmocka_unit_test(test_frame_head_lengths),
		cmocka_unit_test(test_send_masks_and_keeps_the_data),
		cmocka_unit_test(test_recv_unmasked_text),
		cmocka_unit_test(test_recv_fragments_with_a_ping_between),
		cmocka_unit_test(test_recv_lengths_16_and_64_bits),
		cmocka_unit_test(test_recv_close_is_answered),
		cmocka_unit_test(test_recv_refuses_malformed_frames),
		cmocka_unit_test(test_recv_caps_a_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
