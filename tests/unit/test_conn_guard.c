/* test_conn_guard.c: the caps on unauthenticated connections
 * (coordinator/agents/conn_guard.c), per address and in total. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "conn_guard.h"

static struct sockaddr_in
v4(const char *ip)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int
admit(int fd, const char *ip)
{
	struct sockaddr_in a = v4(ip);

	return conn_guard_admit(fd, (struct sockaddr *)&a, sizeof(a));
}

static int
teardown(void **state)
{
	(void)state;
	conn_guard_shutdown();
	return 0;
}

static void
test_per_source_and_total(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(conn_guard_init(5, 3, 64), 0);
	for (fd = 10; fd < 13; fd++)
		assert_int_equal(admit(fd, "192.0.2.1"), 1);
	assert_int_equal(admit(13, "192.0.2.1"), 0);      /* 4th from it */
	assert_int_equal(conn_guard_unauth_from("192.0.2.1"), 3);
	assert_int_equal(admit(14, "192.0.2.2"), 1);
	assert_int_equal(admit(15, "192.0.2.3"), 1);
	assert_int_equal(conn_guard_unauth(), 5);
	assert_int_equal(admit(16, "192.0.2.4"), 0);      /* total reached */
	assert_int_equal(conn_guard_unauth_from("192.0.2.4"), 0);
}

/* A descriptor admitted but never bound (lws could not adopt it) is
 * counted again only once when the number comes back. */
static void
test_descriptor_reused(void **state)
{
	(void)state;
	assert_int_equal(conn_guard_init(10, 2, 64), 0);
	assert_int_equal(admit(20, "198.51.100.7"), 1);
	assert_int_equal(admit(20, "198.51.100.7"), 1);
	assert_int_equal(conn_guard_unauth_from("198.51.100.7"), 1);
	assert_int_equal(admit(21, "198.51.100.7"), 1);
	assert_int_equal(admit(22, "198.51.100.7"), 0);
	/* out of range, or no address: refused, not counted */
	assert_int_equal(admit(64, "198.51.100.8"), 0);
	assert_int_equal(admit(-1, "198.51.100.8"), 0);
	assert_int_equal(conn_guard_unauth(), 2);
}

/* IPv4-mapped IPv6 counts with the IPv4 address. */
static void
test_v4_mapped(void **state)
{
	struct sockaddr_in6 a6;

	(void)state;
	assert_int_equal(conn_guard_init(10, 1, 64), 0);
	assert_int_equal(admit(3, "203.0.113.9"), 1);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:203.0.113.9", &a6.sin6_addr);
	assert_int_equal(conn_guard_admit(4, (struct sockaddr *)&a6,
	    sizeof(a6)), 0);
	assert_int_equal(conn_guard_unauth_from("203.0.113.9"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_per_source_and_total, teardown),
		cmocka_unit_test_teardown(test_descriptor_reused, teardown),
		cmocka_unit_test_teardown(test_v4_mapped, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
