/*
 * httpdate.h - HTTP dates (RFC 9110 section 5.6.7).
 *
 * Formats IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and parses it plus
 * the two obsolete forms (RFC 850 and asctime) that recipients must accept.
 */
#ifndef SHERVE_HTTPDATE_H
#define SHERVE_HTTPDATE_H

#include <stddef.h>
#include <time.h>

#define HTTPDATE_LEN 30 /* 29 characters and a NUL */

/* Format t into buf (at least HTTPDATE_LEN). Returns 0, or -1. */
int httpdate_format(time_t t, char *buf, size_t bufsz);

/* Parse s into *out. Returns 0, or -1 if s is no valid HTTP date. */
int httpdate_parse(const char *s, time_t *out);

#endif
