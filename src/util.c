/* util.c - error strings and bounded helpers; see util.h. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

const char *
sherve_strerror(int code)
{
	switch (code) {
	case SH_OK: return "success";
	case SH_ENOMEM: return "out of memory";
	case SH_EINVAL: return "invalid value";
	case SH_ENOTFOUND: return "not found";
	case SH_ETOOLONG: return "value too long";
	case SH_EIO: return "system error";
	case SH_EFETCH: return "fetch failed";
	case SH_EPARSE: return "no valid redirect line";
	case SH_ESTORE: return "store error";
	case SH_EBUSY: return "busy";
	case SH_ESHRINK: return "map shrank beyond max-shrink";
	case SH_EUNCHANGED: return "not modified";
	case SH_EDAMAGED: return "the store is damaged";
	case SH_ESTALE: return "the store file was replaced";
	case SH_ENOSPACE: return "not enough free space";
	case SH_ELOOP: return "a redirect loop in the map";
	}
	return "unknown error";
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
          const char **errstr)
{
	uint64_t v = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		goto invalid;
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			goto invalid;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*errstr = "too large";
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min) {
		*errstr = "too small";
		return -1;
	}
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	*errstr = NULL;
	return 0;
invalid:
	*errstr = "invalid";
	return -1;
}

size_t
str_copy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz > 0) {
		size_t c = n < dstsz - 1 ? n : dstsz - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
str_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

int
str_ascii_except(const char *s, const char *reject)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0x80) || strchr(reject, *s) != NULL)
			return 0;
	return 1;
}

char *
str_dup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. A NUL is never a
 * continuation byte, so p may end anywhere.
 */
static size_t
utf8_seq(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* The bytes at p that go out as they are: ASCII text and whole UTF-8. */
static size_t
json_run(const unsigned char *p)
{
	size_t run = 0, n;

	for (;;) {
		if (p[run] == '"' || p[run] == '\\' || p[run] < 0x20 ||
		    p[run] == 0x7f)
			return run;
		if (p[run] < 0x80)
			run++;
		else if ((n = utf8_seq(p + run)) > 0)
			run += n;
		else
			return run;
	}
}

int
json_escape(const char *s, json_put_fn put, void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		size_t run = json_run(p);

		if (run > 0 && put(ctx, (const char *)p, run) != 0)
			return -1;
		p += run;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			if (put(ctx, esc, 2) != 0)
				return -1;
		} else {
			/* A control character, DEL or a byte that is not UTF-8.
			 */
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			if (put(ctx, esc, 6) != 0)
				return -1;
		}
		p++;
	}
	return 0;
}

void
util_whoami(char *out, size_t outsz)
{
	uid_t uid = geteuid();
	struct passwd pw, *res = NULL;
	char buf[1024];

	/* getpwuid_r: a worker may have a refresh thread. */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, outsz, "%s (uid %lu)", pw.pw_name,
		         (unsigned long)uid);
	else
		snprintf(out, outsz, "uid %lu", (unsigned long)uid);
}
