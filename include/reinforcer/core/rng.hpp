#pragma once
// Counter-based random numbers: a stream is a pure function of (seed, stream, counter),
// so results do not depend on how work is laid out on ranks and threads.
#include <cstdint>

namespace reinforcer {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream) : state_(splitmix64(seed ^ splitmix64(stream + 0x5851F42D4C957F2DULL))) {}
  // A stream from a precomputed seed hash and a stream number: one multiply instead of two
  // hashes, for code that starts millions of short streams (one per episode).
  static RandomStream keyed(std::uint64_t seed_hash, std::uint64_t stream) {
    RandomStream r(0, 0);
    r.state_ = seed_hash ^ (stream * 0xD1B54A32D192ED03ULL);
    return r;
  }
  std::uint64_t next() { return splitmix64(state_ += 0x9E3779B97F4A7C15ULL); }
  // Uniform in [0, n) by a 128-bit multiply (bias below 2^-64 * n: negligible).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;  // GCC/Clang; pedantic-clean
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace reinforcer
