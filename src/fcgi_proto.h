/*
 * fcgi_proto.h - the FastCGI 1.0 wire format, without I/O: records parsed
 * out of a byte buffer, a request's name-value pairs decoded, and the
 * records of an answer framed.
 *
 * sherve reads and writes FastCGI itself (fcgi.c) instead of through
 * libfcgi, whose FCGX_Accept_r reads a request's records blocking: one
 * peer that sent half a header held a worker until it closed. The event
 * loop reads what has arrived, keeps a partial request per connection,
 * and hands a request to the handler once it is whole. These functions
 * are the pure part of that, tested as tables (tests/unit/test_fcgi_proto.c)
 * and fuzzed (tests/fuzz/fuzz_fcgi.c).
 *
 * Caveats: sherve answers one request at a time per connection
 * (FCGI_MPXS_CONNS is 0): a second FCGI_BEGIN_REQUEST while one is being
 * read is refused with FCGI_CANT_MPX_CONN, as the specification allows.
 * Only the responder role is served. Records are never padded on output.
 */
#ifndef SHERVE_FCGI_PROTO_H
#define SHERVE_FCGI_PROTO_H

#include <stddef.h>

#define FCGI_HEADER_LEN  8
#define FCGI_CONTENT_MAX 65535u
/* The largest record: header, content and up to 255 bytes of padding. */
#define FCGI_RECORD_MAX (FCGI_HEADER_LEN + FCGI_CONTENT_MAX + 255u)
#define FCGI_END_LEN    16 /* an FCGI_END_REQUEST record */

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
};

#define FCGI_RESPONDER 1 /* the role of FCGI_BEGIN_REQUEST */
#define FCGI_KEEP_CONN 1 /* its flag: keep the connection after the answer */

/* protocolStatus of FCGI_END_REQUEST */
enum fcgi_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_OVERLOADED = 2,
	FCGI_UNKNOWN_ROLE = 3,
};

/* One record, pointing into the buffer it was parsed from. */
struct fcgi_record {
	unsigned type;
	unsigned id;                  /* requestId; 0 for management records */
	const unsigned char *content; /* len bytes */
	size_t len;
	size_t size; /* the whole record: header, content, padding */
};

enum fcgi_parse { FCGI_REC_OK = 0, FCGI_REC_SHORT, FCGI_REC_BAD };

/*
 * Parse the record at the start of p[0..n). Returns FCGI_REC_OK with *r
 * filled, FCGI_REC_SHORT when the record has not arrived whole (read
 * more), or FCGI_REC_BAD when p does not hold a version 1 record (the
 * peer does not speak FastCGI: close the connection).
 */
int fcgi_record_parse(const unsigned char *p, size_t n, struct fcgi_record *r);

/*
 * The role and flags of an FCGI_BEGIN_REQUEST record. Returns 0, or -1
 * when its content is shorter than the 8 bytes the body has.
 */
int fcgi_begin_parse(const struct fcgi_record *r, unsigned *role,
                     unsigned *flags);

struct fcgi_param {
	const char *name, *value;
};

/*
 * Decode the name-value pairs of a request's FCGI_PARAMS stream (the
 * contents of its records, concatenated) in place: buf[0..n) is rewritten
 * as "name\0value\0..." (never longer than the encoded pairs) and up to
 * max entries of out point into it, in the order sent. Returns the number
 * of pairs, or -1 when a length runs past the end or there are more than
 * max pairs. A NUL inside a name or value ends it, as C strings do.
 */
int fcgi_params_decode(unsigned char *buf, size_t n, struct fcgi_param *out,
                       size_t max);

/* The value of the first pair named name among ps[0..n), or NULL. */
const char *fcgi_params_get(const struct fcgi_param *ps, size_t n,
                            const char *name);

/* Write a record header for len content bytes (no padding) into h[8]. */
void fcgi_header(unsigned char *h, unsigned type, unsigned id, size_t len);

/*
 * Write the FCGI_END_REQUEST record of request id into out[FCGI_END_LEN],
 * with the CGI exit status app and the protocol status st.
 */
void fcgi_end_request(unsigned char *out, unsigned id, unsigned app,
                      enum fcgi_status st);

/*
 * The FCGI_GET_VALUES_RESULT record answering the query q[0..n) (the
 * content of an FCGI_GET_VALUES record): FCGI_MAX_CONNS and
 * FCGI_MAX_REQS are max_conns, FCGI_MPXS_CONNS is 0; other names are left
 * out, as the specification says, and a name asked twice is answered
 * once (a peer cannot make the answer outgrow its three pairs). Written into
 * out (outsz bytes; 128 hold the whole answer). Returns the record's length, or
 * 0 when q is malformed or out too small.
 */
size_t fcgi_get_values(const unsigned char *q, size_t n, unsigned max_conns,
                       unsigned char *out, size_t outsz);

#endif
