/*
 * test_siembody.c: the SIEM message body: which fields are masked, at
 * any depth, and card numbers removed from the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cardguard.h"
#include "siembody.h"

struct body_case {
	struct pc_siembody_event	 ev;
	const char			*want;
};

static const struct body_case	body_cases[] = {
	/* A login: the name masked, id, role and source kept. */
	{ { 17, 9, "2026-12-03T21:02:08.000001Z", "4", "alice", "operator",
	    "10.8.0.5", "login.success", "alice", "success",
	    "{\"session\": 12}" },
	  "{\"id\":17,\"seq\":9,\"at\":\"2026-12-03T21:02:08.000001Z\","
	  "\"actor_id\":4,\"actor_name\":\"a***\",\"actor_role\":\"operator\","
	  "\"source\":\"10.8.0.5\",\"event\":\"login.success\","
	  "\"target\":\"a***\",\"outcome\":\"success\","
	  "\"details\":{\"session\":12}}" },
	/* System events: nulls stay null; a rule name as target stays. */
	{ { 1, 1, "t", NULL, NULL, NULL, NULL, "control.failed",
	    "syslog_down", "failure", "{}" },
	  "{\"id\":1,\"seq\":1,\"at\":\"t\",\"actor_id\":null,"
	  "\"actor_name\":null,\"actor_role\":null,\"source\":null,"
	  "\"event\":\"control.failed\",\"target\":\"syslog_down\","
	  "\"outcome\":\"failure\",\"details\":{}}" },
	/* Names and e-mails in details at any depth; arrays too. */
	{ { 2, 2, "t", "1", "Root Admin", "admin", NULL, "user.created",
	    "bob", "success",
	    "{\"op\": {\"username\": \"bob\", \"display_name\": "
	    "\"Bob Smith\", \"role\": \"operator\"}, \"email\": "
	    "\"bob@example.com\", \"names\": [\"x\"], \"username\": "
	    "[\"carol\", \"dave\"]}" },
	  "{\"id\":2,\"seq\":2,\"at\":\"t\",\"actor_id\":1,"
	  "\"actor_name\":\"R*** A***\",\"actor_role\":\"admin\","
	  "\"source\":null,\"event\":\"user.created\",\"target\":\"b***\","
	  "\"outcome\":\"success\",\"details\":{\"op\":{\"username\":"
	  "\"b***\",\"display_name\":\"B*** S***\",\"role\":\"operator\"},"
	  "\"email\":\"b***@example.com\",\"names\":[\"x\"],"
	  "\"username\":[\"c***\",\"d***\"]}}" },
	/* A payment: its id target kept; a card number removed anywhere. */
	{ { 3, 3, "t", "5", "op", "operator", "::1", "payment.refunded",
	    "tx_77", "success",
	    "{\"reason\": \"card 4111 1111 1111 1111 dispute\", "
	    "\"amount\": 500, \"comment\": \"Jane Doe\"}" },
	  "{\"id\":3,\"seq\":3,\"at\":\"t\",\"actor_id\":5,"
	  "\"actor_name\":\"o***\",\"actor_role\":\"operator\","
	  "\"source\":\"::1\",\"event\":\"payment.refunded\","
	  "\"target\":\"tx_77\",\"outcome\":\"success\",\"details\":"
	  "{\"reason\":\"[card number removed]\",\"amount\":500,"
	  "\"comment\":\"J*** D***\"}}" },
	/* As deep as jsonin.c takes (10 containers): walked to the bottom. */
	{ { 5, 5, "t", NULL, NULL, NULL, NULL, "server.started", NULL,
	    "info", "{\"username\": [[[[[[[[[\"bob\"]]]]]]]]], "
	    "\"x\": [[[[[[[[[\"4111111111111111\"]]]]]]]]]}" },
	  "{\"id\":5,\"seq\":5,\"at\":\"t\",\"actor_id\":null,"
	  "\"actor_name\":null,\"actor_role\":null,\"source\":null,"
	  "\"event\":\"server.started\",\"target\":null,\"outcome\":\"info\","
	  "\"details\":{\"username\":[[[[[[[[[\"b***\"]]]]]]]]],"
	  "\"x\":[[[[[[[[[\"[card number removed]\"]]]]]]]]]}}" },
	/* One deeper, or not an object: left out, marked. */
	{ { 6, 6, "t", NULL, NULL, NULL, NULL, "server.started", NULL,
	    "info", "{\"x\": [[[[[[[[[[\"4111111111111111\"]]]]]]]]]]}" },
	  "{\"id\":6,\"seq\":6,\"at\":\"t\",\"actor_id\":null,"
	  "\"actor_name\":null,\"actor_role\":null,\"source\":null,"
	  "\"event\":\"server.started\",\"target\":null,\"outcome\":\"info\","
	  "\"details\":{\"unreadable\":true}}" },
	{ { 4, 4, "t", NULL, NULL, NULL, NULL, "server.started", NULL,
	    "info", "[1, 2]" },
	  "{\"id\":4,\"seq\":4,\"at\":\"t\",\"actor_id\":null,"
	  "\"actor_name\":null,\"actor_role\":null,\"source\":null,"
	  "\"event\":\"server.started\",\"target\":null,\"outcome\":\"info\","
	  "\"details\":{\"unreadable\":true}}" },
};

static void
test_body_table(void **state)
{
	size_t	i, len;
	char	*out;

	(void)state;
	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		out = pc_siembody_json(&body_cases[i].ev, &len);
		assert_non_null(out);
		if (strcmp(out, body_cases[i].want) != 0)
			fail_msg("case %zu: got %s", i, out);
		assert_int_equal(len, strlen(out));
		free(out);
	}
}

static const struct {
	const char	*event, *target;
	int		 personal;
} target_cases[] = {
	{ "login.failure", "mallory", 1 },
	{ "user.disabled", "bob", 1 },
	{ "some.new_event", "whoever", 1 },	/* unknown family: masked */
	{ "login.failure", "12345", 0 },	/* an id */
	{ "payment.viewed", "tx_1", 0 },
	{ "control.cleared", "syslog_down", 0 },
	{ "policy.loaded", "/etc/payconsole/policy.conf", 0 },
	{ "login.failure", NULL, 0 },
	{ "login.failure", "", 0 },
	{ NULL, "bob", 1 },
};

static void
test_target_table(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
		if (pc_siembody_target_personal(target_cases[i].event,
		    target_cases[i].target) != target_cases[i].personal)
			fail_msg("target case %zu", i);
	}
}

static int
setup(void **state)
{
	(void)state;
	return (pc_cardguard_init());
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_body_table),
		cmocka_unit_test(test_target_table),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
