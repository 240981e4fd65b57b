/*
 * fuzz_dsl.c: the YAML workflow loader (coordinator/lang/include/dsl.h) on hostile text.
 * Every input gives exactly one of a canonical spec or errors.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dsl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsl_errors errs = { NULL, 0 };
	json_t *spec;

	if (size > DSL_FILE_MAX)
		return 0;
	spec = dsl_parse((const char *)data, size, "fuzz.yaml", &errs);
	if ((spec != NULL) == (errs.n > 0))
		abort();
	json_decref(spec);
	dsl_errors_free(&errs);
	return 0;
}
