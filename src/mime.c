/* mime.c - the Content-Type table; see mime.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

struct mime {
	const char *ext;
	const char *type;
};

/* Sorted by extension for bsearch. */
static const struct mime types[] = {
	{ "avif", "image/avif" },
	{ "bmp", "image/bmp" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "eot", "application/vnd.ms-fontobject" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/x-icon" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "rss", "application/rss+xml" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xml", "application/xml" },
	{ "zip", "application/zip" },
};

static int
mime_cmp(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct mime *)elem)->ext);
}

const char *
mime_type(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	const struct mime *m;

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	m = bsearch(dot + 1, types, sizeof(types) / sizeof(types[0]),
	            sizeof(types[0]), mime_cmp);
	return m != NULL ? m->type : "application/octet-stream";
}

int
mime_compressible(const char *path)
{
	const char *t = mime_type(path);

	return strncmp(t, "text/", 5) == 0 || strstr(t, "json") != NULL ||
	       strstr(t, "xml") != NULL || strstr(t, "wasm") != NULL;
}
