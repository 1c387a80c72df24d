/*
 * hash.h - content hashing: xxHash XXH3 for config and file identities,
 * SHA-256 (OpenSSL) where a digest is compared with someone else's.
 */
#ifndef CG_UTIL_HASH_H
#define CG_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit content hash, and its 16-hex-digit form. */
uint64_t cg_hash64(const void *p, size_t n);
void cg_hash_hex(uint64_t h, char out[17]);

/* Lowercase hex SHA-256 of p. */
void cg_sha256_hex(const void *p, size_t n, char out[65]);

#endif
