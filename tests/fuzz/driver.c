/*
 * driver.c: replay a fuzz harness's corpus without libFuzzer.
 *
 *   fuzz_NAME_replay DIR|FILE...
 *
 * Runs LLVMFuzzerTestOneInput once over every regular file in each
 * directory (not recursive) and over each file named; a crash or a
 * sanitizer report ends the process. Exit 0 after at least one input,
 * 1 when an argument cannot be read or no input was found. Each input
 * gets its own malloc'ed copy of exactly its size, so that reading past
 * its end is caught by ASan.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DRIVER_FILE_MAX (4 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the harness on the file at path. 0, or -1 (said on stderr). */
static int
driver_run_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	size_t got;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (st.st_size > DRIVER_FILE_MAX) {
		fprintf(stderr, "%s: over %d bytes\n", path, DRIVER_FILE_MAX);
		goto out;
	}
	/* at least one byte so that malloc(0) is not an issue */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	if (got != (size_t)st.st_size) {
		fprintf(stderr, "%s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, got);
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	size_t runs = 0;
	DIR *d;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (driver_run_file(argv[i]) != 0)
				rc = 1;
			else
				runs++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (driver_run_file(path) != 0)
				rc = 1;
			else
				runs++;
		}
		closedir(d);
	}
	printf("%zu inputs run\n", runs);
	if (runs == 0)
		rc = 1;
	return rc;
}
