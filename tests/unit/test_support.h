/* test_support.h: what several unit tests need (linked into every one). */
#ifndef BORA_TEST_SUPPORT_H
#define BORA_TEST_SUPPORT_H

/* Remove dir and everything below it (links themselves, never what they
 * point to). 0, or -1 with errno set. */
int test_rmtree(const char *dir);

#endif
