/* test_step_kinds.c: the one table of actions and step kinds (step_kinds.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "step_kinds.h"

static void
test_find_by_action_and_kind(void **state)
{
	const struct bora_action *a;

	(void)state;
	a = bora_action_find("bora.script");
	assert_non_null(a);
	assert_string_equal(a->kind, "script");
	assert_string_equal(a->spec_field, "script");
	assert_ptr_equal(bora_step_kind_find("script"), a);
	assert_string_equal(bora_action_kind("bora.heat_config"), "heat_config");
	assert_string_equal(bora_step_kind_find("puppet")->spec_field,
	    "manifest");
	/* on the coordinator: known, but no step kind */
	assert_non_null(bora_action_find("std.echo"));
	assert_null(bora_action_kind("std.echo"));
	assert_null(bora_action_kind("bora.wait_agents"));
	/* unknown, and NULL */
	assert_null(bora_action_find("bora.nothing"));
	assert_null(bora_step_kind_find("bora.script"));
	assert_null(bora_step_kind_find("wait_agents"));
	assert_null(bora_action_find(NULL));
	assert_null(bora_action_kind(NULL));
}

/* Every step kind names the spec field it needs, and only steps do. */
static void
test_every_kind_has_a_spec_field(void **state)
{
	const struct bora_action *a;
	size_t kinds = 0;

	(void)state;
	for (a = bora_actions; a->action != NULL; a++) {
		if (a->kind != NULL) {
			kinds++;
			assert_non_null(a->spec_field);
			assert_non_null(a->spec_what);
			assert_ptr_equal(bora_step_kind_find(a->kind), a);
		} else {
			assert_null(a->spec_field);
		}
		assert_ptr_equal(bora_action_find(a->action), a);
	}
	assert_int_equal(kinds, 4);
}

static void
test_lists_for_errors(void **state)
{
	(void)state;
	assert_string_equal(bora_step_kinds_list(),
	    "script, puppet, file and heat_config");
	assert_string_equal(bora_actions_list(1), "bora.script, bora.puppet, "
	    "bora.file and bora.heat_config");
	assert_string_equal(bora_actions_list(0), "bora.script, bora.puppet, "
	    "bora.file, bora.heat_config, bora.wait_agents, std.noop, "
	    "std.echo, std.fail and std.sleep");
	/* built once: the same text again */
	assert_ptr_equal(bora_actions_list(0), bora_actions_list(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_by_action_and_kind),
		cmocka_unit_test(test_every_kind_has_a_spec_field),
		cmocka_unit_test(test_lists_for_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
