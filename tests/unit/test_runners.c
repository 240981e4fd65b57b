/* test_runners.c: puppet's argv for each option combination, its FACTER_
 * environment, the script environment, and finding puppet in PATH. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runners.h"
#include "step_kinds.h"

/* argv joined by single spaces. */
static void
join(char **v, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; *v; v++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
		    used ? " " : "", *v);
}

static void
check_argv(const char *spec_text, const char *hiera, const char *want)
{
	json_t *spec = json_loads(spec_text, 0, NULL);
	char **argv = NULL, err[256], got[2048];

	assert_non_null(spec);
	assert_int_equal(runner_puppet_argv(spec, "/usr/bin/puppet",
	    "/s/manifest.pp", hiera, &argv, err, sizeof(err)), 0);
	join(argv, got, sizeof(got));
	assert_string_equal(got, want);
	runners_strv_free(argv);
	json_decref(spec);
}

#define HEAD "/usr/bin/puppet apply --color false --detailed-exitcodes " \
	"--logdest console"

static void
test_puppet_argv(void **state)
{
	(void)state;
	check_argv("{}", NULL, HEAD " /s/manifest.pp");
	check_argv("{\"modulepath\": \"/m1:/m2\"}", NULL,
	    HEAD " --modulepath /m1:/m2 /s/manifest.pp");
	check_argv("{\"tags\": \"a,b\"}", NULL, HEAD " --tags a,b /s/manifest.pp");
	check_argv("{\"tags\": [\"a\", \"b\"]}", NULL,
	    HEAD " --tags a,b /s/manifest.pp");
	check_argv("{\"tags\": []}", NULL, HEAD " /s/manifest.pp");
	check_argv("{\"debug\": true}", NULL, HEAD " --debug /s/manifest.pp");
	check_argv("{\"verbose\": true, \"debug\": false}", NULL,
	    HEAD " --verbose /s/manifest.pp");
	check_argv("{\"modulepath\": \"/m\", \"tags\": \"t\", \"debug\": true, "
	    "\"verbose\": true}", "/s/hiera.yaml", HEAD " --modulepath /m "
	    "--tags t --debug --verbose --hiera_config /s/hiera.yaml "
	    "/s/manifest.pp");
}

static void
test_puppet_argv_errors(void **state)
{
	const char *bad[] = {
		"{\"debug\": 1}", "{\"verbose\": \"yes\"}", "{\"modulepath\": 3}",
		"{\"tags\": [\"a,b\"]}", "{\"tags\": {}}", "{\"modulepath\": \"\"}",
	};
	char **argv, err[256];
	json_t *spec;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec = json_loads(bad[i], 0, NULL);
		assert_non_null(spec);
		argv = NULL;
		assert_int_equal(runner_puppet_argv(spec, "/p", "/m", NULL,
		    &argv, err, sizeof(err)), -1);
		assert_null(argv);
		assert_true(strncmp(err, "spec.", 5) == 0);
		json_decref(spec);
	}
}

static void
test_puppet_env(void **state)
{
	struct runner_user user;
	json_t *inputs = json_loads("{\"foo\": \"{\\\"x\\\": 1}\", "
	    "\"lst\": [1, \"a\"], \"n\": 5, \"r\": 1.1}", 0, NULL);
	char **envp = NULL, err[256], got[4096];

	(void)state;
	memset(&user, 0, sizeof(user));
	snprintf(user.home, sizeof(user.home), "/root");
	assert_int_equal(runner_puppet_env(inputs, "/s", "host.example",
	    &user, &envp, err, sizeof(err)), 0);
	join(envp, got, sizeof(got));
	assert_string_equal(got, "FACTER_foo={\"x\": 1} FACTER_lst=[1,\"a\"] "
	    "FACTER_n=5 FACTER_r=1.1 PATH=" RUNNERS_PATH " LANG=" RUNNERS_LANG
	    " HOME=/root FACTER_heat_outputs_path=/s/outputs "
	    "FACTER_fqdn=host.example");
	runners_strv_free(envp);
	json_decref(inputs);
}

static void
test_script_env_named_user(void **state)
{
	struct runner_user user;
	struct runners_vec env = { NULL, 0, 0 };
	json_t *inputs = json_loads("{\"HOME\": \"/mine\", \"a\": \"b\"}", 0,
	    NULL);
	char err[256], got[4096];

	(void)state;
	memset(&user, 0, sizeof(user));
	user.named = 1;
	snprintf(user.name, sizeof(user.name), "nobody");
	snprintf(user.home, sizeof(user.home), "/nonexistent");
	assert_int_equal(runners_build_env(inputs, "", "/s", &user, &env, err,
	    sizeof(err)), 0);
	join(env.v, got, sizeof(got));
	assert_string_equal(got, "HOME=/mine a=b PATH=" RUNNERS_PATH " LANG="
	    RUNNERS_LANG " USER=nobody LOGNAME=nobody "
	    "heat_outputs_path=/s/outputs");
	runners_vec_free(&env);
	json_decref(inputs);
}

static void
test_puppet_find(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(runner_puppet_find("/nonexistent:/also-not", buf,
	    sizeof(buf)), -1);
	assert_int_equal(runner_puppet_find("", buf, sizeof(buf)), -1);
}

static void
test_outputs_check(void **state)
{
	const char *good[] = { "{}", "{\"outputs\": []}",
	    "{\"outputs\": [\"a\", {\"name\": \"b.c-d\"}]}" };
	const char *bad[] = { "{\"outputs\": {}}", "{\"outputs\": [\"../x\"]}",
	    "{\"outputs\": [\"..\"]}", "{\"outputs\": [{\"nam\": \"x\"}]}",
	    "{\"outputs\": [\"a/b\"]}" };
	char err[256];
	json_t *spec;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		spec = json_loads(good[i], 0, NULL);
		assert_int_equal(runners_outputs_check(spec, err, sizeof(err)), 0);
		json_decref(spec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec = json_loads(bad[i], 0, NULL);
		assert_int_equal(runners_outputs_check(spec, err, sizeof(err)),
		    -1);
		json_decref(spec);
	}
}

/* Every step kind of the one table has a runner, named the same, and a
 * name that is not a step kind has none. */
static void
test_a_runner_per_step_kind(void **state)
{
	const struct bora_action *a;
	const struct runner *r;
	size_t kinds = 0;

	(void)state;
	for (a = bora_actions; a->action != NULL; a++) {
		r = runners_find(a->kind);
		if (a->kind == NULL) {
			assert_null(r);
			continue;
		}
		kinds++;
		assert_non_null(r);
		assert_string_equal(r->kind, a->kind);
	}
	assert_int_equal(kinds, 4);
	assert_null(runners_find("bora.script"));
	assert_null(runners_find("wait_agents"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_puppet_argv),
		cmocka_unit_test(test_puppet_argv_errors),
		cmocka_unit_test(test_puppet_env),
		cmocka_unit_test(test_script_env_named_user),
		cmocka_unit_test(test_puppet_find),
		cmocka_unit_test(test_outputs_check),
		cmocka_unit_test(test_a_runner_per_step_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
