// Counter-based RNG: the same bits as src/rng.ts (see src/backend.ts for the contract).
#pragma once
#include <stdint.h>

__host__ __device__ __forceinline__ uint32_t fmix32(uint32_t x) {
  x ^= x >> 16; x *= 0x85EBCA6Bu; x ^= x >> 13; x *= 0xC2B2AE35u; x ^= x >> 16;
  return x;
}
__host__ __device__ __forceinline__ uint32_t rng_u32(uint32_t seed, uint32_t counter) {
  return fmix32(fmix32(seed ^ 0x6A09E667u) ^ counter);
}
// uniform in [0,1) with 24 random bits: exact in float
__host__ __device__ __forceinline__ float rng_uniform(uint32_t seed, uint32_t counter) {
  return (float)(rng_u32(seed, counter) >> 8) * 5.9604644775390625e-8f;
}
