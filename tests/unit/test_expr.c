/* test_expr.c: YAQL and Jinja expressions, their values and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "expr.h"

static const char ctx_text[] =
    "{\"n\": 3, \"s\": \"abc\", \"f\": 2.5, \"t\": true, \"z\": null,"
    " \"e\": \"\", \"u\": \"h\\u00e9!\","
    " \"list\": [1, 2, {\"c\": \"x\"}],"
    " \"obj\": {\"a\": {\"b\": [10, 20, {\"c\": 30}]}, \"key sp\": 1}}";

static json_t *ctx, *env_obj, *exec_obj, *task_build, *task_cur;

/* The engine's side of task(name). */
static const json_t *
lookup_task(void *user, const char *name)
{
	(void)user;
	if (name == NULL)
		return task_cur;
	if (strcmp(name, "build") == 0)
		return task_build;
	return NULL;
}

static struct expr_env env;

static int
setup(void **state)
{
	(void)state;
	ctx = json_loads(ctx_text, 0, NULL);
	env_obj = json_pack("{s:s}", "region", "eu");
	exec_obj = json_pack("{s:s}", "id", "ex1");
	task_build = json_pack("{s:[i,i],s:s}", "result", 1, 2, "state",
	    "SUCCESS");
	task_cur = json_pack("{s:{s:i},s:s}", "result", "out", 1, "state",
	    "RUNNING");
	assert_non_null(ctx);
	env.ctx = ctx;
	env.env = env_obj;
	env.execution = exec_obj;
	env.task = lookup_task;
	env.user = NULL;
	env.budget = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(ctx);
	json_decref(env_obj);
	json_decref(exec_obj);
	json_decref(task_build);
	json_decref(task_cur);
	return 0;
}

/* Evaluate s with e and compare the result's compact JSON with want. */
static void
check_env(const struct expr_env *e, const char *s, const char *want)
{
	char err[256] = "", *got;
	json_t *v;

	v = expr_eval_string(s, e, err, sizeof(err));
	if (v == NULL)
		fail_msg("%s: unexpected error: %s", s, err);
	got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15));
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", s, got, want);
	free(got);
	json_decref(v);
}

static void
check(const char *s, const char *want)
{
	check_env(&env, s, want);
}

/* Evaluating s fails with an error holding frag. */
static void
check_err_env(const struct expr_env *e, const char *s, const char *frag)
{
	char err[256] = "";
	json_t *v;

	v = expr_eval_string(s, e, err, sizeof(err));
	if (v != NULL) {
		json_decref(v);
		fail_msg("%s: no error, want '%s'", s, frag);
	}
	if (strstr(err, frag) == NULL)
		fail_msg("%s: error '%s' lacks '%s'", s, err, frag);
}

static void
check_err(const char *s, const char *frag)
{
	check_err_env(&env, s, frag);
}

/* s repeated n times, then tail; the caller frees. */
static char *
repeat(const char *head, const char *s, size_t n, const char *tail)
{
	size_t len = strlen(s), i;
	char *out = malloc(strlen(head) + len * n + strlen(tail) + 1), *p;

	assert_non_null(out);
	p = stpcpy(out, head);
	for (i = 0; i < n; i++)
		p = stpcpy(p, s);
	strcpy(p, tail);
	return out;
}

static void
test_has(void **state)
{
	(void)state;
	assert_true(expr_has("<% 1 %>"));
	assert_true(expr_has("a {{ _ }} b"));
	assert_true(expr_has("a <%"));
	assert_false(expr_has("plain < % { {"));
	assert_false(expr_has(""));
}

static void
test_literals(void **state)
{
	(void)state;
	check("<% 42 %>", "42");
	check("<% 2.5 %>", "2.5");
	check("<% 1e3 %>", "1000.0");
	check("<% 1.5e-1 %>", "0.15");
	check("<% 007 %>", "7");
	check_err("<% 'it''s' %>", "unexpected ''s''");
}

static void
test_literal_strings(void **state)
{
	(void)state;
	check("<% 'a\\'b' %>", "\"a'b\"");
	check("<% \"a\\\"b\\n\\t\\\\\" %>", "\"a\\\"b\\n\\t\\\\\"");
	check("<% '\\u00e9' %>", "\"\xc3\xa9\"");
	check("<% '\\ud83d\\ude00' %>", "\"\xf0\x9f\x98\x80\"");
	check("{{ \"x\" }}", "\"x\"");
	check("<% '' %>", "\"\"");
}

static void
test_literal_constants(void **state)
{
	(void)state;
	check("<% true %>", "true");
	check("<% false %>", "false");
	check("<% null %>", "null");
	check("{{ True }}", "true");
	check("{{ False }}", "false");
	check("{{ None }}", "null");
	check("{{ none }}", "null");
	check("{{ true }}", "true");
	/* YAQL keyword strings: a bare name is its own text */
	check("<% True %>", "\"True\"");
	check("<% None %>", "\"None\"");
	check("<% foo %>", "\"foo\"");
	check("<% n in $.obj.keys() %>", "false");
	check("<% a in $.obj.keys() %>", "true");
	check("<% $.obj.get(a).b[0] %>", "10");
	check_err("<% __x %>", "unknown name '__x' at offset 1");
	check_err("{{ foo }}", "unknown name 'foo' at offset 1");
}

