/*
 * fuzz_msg.c: the wire protocol decoder (proto/msg.h) on hostile bytes.
 *
 * Every input goes through the nesting pre-scan and the UTF-8 checks on its
 * own, then through bora_msg_decode() with the default limits and with
 * small ones. A message that decodes must encode again, and that encoding
 * must decode (the encoder checks what the decoder checks); anything else
 * is a bug and aborts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "json_guard.h"
#include "msg.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode buf with lim; when it decodes, check the round trip. */
static void
fuzz_msg_decode(const char *buf, size_t size, const struct bora_limits *lim)
{
	struct bora_msg m = { 0 }, again = { 0 };
	struct bora_msg_err err;
	char *enc;
	size_t len;

	if (bora_msg_decode(buf, size, lim, &m, &err) != 0)
		return;
	(void)bora_msg_type_name(m.type);
	enc = bora_msg_encode(&m, &len);
	if (enc == NULL)
		abort();        /* a decoded message must encode */
	if (bora_msg_decode(enc, len, lim, &again, &err) != 0)
		abort();        /* and its encoding must decode */
	if (again.type != m.type)
		abort();
	bora_msg_free(&again);
	free(enc);
	bora_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bora_limits def = BORA_LIMITS_DEFAULT;
	static const struct bora_limits small = { 4096, 4 };
	const char *buf = (const char *)data;
	struct bora_json_guard g;
	size_t n;
	char *out;

	(void)bora_json_guard_scan(buf, size, BORA_MAX_DEPTH, &g);
	if (bora_utf8_check(buf, size) > size)
		abort();
	if (bora_utf8_incomplete_tail(buf, size) > 3)
		abort();
	if (size <= 64 * 1024 && (out = malloc(3 * size + 1)) != NULL) {
		n = bora_utf8_sanitize(buf, size, out);
		if (n > 3 * size || bora_utf8_check(out, n) != n)
			abort();   /* sanitized text is valid UTF-8 */
		free(out);
	}

	fuzz_msg_decode(buf, size, &def);
	fuzz_msg_decode(buf, size, &small);
	return 0;
}
