#pragma once
// Q-values that decay toward zero (a state revisited thousands of times with nothing to gain)
// pass through the subnormal range, where every x86 operation on them takes a slow microcode
// path. Which worker meets them depends on its random stream, so before this guard some
// workers ran 20% slower than others for the same work and the rest waited for them at each
// sync. Values below 2.2e-308 carry no policy information: the guard flushes them to zero for
// the scope of a batch of episodes (every worker alike, so layouts stay bit-identical).
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace reinforcer {

class SubnormalsFlushedToZero {
 public:
#if defined(__SSE2__)
  // FTZ (bit 15): results that would be subnormal become 0; DAZ (bit 6): subnormal inputs read as 0.
  SubnormalsFlushedToZero() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }
  ~SubnormalsFlushedToZero() { _mm_setcsr(saved_); }
#else
  SubnormalsFlushedToZero() = default;  // other targets: IEEE subnormals, only slower
#endif
  SubnormalsFlushedToZero(const SubnormalsFlushedToZero&) = delete;
  SubnormalsFlushedToZero& operator=(const SubnormalsFlushedToZero&) = delete;

 private:
#if defined(__SSE2__)
  unsigned saved_;
#endif
};

}  // namespace reinforcer
