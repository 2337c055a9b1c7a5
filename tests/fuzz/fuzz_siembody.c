/*
 * fuzz_siembody.c: an audit event's details (any bytes) through
 * pc_siembody_json(), then the body into an RFC 5424 message.
 *
 * Input: the details text, NUL-terminated as libpq gives it.
 *
 * Properties: the body is always made (NULL only without memory), one
 * line (no byte below 0x20), valid JSON itself (jansson reads it back
 * as an object), with actor_name and target masked ("alice" is "a***")
 * and no username member of details left as "alice"; the message that
 * carries it is refused only for want of room.
 */
#include <jansson.h>

#include "cardguard.h"
#include "siembody.h"
#include "syslog5424.h"
#include "fuzz_util.h"

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pc_cardguard_init() == -1)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_siembody_event	ev;
	struct pc_syslog5424		m;
	json_error_t			err;
	json_t				*j, *d, *u;
	char				*details, *body, *msg;
	size_t				len, i;
	int				n;

	/* As libpq gives it: NUL-terminated (a NUL inside ends it). */
	if ((details = malloc(size + 1)) == NULL)
		abort();
	memcpy(details, data, size);
	details[size] = '\0';
	memset(&ev, 0, sizeof(ev));
	ev.id = 7;
	ev.seq = 3;
	ev.at = "2026-12-03T21:02:08.000000Z";
	ev.actor_id = "4";
	ev.actor_name = "alice";
	ev.event = "user.created";
	ev.target = "alice";
	ev.outcome = "success";
	ev.details = details;
	body = pc_siembody_json(&ev, &len);
	FZ_CHECK(body != NULL);
	FZ_CHECK(strlen(body) == len);
	for (i = 0; i < len; i++)
		FZ_CHECK((unsigned char)body[i] >= 0x20);
	j = json_loadb(body, len, 0, &err);
	FZ_CHECK(j != NULL && json_is_object(j));
	FZ_CHECK(strcmp(json_string_value(json_object_get(j, "actor_name")),
	    "a***") == 0);
	FZ_CHECK(strcmp(json_string_value(json_object_get(j, "target")),
	    "a***") == 0);
	d = json_object_get(j, "details");
	FZ_CHECK(json_is_object(d));
	u = json_object_get(d, "username");
	FZ_CHECK(!json_is_string(u) ||
	    strcmp(json_string_value(u), "alice") != 0);
	json_decref(j);

	memset(&m, 0, sizeof(m));
	m.facility = 13;
	m.severity = 6;
	m.timestamp = ev.at;
	m.hostname = "h";
	m.app = "payconsole";
	m.procid = 1;
	m.id = ev.id;
	m.seq = ev.seq;
	m.type = ev.event;
	m.body = body;
	if ((msg = malloc(len + 256)) == NULL)
		abort();
	n = pc_syslog5424_format(&m, msg, len + 256);
	FZ_CHECK(n > 0 && (size_t)n == strlen(msg));
	FZ_CHECK(pc_syslog5424_format(&m, msg, (size_t)n) == -1);
	free(msg);
	free(body);
	free(details);
	return (0);
}
