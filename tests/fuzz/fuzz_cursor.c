/*
 * fuzz_cursor.c: pc_cursor_decode() on arbitrary text.
 *
 * Properties: a refused cursor leaves both numbers 0; an accepted one
 * holds two non-negative numbers and is exactly what pc_cursor_encode()
 * writes for them (one spelling only).
 */
#include "cursor.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 again[PC_CURSOR_MAX], *s;
	int64_t	 us, id;

	s = fz_cstr(data, size);
	if (pc_cursor_decode(s, &us, &id) == -1) {
		FZ_CHECK(us == 0 && id == 0);
	} else {
		FZ_CHECK(us >= 0 && id >= 0);
		FZ_CHECK(pc_cursor_encode(us, id, again) == 0);
		FZ_CHECK(strcmp(again, s) == 0);
	}
	free(s);
	return (0);
}
