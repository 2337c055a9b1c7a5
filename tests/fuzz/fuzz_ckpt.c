/*
 * fuzz_ckpt.c: pc_ckpt_parse() on arbitrary checkpoint lines.
 *
 * Properties: a line it accepts is exactly what pc_ckpt_line() writes
 * for the checkpoint parsed (one canonical form), with seq >= 1 and
 * last_event, at >= 0; a refusal leaves the checkpoint all zeros. The
 * seeds in tests/fuzz/corpus/ckpt are the lines of tests/unit/test_ckpt.c.
 */
#include "ckpt.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pc_ckpt	zero;
	struct pc_ckpt			c;
	char				again[PC_CKPT_LINE_MAX];
	int				n;

	memset(&c, 0xa5, sizeof(c));
	if (pc_ckpt_parse(&c, (const char *)data, size) == -1) {
		FZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		return (0);
	}
	FZ_CHECK(c.seq >= 1 && c.last_event >= 0 && c.at >= 0);
	n = pc_ckpt_line(&c, again, sizeof(again));
	FZ_CHECK(n >= 0 && (size_t)n == size);
	FZ_CHECK(memcmp(again, data, size) == 0);
	return (0);
}
