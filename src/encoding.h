/*
 * encoding.h - choose a precompressed sibling (file.br, file.gz) from
 * Accept-Encoding (RFC 9110 section 12.5.3).
 *
 * Codings are weighed by q-value; q=0 refuses one; "*" stands for every
 * coding not named. Among acceptable ones br is preferred over gzip, and
 * gzip over identity, whatever their q-values, because the smaller body
 * wins for static files.
 */
#ifndef SHERVE_ENCODING_H
#define SHERVE_ENCODING_H

enum encoding { ENC_IDENTITY = 0, ENC_GZIP = 1, ENC_BR = 2 };

/* Bitmask (1 << ENC_GZIP, 1 << ENC_BR) of acceptable codings. */
unsigned encoding_accepted(const char *accept_encoding);

/* The file suffix (".br", ".gz", "") and token ("br", "gzip", "") of e. */
const char *encoding_suffix(enum encoding e);
const char *encoding_token(enum encoding e);

#endif
