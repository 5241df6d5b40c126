/*
 * fuzz.h - what every fuzz driver shares.
 *
 * A driver defines LLVMFuzzerTestOneInput() (and, if it needs a fixture,
 * LLVMFuzzerInitialize()). It is linked either with libFuzzer (`make
 * fuzz`, clang) or with replay.c (`make check`, any compiler), which runs
 * it over the seed corpus and the regression inputs.
 *
 * Caveats: a driver must not keep state between inputs beyond a fixture
 * built once, so a crash reproduces from its input alone.
 */
#ifndef SHERVE_FUZZ_H
#define SHERVE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant: print it and abort(), which both harnesses report. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant violated: %s\n",     \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* A NUL-terminated malloc'd copy of the input (NULL only on ENOMEM). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		if (size > 0)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
