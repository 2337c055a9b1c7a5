/*
 * wbuf.h: the growing output buffer of the writers (wbuf.c).
 */
#ifndef PC_WBUF_H
#define PC_WBUF_H

#include <stddef.h>

int	pc_wbuf_put(char **, size_t *, size_t *, const char *, size_t);
void	pc_wbuf_free(char *, size_t);

#endif
