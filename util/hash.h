/*
 * hash.h - content hashing (xxHash XXH3): config and file identities.
 */
#ifndef CG_UTIL_HASH_H
#define CG_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit content hash, and its 16-hex-digit form. */
uint64_t cg_hash64(const void *p, size_t n);
void cg_hash_hex(uint64_t h, char out[17]);

#endif
