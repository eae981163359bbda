// SPDX-License-Identifier: BSD-2-Clause
// Small helpers shared by all crisp code: checksums, aligned memory, seeded RNG.
// All functions are thread-safe and real-time safe unless they allocate.
#ifndef CRISP_UTIL_H
#define CRISP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/error.h"

/* CRC-32 (IEEE 802.3, as zlib) of `len` bytes, continuing from `crc` (0 to start). */
CRISP_API uint32_t crisp_crc32(uint32_t crc, const void *buf, size_t len);

/* 64-byte aligned allocation, zero-filled; NULL on failure or overflow.
 * Free with crisp_afree (accepts NULL). Not real-time safe. */
CRISP_API void *crisp_aalloc(size_t size);
CRISP_API void crisp_afree(void *p);

/* Reads a whole file into a malloc'd buffer (free()). Returns -errno or
 * CRISP_EBADFILE for files over 1 GiB. */
CRISP_API int crisp_file_read(const char *path, uint8_t **buf, size_t *len);
/* The directory of the running executable (from /proc/self/exe), so an
 * installed tree finds its files wherever it was copied. 0 or -errno. */
CRISP_API int crisp_exe_dir(char *buf, size_t n);
/* Writes a buffer to `path` atomically (temporary file + rename). */
CRISP_API int crisp_file_write(const char *path, const void *buf, size_t len);

/* Seeded deterministic generator (SplitMix64); state is one uint64_t. */
struct crisp_rng {
    uint64_t s;
};
CRISP_API void crisp_rng_seed(struct crisp_rng *r, uint64_t seed);
CRISP_API uint64_t crisp_rng_u64(struct crisp_rng *r);
/* Uniform in [0, 1). */
CRISP_API double crisp_rng_uniform(struct crisp_rng *r);
/* Standard normal (Box-Muller). */
CRISP_API double crisp_rng_normal(struct crisp_rng *r);

/* One of the 8 flips/rotations (the dihedral group) of a w x h float plane,
 * the geometric self-ensemble's and the training augmentation's transform.
 * Orientation `o` (0..7): bit 2 transposes (dst is h x w), then bit 0
 * flips the source's rows and bit 1 its columns. dst(i, j) = src(a, b) for
 * (a, b) = (i, j), swapped by bit 2, mirrored by bits 0 and 1. `inverse`
 * scatters instead of gathering: with the same o it turns the oriented
 * plane back (dst w x h). dst and src must not overlap. */
CRISP_API void crisp_orient(float *dst, const float *src, int w, int h, int o, int inverse);

/* s as the inside of a JSON string (quotes and backslashes escaped, control
 * characters as \u00XX) into out, cut to fit n bytes with its NUL. */
CRISP_API void crisp_json_escape(char *out, size_t n, const char *s);

#endif
