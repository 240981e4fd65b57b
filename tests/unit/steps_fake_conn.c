/* steps_fake_conn.c: see steps_fake_conn.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "msg.h"
#include "steps_fake_conn.h"

struct fake_conn fake_conn;

int __wrap_conn_is_up(void);
int __wrap_conn_send(const struct bora_msg *m);
int __wrap_conn_can_queue(size_t bytes);

int
__wrap_conn_is_up(void)
{
	return fake_conn.up;
}

int
__wrap_conn_send(const struct bora_msg *m)
{
	json_error_t jerr;
	size_t len = 0;
	char *text;
	json_t *j;

	if (!fake_conn.up || fake_conn.refuse)
		return -1;
	text = bora_msg_encode(m, &len);
	assert_non_null(text);
	j = json_loadb(text, len, 0, &jerr);
	free(text);
	assert_non_null(j);
	assert_int_equal(json_array_append_new(fake_conn.sent, j), 0);
	return 0;
}

int
__wrap_conn_can_queue(size_t bytes)
{
	return bytes <= fake_conn.room;
}

void
fake_conn_clear(void)
{
	json_decref(fake_conn.sent);
	fake_conn.sent = NULL;
}

void
fake_conn_reset(void)
{
	fake_conn_clear();
	fake_conn.up = 1;
	fake_conn.refuse = 0;
	fake_conn.room = (size_t)-1;
	fake_conn.sent = json_array();
	assert_non_null(fake_conn.sent);
}

json_t *
fake_conn_find(const char *type, const char *step)
{
	json_t *out = json_array(), *m;
	const char *t, *s;
	size_t i;

	assert_non_null(out);
	json_array_foreach(fake_conn.sent, i, m) {
		t = json_string_value(json_object_get(m, "type"));
		s = json_string_value(json_object_get(m, "step"));
		if ((type == NULL || (t && strcmp(t, type) == 0)) &&
		    (step == NULL || (s && strcmp(s, step) == 0)))
			json_array_append(out, m);
	}
	return out;
}

char *
fake_conn_output(const char *step, const char *stream)
{
	json_t *outs = fake_conn_find("output", step), *m;
	size_t i, len = 0, n;
	json_int_t seq = 0;
	const char *d;
	char *buf = malloc(1);

	assert_non_null(buf);
	json_array_foreach(outs, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "stream")),
		    stream) != 0)
			continue;
		assert_int_equal(json_integer_value(json_object_get(m, "seq")),
		    seq);
		seq++;
		d = json_string_value(json_object_get(m, "data"));
		n = strlen(d);
		buf = realloc(buf, len + n + 1);
		assert_non_null(buf);
		memcpy(buf + len, d, n);
		len += n;
	}
	buf[len] = '\0';
	json_decref(outs);
	return buf;
}