static void
test_literal_collections(void **state)
{
	(void)state;
	check("<% [] %>", "[]");
	check("<% [1, 'a', [true, null]] %>", "[1,\"a\",[true,null]]");
	check("<% [1, 2,] %>", "[1,2]");
	check("{{ {} }}", "{}");
	check("{{ {'k': 1, \"j\": [2]} }}", "{\"k\":1,\"j\":[2]}");
	check("{{ {'a': {'b': 1}} }}", "{\"a\":{\"b\":1}}");
	check("<% {'k': $.n} %>", "{\"k\":3}");
	check_err("{{ {1: 2} }}", "object key must be a string, not a number");
	check_err("<% [1 2] %>", "expected ']' but found '2'");
	check_err("{{ {'a' 1} }}", "expected ':' but found '1'");
}

static void
test_context(void **state)
{
	(void)state;
	check("<% $.n %>", "3");
	check("<% $.obj.a.b[1] %>", "20");
	check("<% $.obj.a.b[2].c %>", "30");
	check("<% $.obj['key sp'] %>", "1");
	check("<% $['n'] %>", "3");
	check("<% $.list[-1].c %>", "\"x\"");
	check("<% $.missing %>", "null");
	check("<% $.list[3] %>", "null");
	check("<% $.list[-4] %>", "null");
	check("<% $.obj['nope'] %>", "null");
	check("<% $.z %>", "null");
	check("{{ _.obj.a.b[0] }}", "10");
	check("{{ _['s'] }}", "\"abc\"");
	check("<% $.not %>", "null");      /* keywords are fine as keys */
	check("<% len($) %>", "9");
	check("{{ len(_) }}", "9");
}

static void
test_context_empty(void **state)
{
	struct expr_env none = { NULL, NULL, NULL, NULL, NULL, 0 };

	(void)state;
	check_env(&none, "<% $ %>", "{}");
	check_env(&none, "{{ _.a }}", "null");
	check_env(NULL, "<% $.a %>", "null");
	check_env(NULL, "<% env() %>", "{}");
	check_env(NULL, "<% execution() %>", "{}");
	check_err_env(NULL, "<% task().result %>", "no current task");
	check_err_env(NULL, "<% task('a').result %>", "task 'a' not found");
}

static void
test_context_errors(void **state)
{
	(void)state;
	check_err("<% $.n.x %>", "cannot read '.x' of a number at offset 4");
	check_err("<% $.missing.b %>", "cannot read '.b' of null");
	check_err("<% $.list.x %>", "cannot read '.x' of a list");
	check_err("<% $.list['a'] %>", "list index must be an integer, not "
	    "a string");
	check_err("<% $.list[1.0] %>", "list index must be an integer");
	check_err("<% $.obj[1] %>", "object key must be a string, not a "
	    "number");
	check_err("<% $.n[0] %>", "cannot index a number");
	check_err("<% $.s[0] %>", "cannot index a string");
	check_err("<% $.0 %>", "expected a name after '.' but found '0'");
	check_err("<% $. %>", "expected a name after '.' but found the end");
	check_err("{{ $.n }}", "unexpected '$' (the context is '_' in Jinja)");
	check_err("<% _.n %>", "cannot read '.n' of a string at offset 2");
	check_err("<% $.list.nosuch() %>", "unknown method 'nosuch' at "
	    "offset 8");
	check_err("<% $.list.list() %>", "'list' is not a method; call it as "
	    "a function at offset 8");
}

static void
test_compare(void **state)
{
	(void)state;
	check("<% $.n = 3 %>", "true");
	check("<% $.n == 3 %>", "true");
	check("{{ _.n == 3 }}", "true");
	check("<% $.n != 3 %>", "false");
	check("<% 3 = 3.0 %>", "true");
	check("<% 1 < 2 %>", "true");
	check("<% 2 <= 2 %>", "true");
	check("<% 2.5 > 2 %>", "true");
	check("<% 2 >= 2.5 %>", "false");
	check("<% 'abc' < 'abd' %>", "true");
	check("<% 'ab' < 'abc' %>", "true");
	check("<% 'b' > 'abc' %>", "true");
	check("<% [1, {'a': [2.0]}] = [1.0, {'a': [2]}] %>", "true");
	check("<% {'a': 1, 'b': 2} = {'b': 2, 'a': 1} %>", "true");
	check("<% {'a': 1} = {'a': 1, 'b': 2} %>", "false");
	check("<% [1] = [1, 2] %>", "false");
	check("<% null = null %>", "true");
	check("<% null = false %>", "false");
	check("<% '1' = 1 %>", "false");
	check("<% $.list = [1, 2, {'c': 'x'}] %>", "true");
	check_err("<% 'a' < 1 %>", "cannot compare a string and a number");
	check_err("<% [1] < [2] %>", "cannot compare a list and a list");
	check_err("<% null < 1 %>", "cannot compare null and a number");
	check_err("<% 1 < 2 < 3 %>", "comparisons cannot be chained");
	check_err("{{ 1 = 1 }}", "unexpected '=' (use '==')");
}

