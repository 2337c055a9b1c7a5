/*
 * qr.h: QR codes for TOTP enrolment (pure, libqrencode).
 *
 * The text (an otpauth:// URI) is encoded at error correction level M,
 * 8-bit mode, case-sensitive, with the smallest version that holds it.
 * The text is a secret: it never appears in the output, and the symbol
 * matrix is wiped before it is freed. Callers wipe what they receive.
 */
#ifndef PC_QR_H
#define PC_QR_H

#include <stddef.h>
#include <stdio.h>

/* Modules of light margin around the symbol (ISO/IEC 18004). */
#define PC_QR_QUIET		4

/*
 * A standalone SVG document: viewBox in modules (quiet zone included),
 * a white <rect> and one black <path> of horizontal runs, crisp edges,
 * ending in "</svg>\n". Nothing of the text is written as text. Returns
 * the length written (without the NUL) or -1 if the text cannot be
 * encoded (too long for a QR code) or the document does not fit in out;
 * out is then an empty string if outlen > 0.
 */
int	pc_qr_svg(const char *text, char *out, size_t outlen);

/*
 * The symbol for a terminal: UTF-8 half blocks (U+2580, U+2584, U+2588
 * and space), two module rows per line, quiet zone included.
 *
 * Terminals draw glyphs in the foreground colour, usually light on a
 * dark background, so the ink marks the LIGHT modules and dark modules
 * are spaces: that reads as dark-on-light on a dark terminal. When fp is
 * a terminal, each line is also wrapped in SGR 97;40 ... 0 (bright white
 * on black) so that light-themed terminals show the same. 0 or -1.
 */
int	pc_qr_terminal(const char *text, FILE *fp);

#endif
