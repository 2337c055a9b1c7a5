/*
 * test_mailmsg.c: report recipients and messages, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailmsg.h"

static const struct {
	const char	*list;
	int		count;		/* -1: refused */
} lists[] = {
	{ "a@example.com", 1 },
	{ "a@example.com,b.c+reports@mail.example.org", 2 },
	{ "sec_review@x,ops-1@y.z", 2 },
	{ "a@b,c@d,e@f,g@h,i@j,k@l,m@n,o@p,q@r,s@t,u@v,w@x,y@z,a@c,b@d,c@e",
	    16 },
	{ "a@b,c@d,e@f,g@h,i@j,k@l,m@n,o@p,q@r,s@t,u@v,w@x,y@z,a@c,b@d,c@e,"
	    "d@f", -1 },
	{ "", -1 },
	{ ",", -1 },
	{ "a@example.com,", -1 },
	{ ",a@example.com", -1 },
	{ "a@example.com, b@example.com", -1 },	/* a blank */
	{ "a@example.com,,b@example.com", -1 },
	{ "example.com", -1 },
	{ "@example.com", -1 },
	{ "a@", -1 },
	{ "a@@example.com", -1 },
	{ "a@b@example.com", -1 },
	{ "a@.example.com", -1 },
	{ "a@example.com.", -1 },
	{ ".a@example.com", -1 },
	{ "a.@example.com", -1 },
	{ "a@exa_mple.com", -1 },
	{ "A Person <a@example.com>", -1 },
	{ "\"a\"@example.com", -1 },
	{ "a@example.com\nBcc: x@y", -1 },
	{ "a@example.com\r", -1 },
	{ "a;b@example.com", -1 },
	{ "a{b}@example.com", -1 },
	{ "\xc3\xa9@example.com", -1 },
};

static void
test_recipients_table(void **state)
{
	char	out[PC_MAILMSG_MAX_RCPT][PC_MAILMSG_ADDR_MAX];
	size_t	i;
	int	n;

	(void)state;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		n = pc_mailmsg_recipients(lists[i].list, out,
		    PC_MAILMSG_MAX_RCPT);
		assert_int_equal(n, lists[i].count);
		assert_int_equal(pc_mailmsg_recipients_ok(lists[i].list),
		    lists[i].count > 0);
	}
	n = pc_mailmsg_recipients("a@example.com,b@example.org", out, 2);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "a@example.com");
	assert_string_equal(out[1], "b@example.org");
	/* Never more than the caller has room for. */
	assert_int_equal(pc_mailmsg_recipients("a@b,c@d", out, 1), -1);
	assert_int_equal(pc_mailmsg_recipients_ok(NULL), 0);
}

static struct pc_mailmsg
good(void)
{
	struct pc_mailmsg	m;

	memset(&m, 0, sizeof(m));
	m.from = "payconsole@host.example";
	m.to = "a@example.com,b@example.org";
	m.subject = "payconsole daily review 2026-11-28";
	m.msgid = "daily.2026-11-28.1@payconsole";
	m.date = 1795111200;	/* Thu, 19 Nov 2026 18:00:00 +0000 */
	m.body = "Day: 2026-11-28\nlockouts: 1\n  events: 3\n";
	return (m);
}

static void
test_message(void **state)
{
	struct pc_mailmsg	m;
	char			*msg;
	size_t			len, cap;

	(void)state;
	m = good();
	msg = pc_mailmsg_build(&m, &len, &cap);
	assert_non_null(msg);
	assert_int_equal(strlen(msg), len);
	assert_string_equal(msg,
	    "From: payconsole@host.example\n"
	    "To: a@example.com,b@example.org\n"
	    "Subject: payconsole daily review 2026-11-28\n"
	    "Date: Thu, 19 Nov 2026 18:00:00 +0000\n"
	    "Message-ID: <daily.2026-11-28.1@payconsole>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Day: 2026-11-28\nlockouts: 1\n  events: 3\n");
	pc_mailmsg_free(msg, cap);
}

/* Nothing from the policy or the database adds a header or a CR. */
static const struct {
	const char	*field;
	const char	*value;
} refused[] = {
	{ "subject", "x\nBcc: someone@else" },
	{ "subject", "" },
	{ "subject", NULL },
	{ "to", "a@example.com\nBcc: x@y" },
	{ "to", "" },
	{ "from", "Me <me@x>" },
	{ "msgid", "a>\nX: y" },
	{ "msgid", "a b" },
	{ "body", "one\r\ntwo\n" },
	{ "body", NULL },
};

static void
test_message_refused(void **state)
{
	struct pc_mailmsg	m;
	size_t			i, len, cap;
	char			*line;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		m = good();
		if (strcmp(refused[i].field, "subject") == 0)
			m.subject = refused[i].value;
		else if (strcmp(refused[i].field, "to") == 0)
			m.to = refused[i].value;
		else if (strcmp(refused[i].field, "from") == 0)
			m.from = refused[i].value;
		else if (strcmp(refused[i].field, "msgid") == 0)
			m.msgid = refused[i].value;
		else
			m.body = refused[i].value;
		assert_null(pc_mailmsg_build(&m, &len, &cap));
	}

	/* 998 bytes on a line pass, 999 do not. */
	line = malloc(1001);
	assert_non_null(line);
	memset(line, 'x', 998);
	line[998] = '\n';
	line[999] = '\0';
	m = good();
	m.body = line;
	pc_mailmsg_free(pc_mailmsg_build(&m, &len, &cap), cap);
	assert_int_not_equal(len, 0);
	memset(line, 'x', 999);
	line[999] = '\n';
	line[1000] = '\0';
	assert_null(pc_mailmsg_build(&m, &len, &cap));
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipients_table),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
