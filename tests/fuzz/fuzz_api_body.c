/*
 * fuzz_api_body.c: the REST request bodies (coordinator/api/api_int.h).
 *
 * Every input is offered to both POST parsers, as the routes do: the body
 * of POST /v1/steps (api_step_body_parse) and of POST /v1/executions
 * (api_json_body, then api_exec_req_parse, which runs the workflow text
 * through dsl_parse). Nothing is submitted or started.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api_int.h"
#include "dsl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_API_BODY_MAX (2 * 1024 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct dsl_errors errs = { NULL, 0 };
	struct api_step_req sr;
	struct api_exec_req xr;
	json_t *root;
	char err[512];
	int rc;

	if (size > FUZZ_API_BODY_MAX)
		return 0;
	root = api_step_body_parse(body, size, &sr, err, sizeof(err));
	json_decref(root);

	root = api_json_body(body, size, 0, err, sizeof(err));
	if (root != NULL) {
		rc = api_exec_req_parse(root, &xr, &errs, err, sizeof(err));
		if (rc == 0)
			json_decref(xr.spec);
		else if (rc == -2 && errs.n == 0)
			abort();    /* an invalid workflow says why */
		dsl_errors_free(&errs);
		json_decref(root);
	}
	return 0;
}
