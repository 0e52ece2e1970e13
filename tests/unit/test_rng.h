/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reproducible pseudo-random numbers for the unit tests: xorshift64*, the
 * same sequence on every libc (unlike rand()). Each test sets rng_state to
 * its own seed first.
 */
#ifndef XVS_TEST_RNG_H
#define XVS_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint32_t
rnd32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* 0 .. bound-1 */
static inline uint32_t
rnd(uint32_t bound)
{
	return rnd32() % bound;
}

#endif /* XVS_TEST_RNG_H */
