/*
 * fuzz_qs.c: pc_qs_parse() on arbitrary query strings.
 *
 * Properties: on success every name is [a-z0-9_]{1,31}, allowed and
 * unique; every value is shorter than PC_QS_VALUE_MAX and is valid
 * UTF-8 without C0 controls or DEL; pc_qs_get() agrees; and the pairs,
 * percent-encoded byte by byte and parsed again, give the same result.
 */
#include "qs.h"
#include "fuzz_util.h"

static const char *const allowed[] = {
	"from", "to", "status", "order_prefix", "amount_min", "amount_max",
	"last4", "brand", "limit", "cursor", "a", "b_2", NULL
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_qs	qs, qs2;
	static char		again[PC_QS_MAX_PAIRS * (32 + 3 * PC_QS_VALUE_MAX + 2)];
	char			*q;
	const char		*v;
	size_t			i, k, o, nlen, vlen;
	int			in;

	q = fz_cstr(data, size);
	if (pc_qs_parse(&qs, q, allowed) == -1) {
		free(q);
		return (0);
	}

	FZ_CHECK(qs.n <= PC_QS_MAX_PAIRS);
	again[0] = '\0';
	o = 0;
	for (i = 0; i < qs.n; i++) {
		nlen = strnlen(qs.name[i], sizeof(qs.name[i]));
		FZ_CHECK(nlen >= 1 && nlen < sizeof(qs.name[i]));
		FZ_CHECK(strspn(qs.name[i],
		    "abcdefghijklmnopqrstuvwxyz0123456789_") == nlen);
		for (in = 0, k = 0; allowed[k] != NULL; k++)
			in |= strcmp(allowed[k], qs.name[i]) == 0;
		FZ_CHECK(in);
		for (k = 0; k < i; k++)
			FZ_CHECK(strcmp(qs.name[k], qs.name[i]) != 0);

		vlen = strnlen(qs.value[i], PC_QS_VALUE_MAX);
		FZ_CHECK(vlen < PC_QS_VALUE_MAX);
		FZ_CHECK(fz_utf8_valid(qs.value[i], vlen));
		for (k = 0; k < vlen; k++)
			FZ_CHECK((unsigned char)qs.value[i][k] >= 0x20 &&
			    qs.value[i][k] != 0x7f);
		v = pc_qs_get(&qs, qs.name[i]);
		FZ_CHECK(vlen == 0 ? v == NULL : v == qs.value[i]);

		o += (size_t)snprintf(again + o, sizeof(again) - o, "%s%s=",
		    i > 0 ? "&" : "", qs.name[i]);
		for (k = 0; k < vlen; k++)
			o += (size_t)snprintf(again + o, sizeof(again) - o,
			    "%%%02X", (unsigned char)qs.value[i][k]);
	}

	FZ_CHECK(pc_qs_parse(&qs2, again, allowed) == 0);
	FZ_CHECK(qs2.n == qs.n);
	for (i = 0; i < qs.n; i++) {
		FZ_CHECK(strcmp(qs2.name[i], qs.name[i]) == 0);
		FZ_CHECK(strcmp(qs2.value[i], qs.value[i]) == 0);
	}

	free(q);
	return (0);
}
