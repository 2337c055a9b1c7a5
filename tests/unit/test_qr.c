/*
 * test_qr.c: QR codes as SVG and as terminal half blocks.
 *
 * The round trip uses two independent tools when installed: librsvg
 * (rsvg-convert) rasterises the SVG and ZBar (zbarimg) decodes it.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qr.h"

#define URI	"otpauth://totp/payconsole:al%20ice?secret=JBSWY3DPEHPK3PXP" \
		"&issuer=payconsole&algorithm=SHA1&digits=6&period=30"
#define SVG_MAX	(256 * 1024)
#define DIM_MAX	(177 + 2 * PC_QR_QUIET)

static char	svg_a[SVG_MAX], svg_b[SVG_MAX];

static int
count_char(const char *s, char c)
{
	int	n;

	for (n = 0; *s != '\0'; s++)
		if (*s == c)
			n++;
	return (n);
}

/* The viewBox side, in modules. */
static int
svg_size(const char *svg)
{
	const char	*p;
	int		 w, h;

	p = strstr(svg, "viewBox=\"0 0 ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "viewBox=\"0 0 %d %d\"", &w, &h), 2);
	assert_int_equal(w, h);
	return (w);
}

/* Dark modules of the SVG path ("M x y h n v1 h-n z" runs). */
static int
svg_matrix(const char *svg, uint8_t m[DIM_MAX][DIM_MAX])
{
	const char	*p;
	int		 size, x, y, n, n2, used, i;

	size = svg_size(svg);
	assert_true(size <= DIM_MAX);
	memset(m, 0, sizeof(uint8_t) * DIM_MAX * DIM_MAX);
	p = strstr(svg, " d=\"");
	assert_non_null(p);
	p += 4;
	while (*p == 'M') {
		assert_int_equal(sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n,
		    &n2, &used), 4);
		assert_int_equal(n, n2);
		assert_true(n >= 1);
		/* Never in the quiet zone. */
		assert_true(x >= PC_QR_QUIET && y >= PC_QR_QUIET);
		assert_true(x + n <= size - PC_QR_QUIET);
		assert_true(y < size - PC_QR_QUIET);
		for (i = 0; i < n; i++) {
			assert_int_equal(m[y][x + i], 0);
			m[y][x + i] = 1;
		}
		p += used;
	}
	assert_int_equal(*p, '"');
	return (size);
}

