/*
 * replay.c - run one fuzz driver over files, without libFuzzer.
 *
 * Usage: replay_TARGET PATH...
 * Each PATH is a file or a directory whose files (not dotfiles such as
 * .gitkeep, not subdirectories) are run in name order. Each file's name
 * is printed before it runs, so the last name shown names the input of a
 * crash. Exit status: 0 when every input ran, 2 when a PATH is unreadable;
 * a violated invariant aborts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Drivers without a fixture do not define it. */
extern int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long ran;

static int
run_file(const char *path)
{
	FILE *fp;
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	/* An exactly sized copy, so a sanitizer sees any read past it. */
	nb = malloc(n > 0 ? n : 1);
	if (nb == NULL) {
		free(buf);
		return -1;
	}
	if (n > 0)
		memcpy(nb, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(nb, n);
	free(nb);
	ran++;
	return 0;
}

static int
skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int
run_dir(const char *dir)
{
	struct dirent **names = NULL;
	char path[4096];
	struct stat st;
	int i, n, rc = 0;

	if ((n = scandir(dir, &names, skip_entry, alphasort)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     names[i]->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0) {
			fprintf(stderr, "replay: %s/%s: unreadable\n", dir,
			        names[i]->d_name);
			rc = -1;
		} else if (S_ISREG(st.st_mode) && run_file(path) != 0) {
			rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			        strerror(errno));
			rc = 2;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) != 0
		                               : run_file(argv[i]) != 0) {
			rc = 2;
		}
	}
	printf("%s: %lu inputs replayed\n", argv[0], ran);
	return rc;
}
