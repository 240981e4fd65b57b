/*
 * dsl.h: workflow files (Mistral workflow language v2, the subset named in
 * docs/workflow-language.md) to a validated canonical JSON spec.
 *
 * The canonical form is one JSON object: {"version": "2.0", "name"?,
 * "description"?, "tags"?, "workflows": {NAME: workflow}}, every default
 * filled in, task-defaults merged into each task (see the doc).
 */
#ifndef BORA_DSL_H
#define BORA_DSL_H

#include <stddef.h>
#include <jansson.h>

#define DSL_FILE_MAX    (1024 * 1024)  /* bytes of one workflow file */
#define DSL_DEPTH_MAX   64             /* nesting of YAML collections */
#define DSL_NODES_MAX   100000         /* YAML nodes in one file */
#define DSL_ERRORS_MAX  100            /* errors kept; one more says so */

/* Errors, each "file:line:column: sentence" (1-based), sorted by position.
 * The strings and the array are the struct's; dsl_errors_free frees them
 * and leaves an empty struct, ready for reuse. */
struct dsl_errors {
	char **v;
	size_t n;
};

void dsl_errors_free(struct dsl_errors *e);

/*
 * Parse and validate len bytes of text (need not be NUL-terminated);
 * filename only names the place in errors. Returns a new canonical spec
 * (the caller's reference), or NULL with every error found appended to
 * *errs (zeroed by the caller before first use).
 */
json_t *dsl_parse(const char *text, size_t len, const char *filename,
    struct dsl_errors *errs);

/* dsl_parse of the file at path, refused over DSL_FILE_MAX bytes; read
 * errors are reported as "path: sentence". */
json_t *dsl_load_file(const char *path, struct dsl_errors *errs);

#endif
