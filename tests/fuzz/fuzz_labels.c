/*
 * fuzz_labels.c: the label parser (proto/labels.h) on hostile text, as
 * `--labels` and config files give it. What parses is an object of at
 * most BORA_LABELS_MAX string values of at most BORA_LABEL_VALUE_MAX
 * bytes, and printed back as name=value,... it parses to the same object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *back;
	json_t *o, *again, *v;
	const char *k;
	size_t n = 0, len = 0;

	err[0] = '\0';
	o = bora_labels_parse((const char *)data, size, err, sizeof(err));
	if (o == NULL) {
		if (err[0] == '\0')
			abort();            /* a refusal says why */
		return 0;
	}
	if (!json_is_object(o) || json_object_size(o) > BORA_LABELS_MAX)
		abort();
	json_object_foreach(o, k, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > BORA_LABEL_VALUE_MAX)
			abort();
		len += strlen(k) + json_string_length(v) + 2;
	}
	if ((back = malloc(len + 1)) == NULL)
		abort();
	back[0] = '\0';
	json_object_foreach(o, k, v) {
		n += (size_t)snprintf(back + n, len + 1 - n, "%s%s=%s",
		    n ? "," : "", k, json_string_value(v));
	}
	again = bora_labels_parse(back, n, err, sizeof(err));
	if (again == NULL || !json_equal(o, again))
		abort();
	json_decref(again);
	json_decref(o);
	free(back);
	return 0;
}