static void
test_logic(void **state)
{
	(void)state;
	check("<% true and false %>", "false");
	check("<% true or false %>", "true");
	check("<% not true %>", "false");
	check("<% not not 1 %>", "true");
	check("<% 1 and 'x' %>", "true");
	check("<% 0 or '' %>", "false");
	check("<% false and $.n.x %>", "false");   /* never evaluated */
	check("<% true or $.n.x %>", "true");
	check("<% not $.n = 4 %>", "true");        /* not (n = 4) */
	check("<% true or false and false %>", "true");
	check("<% (true or false) and false %>", "false");
	check("{{ not _.e }}", "true");
	check_err("<% true and $.n.x %>", "cannot read '.x'");
	check_err("<% true and %>", "unexpected end");
	check_err("<% and %>", "unexpected 'and'");
}

static void
test_truthy(void **state)
{
	const char *falsy[] = { "null", "false", "0", "0.0", "\"\"", "[]",
	    "{}" };
	const char *truthy[] = { "true", "1", "-1", "0.5", "\" \"", "[0]",
	    "{\"a\":null}" };
	json_t *v;
	size_t i;

	(void)state;
	assert_false(expr_truthy(NULL));
	for (i = 0; i < 7; i++) {
		v = json_loads(falsy[i], JSON_DECODE_ANY, NULL);
		assert_false(expr_truthy(v));
		json_decref(v);
		v = json_loads(truthy[i], JSON_DECODE_ANY, NULL);
		assert_true(expr_truthy(v));
		json_decref(v);
	}
	check("<% not $.z and not $.e and not [] and not {} and not 0.0 %>",
	    "true");
}

static void
test_arith(void **state)
{
	(void)state;
	check("<% 1 + 2 * 3 %>", "7");
	check("<% (1 + 2) * 3 %>", "9");
	check("<% 10 - 2 - 3 %>", "5");
	check("<% -2 * 3 %>", "-6");
	check("<% - - 2 %>", "2");
	check("<% +2 %>", "2");
	check("<% -$.f %>", "-2.5");
	check("<% $.n + 0.5 %>", "3.5");
	check("<% 7 / 2 %>", "3");
	check("<% -7 / 2 %>", "-4");
	check("{{ 7 / 2 }}", "3.5");
	check("<% 7.0 / 2 %>", "3.5");
	check("<% 7 mod 3 %>", "1");
	check("<% -7 mod 3 %>", "2");
	check("<% 7 mod -3 %>", "-2");
	check("{{ 7 % 3 }}", "1");
	check("{{ 7.5 % 2 }}", "1.5");
	check("<% 2 * 2.5 %>", "5.0");
	check("<% 1 + 2 = 3 %>", "true");
	check("<% 9223372036854775807 %>", "9223372036854775807");
}

static void
test_arith_errors(void **state)
{
	(void)state;
	check_err("<% 1 / 0 %>", "division by zero at offset 3");
	check_err("<% 1 mod 0 %>", "division by zero");
	check_err("{{ 1.0 / 0 }}", "division by zero");
	check_err("{{ 1 % 0.0 }}", "division by zero");
	check_err("<% 9223372036854775807 + 1 %>", "integer overflow");
	check_err("<% -9223372036854775807 - 2 %>", "integer overflow");
	check_err("<% 4611686018427387904 * 2 %>", "integer overflow");
	check_err("<% (-9223372036854775807 - 1) / -1 %>", "integer overflow");
	check_err("<% -(-9223372036854775807 - 1) %>", "integer overflow");
	check_err("<% 9223372036854775808 %>", "integer too large");
	check_err("<% 1e999 %>", "number out of range");
	check_err("<% 1e300 * 1e300 %>", "number out of range");
	check_err("<% 'a' + 1 %>", "cannot add a string and a number");
	check_err("<% [1] + 'a' %>", "cannot add a list and a string");
	check_err("<% 'a' - 'a' %>", "cannot subtract a string and a string");
	check_err("<% 'a' / 2 %>", "cannot divide a string and a number");
	check_err("<% 'a' mod 2 %>", "cannot take the modulo of a string");
	check_err("<% 'a' * 'b' %>", "cannot multiply a string and a string");
	check_err("<% -'a' %>", "cannot negate a string");
	check_err("<% +null %>", "unary '+' needs a number, not null");
	check_err("<% 1 % 2 %>", "unexpected '%'");
	check_err("{{ 1 mod 2 }}", "unexpected 'mod'");
	check_err("<% 1 ~ 2 %>", "unexpected '~'");
}

