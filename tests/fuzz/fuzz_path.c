/*
 * fuzz_path.c - path_normalise(): whatever the URI, the result names no
 * file outside the webroot and no hidden one.
 *
 * Input: byte 0 picks the base path (bit 0: "/go") and the output size
 * (bits 1-3), the rest is REQUEST_URI.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "path.h"

#define BIG 4096

static void
check_ok(const char *out, size_t outsz)
{
	size_t len = strlen(out), i;

	FUZZ_ASSERT(len < outsz);
	FUZZ_ASSERT(out[0] != '/' && out[0] != '.');
	FUZZ_ASSERT(len == 0 || out[len - 1] != '/');
	/* No segment starts with '.': no "..", no dotfile. */
	FUZZ_ASSERT(strstr(out, "/.") == NULL && strstr(out, "//") == NULL);
	FUZZ_ASSERT(strcmp(out, "..") != 0 && strncmp(out, "../", 3) != 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '\\');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 1, 2, 8, 64, 512, BIG, BIG, BIG };
	char out[BIG], again[BIG], uri2[BIG + 8];
	const char *base;
	size_t outsz;
	char *uri;
	int rc, rc2, slash = -1, slash2;

	if (size < 1)
		return 0;
	base = (data[0] & 1) ? "/go" : "";
	outsz = sizes[(data[0] >> 1) & 7];
	if ((uri = fuzz_cstr(data + 1, size - 1)) == NULL)
		return 0;
	memset(out, 'X', sizeof(out));
	rc = path_normalise(uri, base, out, outsz, &slash);
	FUZZ_ASSERT(rc == PATH_OK || rc == PATH_BAD_REQUEST ||
	            rc == PATH_NOT_FOUND || rc == PATH_TOO_LONG);
	FUZZ_ASSERT(memchr(out, '\0', outsz) != NULL);
	if (rc != PATH_OK) {
		FUZZ_ASSERT(out[0] == '\0');
		goto out;
	}
	FUZZ_ASSERT(slash == 0 || slash == 1);
	check_ok(out, outsz);
	/* A bigger buffer changes nothing that fitted. */
	rc2 = path_normalise(uri, base, again, sizeof(again), &slash2);
	FUZZ_ASSERT(rc2 == PATH_OK && strcmp(again, out) == 0 &&
	            slash2 == slash);
	/* Normalising the result again is the identity (when it holds no
	 * byte that would be read as an escape, a query or a fragment). */
	if (strpbrk(out, "%?#") == NULL) {
		snprintf(uri2, sizeof(uri2), "%s/%s", base, out);
		rc2 = path_normalise(uri2, base, again, sizeof(again), NULL);
		FUZZ_ASSERT(rc2 == PATH_OK && strcmp(again, out) == 0);
	}
out:
	free(uri);
	return 0;
}
