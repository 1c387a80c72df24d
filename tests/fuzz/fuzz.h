/*
 * fuzz.h - what the libFuzzer targets share (tests/fuzz/fuzz_*.c).
 *
 * Some loaders take a path, not bytes: fuzz_path() puts the input in an
 * in-memory file (memfd, made once per process: no disk I/O per run, nothing
 * left behind) and returns a path that opens it.
 */
#ifndef CG_FUZZ_H
#define CG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated contract: abort so that libFuzzer keeps the input. */
#define FUZZ_ASSERT(c)                                                              \
	do {                                                                        \
		if (!(c)) {                                                         \
			fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, \
				__LINE__, #c);                                      \
			abort();                                                    \
		}                                                                   \
	} while (0)

static inline const char *fuzz_path(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("cassandgo-fuzz", MFD_CLOEXEC);
		FUZZ_ASSERT(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	for (size_t off = 0; off < size;) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
		FUZZ_ASSERT(w > 0);
		off += (size_t)w;
	}
	return path;
}

/* The input as a C string (parsers of text stop at the first NUL anyway);
 * caller frees. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_ASSERT(s);
	if (size)
		memcpy(s, data, size);
	s[size] = 0;
	return s;
}

#endif
