#ifndef KYMO_CXXHASH_SHIM_H
#define KYMO_CXXHASH_SHIM_H
/* XXH3 inlined into the caller: an 8-byte key hashes in about 1 ns this way,
   against 5-7 ns through the shared library's exported symbol. */
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <stdint.h>
#include <stddef.h>

static inline uint64_t kymo_xxh3_64(const void *data, size_t length, uint64_t seed) {
    return XXH3_64bits_withSeed(data, length, seed);
}

static inline uint64_t kymo_xxh3_u64(uint64_t key, uint64_t seed) {
    return XXH3_64bits_withSeed(&key, sizeof key, seed);
}

/* Streaming XXH3-64 for data that arrives in pieces (checkpoints, chunk payloads).
   The state is opaque to Swift: XXH3_state_t has 64-byte-aligned members. */
static inline void *kymo_xxh3_create(uint64_t seed) {
    XXH3_state_t *s = XXH3_createState();
    if (s) XXH3_64bits_reset_withSeed(s, seed);
    return s;
}
static inline void kymo_xxh3_free(void *s) { XXH3_freeState((XXH3_state_t *)s); }
static inline void kymo_xxh3_update(void *s, const void *data, size_t length) {
    XXH3_64bits_update((XXH3_state_t *)s, data, length);
}
static inline uint64_t kymo_xxh3_digest(const void *s) {
    return XXH3_64bits_digest((const XXH3_state_t *)s);
}
#endif