static void
test_concat(void **state)
{
	(void)state;
	check("<% 'a' + 'b' %>", "\"ab\"");
	check("<% $.s + '-' + $.u %>", "\"abc-h\xc3\xa9!\"");
	check("<% [1] + [2, 3] %>", "[1,2,3]");
	check("<% [] + [] %>", "[]");
	check("{{ 'n=' ~ _.n }}", "\"n=3\"");
	check("{{ _.list ~ 1.5 ~ none }}",
	    "\"[1,2,{\\\"c\\\":\\\"x\\\"}]1.5null\"");
	check("{{ 1 ~ 2 + 3 }}", "\"15\"");     /* ~ binds looser than + */
	check("<% 'ab' * 3 %>", "\"ababab\"");
	check("<% 2 * 'ab' %>", "\"abab\"");
	check("<% 'ab' * 0 %>", "\"\"");
	check("<% 'ab' * -1 %>", "\"\"");
	check("<% [1, 2] * 2 %>", "[1,2,1,2]");
	check("<% 0 * [1] %>", "[]");
	/* nothing repeated a huge number of times is nothing, at once (the
	 * fuzzer found [] * 44444444444 looping for 995 s) */
	check("<% [] * 44444444444444 %>", "[]");
	check("<% [1] * 0 * 44444444444444 %>", "[]");
	check("<% '' * 44444444444444 %>", "\"\"");
}

static void
test_in(void **state)
{
	(void)state;
	check("<% 2 in $.list %>", "true");
	check("<% 2.0 in $.list %>", "true");
	check("<% {'c': 'x'} in $.list %>", "true");
	check("<% 5 in $.list %>", "false");
	check("<% 'a' in $.obj %>", "true");
	check("<% 'b' in $.obj %>", "false");
	check("<% 1 in $.obj %>", "false");
	check("<% 'bc' in $.s %>", "true");
	check("<% '' in $.s %>", "true");
	check("<% 'x' in $.s %>", "false");
	check("{{ 5 not in _.list }}", "true");
	check("<% 2 not in $.list %>", "false");
	check("<% not 2 in $.list %>", "false");
	check_err("<% 1 in 'abc' %>", "'in' a string needs a string on the "
	    "left, not a number");
	check_err("<% 1 in 2 %>", "'in' needs a list, object or string on "
	    "the right, not a number");
	check_err("<% 1 in %>", "unexpected end");
}

static void
test_funcs_task(void **state)
{
	(void)state;
	check("<% task('build').result %>", "[1,2]");
	check("<% task(\"build\").state %>", "\"SUCCESS\"");
	/* the name unquoted, as Mistral's documents write it */
	check("<% task(build).result %>", "[1,2]");
	check("{{ task(build).state }}", "\"SUCCESS\"");
	check_err("<% task(deploy).result %>", "task 'deploy' not found "
	    "at offset 1");
	check("<% task().result.out %>", "1");
	check("{{ task().state }}", "\"RUNNING\"");
	check("<% task('build').nope %>", "null");
	check_err("<% task('deploy').result %>", "task 'deploy' not found "
	    "at offset 1");
	check_err("<% task(1) %>", "task() needs a task name, not a number");
	check_err("<% task('a', 'b') %>", "task() takes 0 to 1 arguments");
}

static void
test_funcs(void **state)
{
	(void)state;
	check("<% env().region %>", "\"eu\"");
	check("{{ execution().id }}", "\"ex1\"");
	check("<% len($.s) %>", "3");
	check("<% len($.u) %>", "3");           /* characters, not bytes */
	check("<% len($.list) %>", "3");
	check("<% len($.obj) %>", "2");
	check("<% len('') %>", "0");
	check("<% json_parse('{\"a\": [1, 2.5]}') %>", "{\"a\":[1,2.5]}");
	check("<% json_parse('7') %>", "7");
	check("<% json_dump($.list) %>", "\"[1,2,{\\\"c\\\":\\\"x\\\"}]\"");
	check("<% json_dump('a\"b') %>", "\"\\\"a\\\\\\\"b\\\"\"");
	check("<% json_dump(0.1) %>", "\"0.1\"");
	check("<% json_dump([0.1, 1.0, null]) %>", "\"[0.1,1.0,null]\"");
	check("<% str($.n) %>", "\"3\"");
	check("<% str($.s) %>", "\"abc\"");
	check("<% str(null) %>", "\"null\"");
	check("<% str(true) %>", "\"true\"");
	check("<% str({'a': 1}) %>", "\"{\\\"a\\\":1}\"");
	check("<% int('42') %>", "42");
	check("<% int(' -7 ') %>", "-7");
	check("<% int(3.9) %>", "3");
	check("<% int(-3.9) %>", "-3");
	check("<% int(true) %>", "1");
	check("<% int(5) %>", "5");
	check("<% len(str(123)) + int('1') %>", "4");
}

