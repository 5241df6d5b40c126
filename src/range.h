/*
 * range.h - the Range request header (RFC 9110 section 14.2), one range.
 *
 * sherve honours a single byte range. A list of several ranges is served
 * whole (200), which RFC 9110 allows, instead of multipart/byteranges:
 * no browser or media player needs it for the assets sherve serves.
 * Malformed headers and other units are ignored (200), as the RFC says.
 */
#ifndef SHERVE_RANGE_H
#define SHERVE_RANGE_H

#include <stdint.h>

enum range_rc {
	RANGE_NONE = 0,      /* no usable Range: send the whole body */
	RANGE_OK,            /* 206 with *first .. *first + *len - 1 */
	RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * /size */
};

/*
 * Parse hdr against a representation of size bytes.
 * Returns an enum range_rc; *first and *len are set for RANGE_OK.
 */
int range_parse(const char *hdr, uint64_t size, uint64_t *first, uint64_t *len);

#endif
