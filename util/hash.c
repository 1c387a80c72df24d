/* hash.c - content hashing with xxHash, and SHA-256 (see hash.h). */
#include "hash.h"

#include <openssl/sha.h>
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

void cg_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hexl[] = "0123456789abcdef";
	SHA256(p, n, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hexl[md[i] >> 4];
		out[2 * i + 1] = hexl[md[i] & 15];
	}
	out[64] = 0;
}