/* YAQL's collection functions, as functions and as methods. */
static void
test_funcs_coll(void **state)
{
	struct expr_env big;

	(void)state;
	check("<% $.list.len() %>", "3");
	check("<% $.s.len() + 1 %>", "4");
	check("<% list() %>", "[]");
	check("<% list(1, 'a', [2]) %>", "[1,\"a\",[2]]");
	check("<% range(3) %>", "[0,1,2]");
	check("<% range(1, 4) %>", "[1,2,3]");
	check("<% range(5, 0, -2) %>", "[5,3,1]");
	check("<% range(2, 1) %>", "[]");
	check("<% $.obj.keys() %>", "[\"a\",\"key sp\"]");
	check("<% {'x': 1, 'y': [2]}.values() %>", "[1,[2]]");
	check("<% {'x': 1}.items() %>", "[[\"x\",1]]");
	check("<% $.obj.get('key sp') %>", "1");
	check("<% $.obj.get('none') %>", "null");
	check("<% $.obj.get('none', 7) %>", "7");
	check("<% $.list.contains(2) %>", "true");
	check("<% $.list.contains({'c': 'x'}) %>", "true");
	check("<% $.list.contains(9) %>", "false");
	check("<% $.obj.contains('a') %>", "true");
	check("<% $.obj.containsKey('b') %>", "false");
	check("<% $.list.first() %>", "1");
	check("<% [].first(5) %>", "5");
	check("<% last([1, 2, 3]) %>", "3");
	check("<% [1, 2, 1, [3], [3]].distinct() %>", "[1,2,[3]]");
	check("<% [1, [2, [3, []]], 4].flatten() %>", "[1,2,3,4]");
	check("<% [1, 2, 3].sum() %>", "6");
	check("<% [1, 2.5].sum() %>", "3.5");
	check("<% [].sum() %>", "0");
	check("<% [3, 1, 2].min() %>", "1");
	check("<% max(['a', 'c', 'b']) %>", "\"c\"");
	check("<% min(4, 2) %>", "2");
	check("<% [1, 'a', true, null].join(',') %>", "\"1,a,true,null\"");
	check("<% '-'.join(['x', 'y']) %>", "\"x-y\"");
	check("<% $.obj.a.b.len() %>", "3");
	check("<% [1, 2, 3].where($ > 1) %>", "[2,3]");
	check("<% [1, 2, 3].where($ > 1).select($ * 10) %>", "[20,30]");
	check("<% [{'x': 1}, {'x': 2}].where($.x = 2).first().x %>", "2");
	check("<% $.list.select(isDict($)) %>", "[false,false,true]");
	check("<% [[1, 2], [3]].select($.select($ + 1)) %>", "[[2,3],[4]]");
	check("<% [0, '', 3].any() %>", "true");
	check("<% [1, 2].any($ > 5) %>", "false");
	check("<% [1, 2].all($ > 0) %>", "true");
	check("<% [].all($ > 0) %>", "true");
	check("<% [1].select(2) %>", "[2]");

	check_err("<% range(1, 2, 0) %>", "range(): step must not be zero "
	    "at offset 1");
	check_err("<% range('a') %>", "range() needs integers, not a string "
	    "at offset 1");
	big = env;
	big.budget = 10000000;
	check_err_env(&big, "<% range(1000000) %>", "range(): more than "
	    "131072 items");
	check_err("<% range(1000000) %>", "evaluation budget of 100000 "
	    "steps exceeded");
	check_err("<% $.n.keys() %>", "keys() needs an object, not a number "
	    "at offset 5");
	check_err("<% $.list.get(0) %>", "get() needs an object, not a list");
	check_err("<% 'abc'.contains('a') %>", "contains() needs a list or "
	    "object, not a string");
	check_err("<% $.list.containsKey(1) %>", "containsKey() needs an "
	    "object, not a list");
	check_err("<% [].first() %>", "first(): the list is empty at "
	    "offset 4");
	check_err("<% [1, 'a'].sum() %>", "sum() needs a list of numbers, "
	    "not a string");
	check_err("<% [1, 'a'].max() %>", "max(): cannot compare a string "
	    "with a number");
	check_err("<% [].min() %>", "min(): the list is empty");
	check_err("<% [1].join(2) %>", "join() needs a list and a string");
	check_err("<% $.obj.where($) %>", "where() needs a list, not an "
	    "object at offset 7");
	check_err("<% [1, 2].select($.x) %>", "cannot read '.x' of a number "
	    "at offset 16");
	check_err("<% [1].all() %>", "all() takes 1 argument");
	check_err("{{ _.list.len() }}", "method calls are not supported in "
	    "Jinja");
	check_err("<% $.list.len(1) %>", "len() takes 0 arguments at "
	    "offset 8");
	check_err("<% $.list.get() %>", "get() takes 1 to 2 arguments");
}

