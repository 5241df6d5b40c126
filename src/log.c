/* log.c - JSON lines on stderr; see log.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX 4096

static enum log_level threshold = SH_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

/*
 * What a cut line still needs, kept free while it is written: the quote
 * that closes a cut value, the marker, "}\n" and a NUL. A cut line is
 * still one valid JSON object.
 */
#define LOG_TAIL (sizeof("\",\"truncated\":\"1\"}\n"))

struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	int truncated;
};

void
log_set_level(enum log_level lvl)
{
	threshold = lvl;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level lvl)
{
	return lvl <= SH_LOG_ERROR ? level_names[lvl] : "error";
}

int
log_enabled(enum log_level lvl)
{
	return lvl >= threshold;
}

/* Room left before the tail; nothing is added once the line is cut. */
static size_t
line_room(const struct line *l)
{
	if (l->truncated || l->len + LOG_TAIL >= sizeof(l->buf))
		return 0;
	return sizeof(l->buf) - LOG_TAIL - l->len;
}

static void
line_raw(struct line *l, const char *s, size_t n)
{
	if (n > line_room(l)) {
		l->truncated = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Append from the room kept by LOG_TAIL: the closing bytes of a line. */
static void
line_tail(struct line *l, const char *s, size_t n)
{
	if (l->len + n < sizeof(l->buf)) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

/*
 * A piece of an escaped value: a run of plain bytes is cut where the
 * line is full (the value then ends there), an escape ("\n", "\u001b")
 * goes whole or not at all: never half an escape, nor half a UTF-8
 * sequence, in a line.
 */
static int
line_put(void *ctx, const char *s, size_t n)
{
	struct line *l = ctx;
	size_t room = line_room(l);

	if (n > room && s[0] != '\\') {
		/* Never half a UTF-8 sequence: cut before its lead byte. */
		while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
			room--;
		line_raw(l, s, room);
	}
	line_raw(l, s, n);
	return l->truncated ? -1 : 0;
}

/* Append s as a JSON string body, escaping quotes, backslash and CTLs. */
static void
line_escaped(struct line *l, const char *s)
{
	if (!l->truncated)
		(void)json_escape(s, line_put, l);
}

/*
 * A field whose key does not fit is left out whole; a value that does not
 * fit is cut, and its string still closed.
 */
static void
line_field(struct line *l, const char *key, const char *val)
{
	size_t start = l->len;

	line_raw(l, ",\"", 2);
	line_escaped(l, key);
	line_raw(l, "\":\"", 3);
	if (l->truncated) {
		l->len = start;
		return;
	}
	line_escaped(l, val);
	line_tail(l, "\"", 1);
}

static void
line_begin(struct line *l, enum log_level lvl)
{
	struct timespec ts;
	struct tm tm;
	char when[40];
	size_t n = 0;

	l->len = 0;
	l->truncated = 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
	    gmtime_r(&ts.tv_sec, &tm) != NULL)
		n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n > 0)
		snprintf(when + n, sizeof(when) - n, ".%03ldZ",
		         (long)(ts.tv_nsec / 1000000));
	else
		str_copy(when, "unknown", sizeof(when));
	line_raw(l, "{\"time\":\"", 9);
	line_raw(l, when, strlen(when));
	line_raw(l, "\",\"level\":\"", 11);
	line_raw(l, level_names[lvl], strlen(level_names[lvl]));
	line_raw(l, "\"", 1);
}

static void
line_end(struct line *l)
{
	ssize_t w;

	if (l->truncated)
		line_tail(l, ",\"truncated\":\"1\"", 16);
	line_tail(l, "}\n", 2);
	/* One write per line; a short write to a log is not worth a retry. */
	w = write(STDERR_FILENO, l->buf, l->len);
	(void)w;
}

/* Drop a UTF-8 sequence that vsnprintf() cut short at the end of s. */
static void
utf8_trim_end(char *s, size_t len)
{
	size_t i = len, cont = 0, need;
	unsigned char lead;

	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (need > 1 && cont + 1 < need)
		s[i - 1] = '\0';
}

static void log_vmsg(enum log_level lvl, int with_errno, const char *fmt,
                     va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_vmsg(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	struct line l;
	char msg[2048];
	int saved = errno;
	int n;

	if (!log_enabled(lvl))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		str_copy(msg, "(unformattable message)", sizeof(msg));
	else if ((size_t)n >= sizeof(msg))
		utf8_trim_end(msg, sizeof(msg) - 1);
	if (with_errno && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		         strerror(saved));
	line_begin(&l, lvl);
	line_field(&l, "msg", msg);
	line_end(&l);
	errno = saved;
}

#define LOG_FN(name, lvl, with_errno)                                          \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vmsg(lvl, with_errno, fmt, ap);                            \
		va_end(ap);                                                    \
	}

LOG_FN(log_debug, SH_LOG_DEBUG, 0)
LOG_FN(log_info, SH_LOG_INFO, 0)
LOG_FN(log_warn, SH_LOG_WARN, 1)
LOG_FN(log_warnx, SH_LOG_WARN, 0)
LOG_FN(log_error, SH_LOG_ERROR, 0)

void
log_fields(enum log_level lvl, const char *msg, ...)
{
	struct line l;
	va_list ap;
	const char *k;
	int saved = errno;

	if (!log_enabled(lvl))
		return;
	line_begin(&l, lvl);
	line_field(&l, "msg", msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		if (v != NULL)
			line_field(&l, k, v);
	}
	va_end(ap);
	line_end(&l);
	errno = saved;
}
