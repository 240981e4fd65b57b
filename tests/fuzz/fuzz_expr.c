/*
 * fuzz_expr.c: the expression parser and evaluator (coordinator/lang/include/expr.h).
 *
 * The input is one string (cut at its first NUL): it is checked, searched
 * for task('...') references and evaluated with a small context, env,
 * execution and a task() callback that knows "build" and the current task;
 * then evaluated again as an object key and value through expr_eval_json.
 * The budget is kept small so that one input stays fast.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_EXPR_MAX   (64 * 1024)

/* Built once and never changed (evaluation shares nothing with them). */
static json_t *fuzz_ctx, *fuzz_env, *fuzz_exec, *fuzz_build, *fuzz_cur;

static const json_t *
fuzz_expr_task(void *user, const char *name)
{
	(void)user;
	if (name == NULL)
		return fuzz_cur;
	if (strcmp(name, "build") == 0)
		return fuzz_build;
	return NULL;
}

static void
fuzz_expr_init(void)
{
	fuzz_ctx = json_loads("{\"a\": 1, \"b\": \"two\", \"f\": 2.5, "
	    "\"t\": true, \"n\": null, \"list\": [1, 2, 3, \"x\"], "
	    "\"obj\": {\"k\": \"v\", \"deep\": {\"x\": [{\"y\": 1}]}}, "
	    "\"big\": 9223372036854775807, \"neg\": -9223372036854775807, "
	    "\"s\": \"hello world\", \"empty\": \"\"}", 0, NULL);
	fuzz_env = json_loads("{\"HOME\": \"/root\"}", 0, NULL);
	fuzz_exec = json_loads("{\"id\": \"x1\", \"input\": {\"p\": 1}}", 0,
	    NULL);
	fuzz_build = json_loads("{\"result\": [1, 2], \"state\": "
	    "\"SUCCESS\"}", 0, NULL);
	fuzz_cur = json_loads("{\"result\": {\"out\": 1}, \"state\": "
	    "\"RUNNING\"}", 0, NULL);
	if (!fuzz_ctx || !fuzz_env || !fuzz_exec || !fuzz_build || !fuzz_cur)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expr_env env;
	char err[256], *s;
	json_t *v, *names, *obj;

	if (size > FUZZ_EXPR_MAX)
		return 0;
	if (fuzz_ctx == NULL)
		fuzz_expr_init();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	(void)expr_has(s);
	(void)expr_check(s, err, sizeof(err));
	if ((names = json_array()) != NULL) {
		(void)expr_task_refs(s, names, err, sizeof(err));
		json_decref(names);
	}

	memset(&env, 0, sizeof(env));
	env.ctx = fuzz_ctx;
	env.env = fuzz_env;
	env.execution = fuzz_exec;
	env.task = fuzz_expr_task;
	env.budget = 20000;
	v = expr_eval_string(s, &env, err, sizeof(err));
	if (v != NULL)
		(void)expr_truthy(v);
	json_decref(v);
	v = expr_eval_string(s, NULL, err, sizeof(err));
	json_decref(v);

	/* as a key and a value inside JSON */
	obj = json_object();
	if (obj != NULL && json_object_set_new(obj, s, json_string(s)) == 0) {
		v = expr_eval_json(obj, &env, err, sizeof(err));
		json_decref(v);
	}
	json_decref(obj);
	free(s);
	return 0;
}
