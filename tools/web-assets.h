/*
 * web-assets.h — the web app's files (tools/web/), embedded in the kho binary
 * by embed-web.py at build time, each with a gzip copy and an ETag, so that
 * the box needs no files beside the binary to serve the app.
 */
#ifndef KHO_WEB_ASSETS_H
#define KHO_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
	const char *name;          /* "index.html", "app.js", … */
	const char *mime;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;   /* NULL when gzip would not be smaller */
	size_t gz_len;
	const char *etag;          /* quoted, from the content's hash */
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_assets_count;

#endif
