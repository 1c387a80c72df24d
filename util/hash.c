/* hash.c - content hashing with xxHash (see hash.h). */
#include "hash.h"

#include <stdio.h>
#include <xxhash.h>

uint64_t cg_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void cg_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}
