/* The console's static files, compiled into the binary (prefix
 * lw_assets): web/assets/ (index.html, app.js, app.css, vendor/) turned
 * into C arrays at build time by cmake/embed_assets.cmake, so the console
 * works in a closed network with nothing but the logward binary.
 * Threads: constant data. */
#ifndef LW_WEB_ASSETS_H
#define LW_WEB_ASSETS_H

#include <stddef.h>

struct lw_asset {
	const char *path;          /* "/", "/assets/app.js" ... */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* The asset served at path, or NULL. "/" is index.html. */
const struct lw_asset *lw_assets_find(const char *path);

/* The generated table (build/.../lw_assets_data.c). */
extern const struct lw_asset lw_assets_table[];
extern const size_t lw_assets_count;

#endif
