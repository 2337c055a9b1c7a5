/* assets.h: files from assets/ compiled into the binary. */
#ifndef PC_ASSETS_H
#define PC_ASSETS_H

#include <sys/types.h>

struct pc_asset {
	const char	*path;		/* "/index.html" */
	const char	*mime;
	const u_int8_t	*data;
	size_t		len;
	const char	*etag;		/* quoted SHA-256 */
};

extern const struct pc_asset	pc_assets[];

#endif
