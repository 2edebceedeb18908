// Non-temporal ("streaming") stores, for buffers the writing thread will not read again: the
// training thread's hand-off of a step's g and Δw to the recorder. A streaming store writes a
// whole line to memory without first reading it into the cache (no read-for-ownership) and
// without evicting the writer's working set; a normal store to a buffer that has gone cold does
// both. Swift has no spelling for them, hence this header; its functions are `static inline`, so
// Swift's compiler inlines them like its own code.
//
// Values are stored unchanged: which kind of store is used never changes a bit.
#ifndef KYMO_STREAMING_H
#define KYMO_STREAMING_H

#include <stddef.h>
#include <stdint.h>

/// Eight floats, imported by Swift as SIMD8<Float>.
typedef float kymo_float8 __attribute__((ext_vector_type(8)));

/// Stores eight floats at `p` with a non-temporal hint.
/// `p` must be 32-byte aligned (the vector type's alignment).
static inline void kymo_stream_store8(float *p, kymo_float8 v) {
    __builtin_nontemporal_store(v, (kymo_float8 *)p);
}

/// Orders every streaming store made so far before any later store of this thread (x86 SFENCE:
/// streaming stores are weakly ordered, and a lock handing the buffer to another thread need not
/// drain them). Call once after a run of streaming stores, before publishing the buffer.
static inline void kymo_stream_fence(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/// Returns 1 when `p` is aligned for `kymo_stream_store8`.
static inline int kymo_stream_aligned(const void *p) {
    return ((uintptr_t)p & 31u) == 0;
}

/// Copies `n` floats from `src` to `dst` (not overlapping): the head up to the first 64-byte
/// boundary of `dst` and the tail with normal stores, everything between streamed (whole cache
/// lines, so no line is left half streamed). A copy, bit for bit; call `kymo_stream_fence`
/// before publishing `dst`.
/// O(n).
static inline void kymo_stream_copy(float *dst, const float *src, ptrdiff_t n) {
    ptrdiff_t i = 0;
    while (i < n && ((uintptr_t)(dst + i) & 63u) != 0) { dst[i] = src[i]; i++; }
    for (; i + 8 <= n; i += 8) {
        kymo_float8 v;
        __builtin_memcpy(&v, src + i, sizeof v);
        kymo_stream_store8(dst + i, v);
    }
    for (; i < n; i++) dst[i] = src[i];
}

#endif
