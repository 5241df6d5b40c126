/*
 * sniff.h - is a fetched body a redirects file at all?
 *
 * A redirects-url that names a web page instead of the raw file (a Gist's
 * page, a repository's file viewer) answers 200 with HTML; a wrong URL
 * can answer with an image or an archive. Parsed line by line, such a
 * body gives thousands of warnings, and the few lines that happen to
 * parse could replace a small map. So the body is looked at first, and
 * refused whole with one line that says what it is.
 *
 * Caveats: a heuristic on the first SNIFF_BYTES bytes; a text file whose
 * first line starts with '<' and names an html element is taken for HTML.
 * Pure: no I/O.
 */
#ifndef SHERVE_SNIFF_H
#define SHERVE_SNIFF_H

#include <stddef.h>

#define SNIFF_BYTES 8192

/*
 * NULL if buf (len bytes) may be a redirects file, else why it is not:
 * "an HTML page, not a redirects file: use the raw URL" or "a binary
 * file, not a redirects file".
 */
const char *sniff_body(const char *buf, size_t len);

#endif