/* Types, prefixes and uuid(). */
static void
test_funcs_misc(void **state)
{
	char err[256] = "";
	json_t *v;

	(void)state;
	check("<% bool($.e) %>", "false");
	check("<% $.list.bool() %>", "true");
	check("<% float('2.5') %>", "2.5");
	check("<% float(2) %>", "2.0");
	check("<% isInteger(1) %>", "true");
	check("<% isInteger(true) %>", "false");
	check("<% isNumber($.f) %>", "true");
	check("<% isString($.s) and isList($.list) and isDict($.obj) "
	    "and isBoolean($.t) %>", "true");
	check("<% $.s.startsWith('x', 'ab') %>", "true");
	check("<% $.s.endsWith('abcd') %>", "false");
	check("<% endsWith($.s, 'bc') %>", "true");
	check_err("<% float('nan') %>", "float(): 'nan' is not a number at "
	    "offset 1");
	check_err("<% float([]) %>", "float() needs a number, string or "
	    "boolean, not a list");
	check_err("<% $.s.startsWith(1) %>", "startsWith() needs strings, "
	    "not a number at offset 5");
	check_err("<% $.s.startsWith() %>", "startsWith() takes 1 to 7 "
	    "arguments");
	v = expr_eval_string("<% uuid() %>", &env, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(json_string_length(v), 36);
	assert_int_equal(json_string_value(v)[14], '4');
	json_decref(v);
}

static void
test_funcs_errors(void **state)
{
	(void)state;
	check_err("<% len(1) %>", "len() needs a string, list or object, not "
	    "a number");
	check_err("<% len() %>", "len() takes 1 argument");
	check_err("<% len(1, 2) %>", "len() takes 1 argument");
	check_err("<% len(1,) %>", "unexpected ')'");
	check_err("<% env(1) %>", "env() takes 0 arguments");
	check_err("<% json_parse('{') %>", "json_parse(): ");
	check_err("<% json_parse(1) %>", "json_parse() needs a string, not "
	    "a number");
	check_err("<% int('1.5') %>", "int(): '1.5' is not an integer");
	check_err("<% int('') %>", "int(): '' is not an integer");
	check_err("<% int('99999999999999999999') %>", "int(): number out "
	    "of range");
	check_err("<% int(1e300) %>", "int(): number out of range");
	check_err("<% int([1]) %>", "int() needs a number, string or "
	    "boolean, not a list");
	check_err("<% nosuch(1) %>", "unknown function 'nosuch' at offset 1");
	check_err("<% len(1)(2) %>", "unexpected '('");
}

static void
test_stringify(void **state)
{
	(void)state;
	check("<% $.n %>", "3");
	check("  <% $.n %> \n", "3");
	check("{{ _.list }}", "[1,2,{\"c\":\"x\"}]");
	check("port <% $.n %>!", "\"port 3!\"");
	check("<% $.s %>-{{ _.s }}", "\"abc-abc\"");
	check("x<% $.z %>", "\"xnull\"");
	check("<% $.t %> ", "true");
	check("a <% $.list %>", "\"a [1,2,{\\\"c\\\":\\\"x\\\"}]\"");
	check("f=<% $.f %> g=<% 0.1 %> h=<% 2.0 %>", "\"f=2.5 g=0.1 h=2.0\"");
	check("<% $.n %><% $.n %>", "\"33\"");
	check("no expression", "\"no expression\"");
	check("", "\"\"");
	check("a % > {  {", "\"a % > {  {\"");
	check("<% '%>' %>", "\"%>\"");          /* quotes hide the closer */
	check("{{ '}}' }}", "\"}}\"");
	check("{{ [{'a': [1]}] }}", "[{\"a\":[1]}]");
	check("x {{ {'a': {'b': 1}} }} y", "\"x {\\\"a\\\":{\\\"b\\\":1}} y\"");
}

static void
test_result_is_a_copy(void **state)
{
	char err[256];
	json_t *v;

	(void)state;
	v = expr_eval_string("<% $.obj %>", &env, err, sizeof(err));
	assert_non_null(v);
	json_object_set_new(v, "added", json_true());
	json_decref(v);
	assert_null(json_object_get(json_object_get(ctx, "obj"), "added"));
}

static void
test_error_format(void **state)
{
	char err[256];
	json_t *v;

	(void)state;
	v = expr_eval_string("<% $.a + %>", &env, err, sizeof(err));
	assert_null(v);
	assert_string_equal(err, "expression '<% $.a + %>': unexpected end "
	    "at offset 7");
	v = expr_eval_string("text {{ _.n | json_dump }}", &env, err,
	    sizeof(err));
	assert_null(v);
	assert_string_equal(err, "expression '{{ _.n | json_dump }}': "
	    "filters are not supported at offset 5");
	assert_int_equal(expr_check("<% $.a\n+ %>", err, sizeof(err)), -1);
	assert_string_equal(err, "expression '<% $.a + %>': unexpected end "
	    "at offset 7");
	/* Small buffers are cut, never overrun. */
	assert_int_equal(expr_check("<% ) %>", err, 12), -1);
	assert_string_equal(err, "expression ");
}

static void
test_error_long_expression(void **state)
{
	char err[256], *s;

	(void)state;
	s = repeat("<% 1", " + 1", 40, " + 'a' %>");
	assert_int_equal(expr_check(s, err, sizeof(err)), 0);
	assert_null(expr_eval_string(s, &env, err, sizeof(err)));
	assert_non_null(strstr(err, "...': cannot add a number and a string "
	    "at offset 163"));
	assert_int_equal(strstr(err, "...'") - err, strlen("expression '") +
	    77);
	free(s);
	/* A cut inside a multi-byte character backs off to its start. */
	s = repeat("<%   ", "'\xc3\xa9' + ", 30, " %>");
	assert_int_equal(expr_check(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\xc3\xa9' + '...': unexpected end"));
	free(s);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	check_err("<% $.a", "expression '<% $.a': missing '%>' at offset 4");
	check_err("x {{ _.a }", "missing '}}' at offset 6");
	check_err("<% 1 %> <% 2", "expression '<% 2': missing '%>'");
	check_err("<% 'abc %>", "unterminated string at offset 1");
	check_err("{{ \"abc }}", "unterminated string at offset 1");
	check_err("<% 'a\\' %>", "unterminated string");
	check_err("<% %>", "empty expression at offset 1");
	check_err("{{}}", "empty expression at offset 0");
	check_err("<% 1 # 2 %>", "unexpected character '#' at offset 3");
	check_err("<% 1 \x01 %>", "unexpected character 0x01");
	check_err("<% 'a\\q' %>", "bad escape '\\q' at offset 3");
	check_err("<% '\\u12' %>", "bad \\u escape");
	check_err("<% '\\ud800' %>", "bad \\u escape");
	check_err("<% '\\u0000' %>", "bad \\u escape");
	check_err("<% '\xff' %>", "string is not valid UTF-8");
	check_err("<% (1 %>", "expected ')' but found the end");
	check_err("<% 1) %>", "unexpected ')' at offset 2");
	check_err("<% 1 2 %>", "unexpected '2' at offset 3");
	check_err("<% $a %>", "unexpected 'a'");
	check_err("{{ 1 | 2 }}", "filters are not supported");
	check_err("{{ (1 | 2) }}", "filters are not supported");
	check_err("<% 1 | 2 %>", "unexpected '|'");
	check_err("\xff<% 1 %>", "not valid UTF-8");
	check_err("\xff", "not valid UTF-8");
}

static void
test_hostile_nesting(void **state)
{
	char *s, *t;

	(void)state;
	s = repeat("<% ", "(", 100000, "1 %>");
	check_err(s, "nesting deeper than 64 levels");
	free(s);
	s = repeat("<% ", "[", 100000, " %>");
	check_err(s, "nesting deeper than 64 levels");
	free(s);
	s = repeat("{{ ", "{'a':", 100000, " }}");
	check_err(s, "missing '}}'");           /* never balanced */
	free(s);
	s = repeat("<% ", "-", 100000, "1 %>");
	check_err(s, "nesting deeper than 64 levels");
	free(s);
	s = repeat("<% ", "not ", 100000, "1 %>");
	check_err(s, "nesting deeper than 64 levels");
	free(s);
	s = repeat("<% 1", " + 1", 100000, " %>");
	check_err(s, "expression deeper than 256 levels");
	free(s);
	s = repeat("<% $", ".a", 100000, " %>");
	check_err(s, "expression deeper than 256 levels");
	free(s);
	s = repeat("<% ", "(", 60, "1");
	check_err(s, "missing '%>'");
	free(s);
	/* Within the limits: fine. */
	s = repeat("<% ", "(", 60, "1");
	t = repeat(s, ")", 60, " %>");
	check(t, "1");
	free(t);
	free(s);
	s = repeat("<% 0", " + 1", 200, " %>");
	check(s, "200");
	free(s);
}

static void
test_hostile_size(void **state)
{
	struct expr_env small = env;
	char *s;

	(void)state;
	check_err("<% 'x' * 2000000 %>", "string longer than 1048576 bytes");
	check_err("<% 'ab' * 9223372036854775807 %>", "string longer than");
	check_err("<% [1] * 1000000 %>", "list longer than 131072 items");
	check_err("<% ('abc' * 30000) + ('abc' * 30000) %>",
	    "evaluation budget of 100000 steps exceeded");
	check("<% len('abc' * 30000) %>", "90000");
	small.budget = 1000000000;
	check_err_env(&small, "<% len(('x' * 600000) + ('x' * 600000)) %>",
	    "string longer than 1048576 bytes");
	check_err_env(&small, "{{ ('x' * 600000) ~ ('x' * 600000) }}",
	    "string longer than 1048576 bytes");
	check_err_env(&small, "<% 'x' * 600000 %><% 'x' * 600000 %>",
	    "result longer than 1048576 bytes");
	check_err_env(&small, "<% json_dump(['x' * 600000, 'x' * 600000]) %>",
	    "json_dump() output longer than 1048576 bytes");
	small.budget = 5;
	check_env(&small, "<% 1 + 2 %>", "3");
	check_err_env(&small, "<% 1 + 2 + 3 + 4 %>", "evaluation budget of "
	    "5 steps exceeded");
	/* Text spliced into a string is charged too. */
	small.budget = 40;
	check_env(&small, "<% 'abc' * 10 %>",
	    "\"abcabcabcabcabcabcabcabcabcabc\"");
	check_err_env(&small, "x<% 'abc' * 10 %>", "expression '<% 'abc' * 10 "
	    "%>': evaluation budget of 40 steps exceeded at offset 0");
	/* Comparing values costs a step per value compared. */
	small.budget = 100;
	s = repeat("<% true", " and $.list = $.list", 6, " %>");
	check_env(&small, s, "true");
	free(s);
	s = repeat("<% true", " and $.list = $.list", 10, " %>");
	check_err_env(&small, s, "budget of 100 steps exceeded");
	free(s);
}

static void
test_check(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(expr_check("plain", err, sizeof(err)), 0);
	assert_int_equal(expr_check("<% task('x').result %> {{ _.y }}", err,
	    sizeof(err)), 0);
	/* No evaluation: runtime errors are not parse errors. */
	assert_int_equal(expr_check("<% 1 / 0 %>", err, sizeof(err)), 0);
	assert_int_equal(expr_check("<% 1 %> {{ nosuch() }}", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "expression '{{ nosuch() }}': unknown "
	    "function 'nosuch' at offset 1");
	assert_int_equal(expr_check("{{ 1 }} <% ", err, sizeof(err)), -1);
	assert_string_equal(err, "expression '<% ': missing '%>' at offset 1");
}

static void
test_task_refs(void **state)
{
	char err[256];
	json_t *names = json_array(), *want;

	(void)state;
	json_array_append_new(names, json_string("pre"));
	assert_int_equal(expr_task_refs("<% task('a').result + "
	    "task(\"b\").result %> {{ task('a') }} <% task().x %> "
	    "<% task($.n) %> <% [task('pre'), len(task('c'))] %> "
	    "<% task(d).result %>", names, err, sizeof(err)), 0);
	want = json_pack("[s,s,s,s,s]", "pre", "a", "b", "c", "d");
	assert_true(json_equal(names, want));
	json_decref(want);
	assert_int_equal(expr_task_refs("<% task('z' %>", names, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "expected ')' but found the end"));
	assert_int_equal(json_array_size(names), 5);
	assert_int_equal(expr_task_refs("none", names, err, sizeof(err)), 0);
	json_decref(names);
	assert_int_equal(expr_task_refs("<% 1 %>", NULL, err, sizeof(err)),
	    -1);
}

static void
test_eval_json(void **state)
{
	char err[256], *got;
	json_t *in, *out;

	(void)state;
	in = json_loads("{\"a\": \"<% $.n %>\", \"b\": [\"x{{ _.s }}\", 1, "
	    "null, {\"c\": \"<% $.list[0] = 1 %>\"}], \"<% $.s %>\": 2.5, "
	    "\"<% $.n %>\": \"k\", \"plain\": \"text\"}", 0, NULL);
	assert_non_null(in);
	out = expr_eval_json(in, &env, err, sizeof(err));
	assert_non_null(out);
	got = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "{\"3\":\"k\",\"a\":3,\"abc\":2.5,"
	    "\"b\":[\"xabc\",1,null,{\"c\":true}],\"plain\":\"text\"}");
	free(got);
	json_decref(out);
	json_decref(in);

	in = json_pack("{s:[s]}", "a", "<% $.n.x %>");
	assert_null(expr_eval_json(in, &env, err, sizeof(err)));
	assert_string_equal(err, "expression '<% $.n.x %>': cannot read "
	    "'.x' of a number at offset 4");
	json_decref(in);

	in = json_pack("{s:s}", "<% [1] %> <% $.nope.x %>", "v");
	assert_null(expr_eval_json(in, &env, err, sizeof(err)));
	assert_non_null(strstr(err, "of null"));
	json_decref(in);

	in = json_integer(7);
	out = expr_eval_json(in, NULL, err, sizeof(err));
	assert_true(json_equal(in, out));
	json_decref(out);
	json_decref(in);
}

static void
test_eval_json_budget(void **state)
{
	struct expr_env small = env;
	char err[256];
	json_t *in, *out;
	size_t i;

	(void)state;
	/* Each string fits the budget; together they do not. */
	in = json_array();
	for (i = 0; i < 20; i++)
		json_array_append_new(in, json_string("<% 'abc' * 2000 %>"));
	small.budget = 100000;
	assert_null(expr_eval_json(in, &small, err, sizeof(err)));
	assert_non_null(strstr(err, "budget of 100000 steps exceeded"));
	small.budget = 200000;
	out = expr_eval_json(in, &small, err, sizeof(err));
	assert_non_null(out);
	assert_int_equal(json_array_size(out), 20);
	json_decref(out);
	json_decref(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_literal_strings),
		cmocka_unit_test(test_literal_constants),
		cmocka_unit_test(test_literal_collections),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_context_empty),
		cmocka_unit_test(test_context_errors),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_truthy),
		cmocka_unit_test(test_arith),
		cmocka_unit_test(test_arith_errors),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_in),
		cmocka_unit_test(test_funcs_task),
		cmocka_unit_test(test_funcs),
		cmocka_unit_test(test_funcs_coll),
		cmocka_unit_test(test_funcs_misc),
		cmocka_unit_test(test_funcs_errors),
		cmocka_unit_test(test_stringify),
		cmocka_unit_test(test_result_is_a_copy),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_error_long_expression),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_hostile_nesting),
		cmocka_unit_test(test_hostile_size),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_task_refs),
		cmocka_unit_test(test_eval_json),
		cmocka_unit_test(test_eval_json_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