static void
test_svg_basics(void **state)
{
	const char	*in = "otpauth://totp/<script>x</script>"
			    "?secret=ABC&q=\"";
	size_t		 len;
	int		 n, size;

	(void)state;
	n = pc_qr_svg(URI, svg_a, sizeof(svg_a));
	assert_true(n > 0);
	len = strlen(svg_a);
	assert_int_equal((size_t)n, len);
	assert_int_equal(strncmp(svg_a, "<svg", 4), 0);
	assert_true(len > 7);
	assert_string_equal(svg_a + len - 7, "</svg>\n");
	assert_non_null(strstr(svg_a, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(svg_a, "shape-rendering=\"crispEdges\""));
	assert_non_null(strstr(svg_a, "fill=\"#ffffff\""));
	assert_non_null(strstr(svg_a, "fill=\"#000000\""));
	/* svg, rect, path, /svg: one path, nothing else. */
	assert_int_equal(count_char(svg_a, '<'), 4);
	assert_int_equal(count_char(svg_a, '>'), 4);
	assert_null(strstr(svg_a, "JBSWY3DPEHPK3PXP"));
	assert_null(strstr(svg_a, "otpauth"));
	assert_null(strstr(svg_a, "<title"));

	/* A version 1..40 symbol plus the quiet zone on both sides. */
	size = svg_size(svg_a);
	assert_true(size >= 21 + 2 * PC_QR_QUIET);
	assert_true(size <= 177 + 2 * PC_QR_QUIET);
	assert_int_equal((size - 2 * PC_QR_QUIET - 17) % 4, 0);
	/* The top-left finder pattern: a run of 7 at the quiet zone. */
	assert_non_null(strstr(svg_a, "d=\"M4 4h7v1h-7z"));

	/* Markup in the input cannot become markup in the output. */
	n = pc_qr_svg(in, svg_b, sizeof(svg_b));
	assert_true(n > 0);
	assert_int_equal(count_char(svg_b, '<'), 4);
	assert_int_equal(count_char(svg_b, '"'), count_char(svg_a, '"'));
	assert_null(strstr(svg_b, "script"));
}

static void
test_svg_deterministic(void **state)
{
	int	a, b;

	(void)state;
	a = pc_qr_svg(URI, svg_a, sizeof(svg_a));
	b = pc_qr_svg(URI, svg_b, sizeof(svg_b));
	assert_true(a > 0);
	assert_int_equal(a, b);
	assert_string_equal(svg_a, svg_b);

	/* Another text, another symbol. */
	b = pc_qr_svg(URI "x", svg_b, sizeof(svg_b));
	assert_true(b > 0);
	assert_string_not_equal(svg_a, svg_b);
}

static void
test_svg_small_buffer(void **state)
{
	char	small[64];
	char	*exact;
	int	n;

	(void)state;
	n = pc_qr_svg(URI, svg_a, sizeof(svg_a));
	assert_true(n > 0);

	memset(small, 'x', sizeof(small));
	assert_int_equal(pc_qr_svg(URI, small, sizeof(small)), -1);
	assert_int_equal(small[0], '\0');
	assert_int_equal(pc_qr_svg(URI, small, 1), -1);
	assert_int_equal(pc_qr_svg(URI, small, 0), -1);
	assert_int_equal(pc_qr_svg(URI, NULL, 100), -1);

	/* No room for the NUL is too small; one more byte is enough. */
	exact = malloc((size_t)n + 1);
	assert_non_null(exact);
	assert_int_equal(pc_qr_svg(URI, exact, (size_t)n), -1);
	assert_int_equal(exact[0], '\0');
	assert_int_equal(pc_qr_svg(URI, exact, (size_t)n + 1), n);
	assert_string_equal(exact, svg_a);
	free(exact);
}

static void
test_svg_too_long(void **state)
{
	char	*big;

	(void)state;
	/* Version 40-M holds 2331 bytes; this is more in any mode. */
	big = malloc(8001);
	assert_non_null(big);
	memset(big, 'a', 8000);
	big[8000] = '\0';
	svg_a[0] = 'x';
	assert_int_equal(pc_qr_svg(big, svg_a, sizeof(svg_a)), -1);
	assert_int_equal(svg_a[0], '\0');
	assert_int_equal(pc_qr_terminal(big, stderr), -1);
	free(big);

	assert_int_equal(pc_qr_svg(NULL, svg_a, sizeof(svg_a)), -1);
	assert_int_equal(pc_qr_svg("", svg_a, sizeof(svg_a)), -1);
	assert_int_equal(pc_qr_terminal(NULL, stderr), -1);
	assert_int_equal(pc_qr_terminal(URI, NULL), -1);
}

/* One UTF-8 glyph at p: 1 = ink on top, 2 = ink below; -1 unknown. */
static int
glyph(const char **p)
{
	if (strncmp(*p, " ", 1) == 0) {
		*p += 1;
		return (0);
	}
	if (strncmp(*p, "\xe2\x96\x80", 3) == 0) {
		*p += 3;
		return (1);
	}
	if (strncmp(*p, "\xe2\x96\x84", 3) == 0) {
		*p += 3;
		return (2);
	}
	if (strncmp(*p, "\xe2\x96\x88", 3) == 0) {
		*p += 3;
		return (3);
	}
	return (-1);
}

static void
test_terminal_matches_svg(void **state)
{
	static uint8_t	 m[DIM_MAX][DIM_MAX];
	char		 line[4096];
	const char	*p;
	FILE		*fp;
	int		 size, lines, x, y, g;

	(void)state;
	assert_true(pc_qr_svg(URI, svg_a, sizeof(svg_a)) > 0);
	size = svg_matrix(svg_a, m);

	fp = tmpfile();
	assert_non_null(fp);
	assert_int_equal(pc_qr_terminal(URI, fp), 0);
	rewind(fp);

	/* Ink marks light modules: each glyph is two rows of one column. */
	lines = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_null(strchr(line, '\033'));	/* not a terminal */
		assert_null(strstr(line, "JBSWY3DP"));
		p = line;
		y = 2 * lines;
		for (x = 0; x < size; x++) {
			g = glyph(&p);
			assert_true(g >= 0);
			assert_int_equal(!!(g & 1), !m[y][x]);
			if (y + 1 < size)
				assert_int_equal(!!(g & 2), !m[y + 1][x]);
			else
				assert_int_equal(g & 2, 0);
		}
		assert_string_equal(p, "\n");
		lines++;
	}
	assert_int_equal(lines, (size + 1) / 2);
	assert_int_equal(fclose(fp), 0);
}

static int
have_tool(const char *name)
{
	char	cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1",
	    name);
	return (system(cmd) == 0);
}

static void
test_decode_round_trip(void **state)
{
	char	 svg[] = "/tmp/pc_qr_XXXXXX";
	char	 png[sizeof(svg) + 4], cmd[256], got[1024];
	FILE	*fp, *pp;
	size_t	 n;
	int	 fd, len;

	(void)state;
	if (!have_tool("rsvg-convert") || !have_tool("zbarimg")) {
		fprintf(stderr, "rsvg-convert or zbarimg missing "
		    "(librsvg2-bin, zbar-tools): round trip skipped\n");
		skip();
	}

	len = pc_qr_svg(URI, svg_a, sizeof(svg_a));
	assert_true(len > 0);
	fd = mkstemp(svg);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(svg_a, 1, (size_t)len, fp), (size_t)len);
	assert_int_equal(fclose(fp), 0);
	(void)snprintf(png, sizeof(png), "%s.png", svg);

	(void)snprintf(cmd, sizeof(cmd),
	    "rsvg-convert -w 400 -b white %s -o %s", svg, png);
	assert_int_equal(system(cmd), 0);

	/* zbarimg may complain about D-Bus on stderr: not our business. */
	(void)snprintf(cmd, sizeof(cmd), "zbarimg --raw -q %s 2>/dev/null",
	    png);
	pp = popen(cmd, "r");
	assert_non_null(pp);
	n = fread(got, 1, sizeof(got) - 1, pp);
	got[n] = '\0';
	assert_int_equal(pclose(pp), 0);
	unlink(svg);
	unlink(png);

	if (n > 0 && got[n - 1] == '\n')
		got[n - 1] = '\0';
	assert_string_equal(got, URI);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_svg_basics),
		cmocka_unit_test(test_svg_deterministic),
		cmocka_unit_test(test_svg_small_buffer),
		cmocka_unit_test(test_svg_too_long),
		cmocka_unit_test(test_terminal_matches_svg),
		cmocka_unit_test(test_decode_round_trip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
