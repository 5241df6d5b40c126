/*
 * mime.h - Content-Type by file extension, from a built-in table of the
 * common web types. Unknown extensions get application/octet-stream, so a
 * browser never sniffs an uploaded file into HTML.
 */
#ifndef SHERVE_MIME_H
#define SHERVE_MIME_H

/* The Content-Type for path (matched on its last extension, any case). */
const char *mime_type(const char *path);

/* 1 if the type of path is worth a precompressed sibling (text-like). */
int mime_compressible(const char *path);

#endif
