/* test_sendq.c: the outgoing message FIFO (proto/sendq.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sendq.h"

#define HEADROOM 16

static void
test_order(void **state)
{
	struct bora_sendq q;
	struct bora_sendq_item *it;

	(void)state;
	bora_sendq_init(&q, HEADROOM, 1024);
	assert_null(bora_sendq_peek(&q));
	assert_int_equal(bora_sendq_push(&q, "one", 3), 0);
	assert_int_equal(bora_sendq_push(&q, "two!", 4), 0);
	assert_int_equal(bora_sendq_push(&q, "three", 5), 0);
	assert_int_equal(q.count, 3);
	assert_int_equal(q.bytes, 12);

	it = bora_sendq_peek(&q);
	assert_non_null(it);
	assert_int_equal(it->len, 3);
	assert_memory_equal(it->buf + q.headroom, "one", 3);
	/* peek does not remove */
	assert_ptr_equal(bora_sendq_peek(&q), it);
	bora_sendq_pop(&q);
	assert_int_equal(q.count, 2);
	assert_int_equal(q.bytes, 9);

	it = bora_sendq_peek(&q);
	assert_int_equal(it->len, 4);
	assert_memory_equal(it->buf + HEADROOM, "two!", 4);
	bora_sendq_pop(&q);
	it = bora_sendq_peek(&q);
	assert_int_equal(it->len, 5);
	assert_memory_equal(it->buf + HEADROOM, "three", 5);
	bora_sendq_pop(&q);

	assert_null(bora_sendq_peek(&q));
	assert_null(q.head);
	assert_null(q.tail);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	bora_sendq_pop(&q);         /* popping empty is harmless */

	/* usable again after draining */
	assert_int_equal(bora_sendq_push(&q, "again", 5), 0);
	assert_ptr_equal(q.head, q.tail);
	bora_sendq_clear(&q);
}

static void
test_headroom_layout(void **state)
{
	struct bora_sendq q;
	struct bora_sendq_item *it;
	unsigned char payload[100];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)i;
	bora_sendq_init(&q, HEADROOM, 1024);
	assert_int_equal(q.headroom, HEADROOM);
	assert_int_equal(bora_sendq_push(&q, payload, sizeof(payload)), 0);
	it = bora_sendq_peek(&q);
	assert_int_equal(it->len, sizeof(payload));
	assert_memory_equal(it->buf + HEADROOM, payload, sizeof(payload));
	/* the headroom is writable, as lws_write() needs (ASan checks) */
	memset(it->buf, 0xaa, HEADROOM);
	assert_memory_equal(it->buf + HEADROOM, payload, sizeof(payload));
	bora_sendq_clear(&q);

	/* no headroom at all, and empty payloads */
	bora_sendq_init(&q, 0, 16);
	assert_int_equal(bora_sendq_push(&q, "x", 1), 0);
	assert_int_equal(bora_sendq_push(&q, NULL, 0), 0);
	assert_memory_equal(bora_sendq_peek(&q)->buf, "x", 1);
	bora_sendq_pop(&q);
	assert_int_equal(bora_sendq_peek(&q)->len, 0);
	bora_sendq_clear(&q);
}

static void
test_cap(void **state)
{
	struct bora_sendq q;
	char big[64];

	(void)state;
	memset(big, 'b', sizeof(big));
	bora_sendq_init(&q, HEADROOM, 100);
	assert_int_equal(bora_sendq_push(&q, big, 60), 0);
	assert_int_equal(bora_sendq_push(&q, big, 40), 0);   /* exactly cap */
	assert_int_equal(q.bytes, 100);
	assert_int_equal(bora_sendq_push(&q, big, 1), -1);
	assert_int_equal(q.count, 2);                         /* nothing queued */
	assert_int_equal(q.bytes, 100);
	bora_sendq_pop(&q);
	assert_int_equal(bora_sendq_push(&q, big, 61), -1);
	assert_int_equal(bora_sendq_push(&q, big, 60), 0);
	assert_int_equal(q.bytes, 100);
	/* sizes that would overflow, even on an empty queue */
	bora_sendq_clear(&q);
	assert_int_equal(bora_sendq_push(&q, big, SIZE_MAX), -1);
	assert_int_equal(q.count, 0);
	/* one message larger than the cap fits an empty queue, nothing after */
	bora_sendq_init(&q, HEADROOM, 50);
	assert_int_equal(bora_sendq_push(&q, big, 64), 0);
	assert_int_equal(bora_sendq_push(&q, big, 1), -1);
	assert_int_equal(q.count, 1);
	bora_sendq_clear(&q);
	bora_sendq_init(&q, SIZE_MAX - 8, SIZE_MAX);
	assert_int_equal(bora_sendq_push(&q, big, 64), -1);
	assert_int_equal(q.count, 0);
}

static void
test_clear(void **state)
{
	struct bora_sendq q;
	int i;

	(void)state;
	bora_sendq_init(&q, HEADROOM, 1 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(bora_sendq_push(&q, "0123456789", 10), 0);
	assert_int_equal(q.count, 1000);
	assert_int_equal(q.bytes, 10000);
	bora_sendq_clear(&q);
	assert_null(bora_sendq_peek(&q));
	assert_null(q.tail);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	bora_sendq_clear(&q);       /* twice is harmless */
	assert_int_equal(q.cap, 1 << 20);
	assert_int_equal(bora_sendq_push(&q, "z", 1), 0);
	bora_sendq_clear(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_headroom_layout),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
