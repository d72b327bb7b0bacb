#pragma once
// Bootstrap resampling with counter-based random numbers: replicate r of a run with seed s is
// the same on every rank, thread and machine, whatever else was drawn before it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "reinforcer/stats/proportion.hpp"  // Interval

namespace reinforcer {

// n indices drawn uniformly with replacement from [0, n): a pure function of
// (n, seed, replicate). The stream is RandomStream(seed ^ a bootstrap-specific constant,
// replicate), so it does not coincide with other uses of the same seed. n < 2^32.
std::vector<std::uint32_t> bootstrap_sample(std::size_t n, std::uint64_t seed, std::uint64_t replicate);

// Stratified resample: position i of the result is an index drawn uniformly with replacement
// from the customers with the same stratum as customer i, so every stratum keeps its size
// (and result[i] always has stratum[i]). Pure function of its arguments; with a single
// stratum it equals bootstrap_sample(stratum.size(), seed, replicate).
std::vector<std::uint32_t> bootstrap_sample_stratified(const std::vector<std::uint8_t>& stratum, std::uint64_t seed,
                                                       std::uint64_t replicate);

// The stratified resamples of one set of customers as multiplicities: counts(seed, r)[i] is how
// often bootstrap_sample_stratified(stratum, seed, r) draws customer i (the same draws, in the
// same order), without the index vector. The strata's members are sorted out once, for every
// replicate.
class StratifiedResampler {
 public:
  explicit StratifiedResampler(std::vector<std::uint8_t> stratum);
  // Fills `counts` (resized to the customers); reusing one vector per thread allocates nothing.
  void counts(std::uint64_t seed, std::uint64_t replicate, std::vector<std::uint32_t>& counts) const;
  std::size_t size() const { return stratum_.size(); }

 private:
  std::vector<std::uint8_t> stratum_;
  std::vector<std::uint32_t> start_;    // stratum s's members are members_[start_[s], start_[s + 1])
  std::vector<std::uint32_t> members_;  // customers by stratum, in index order within each
};

// Percentile interval of bootstrap replicates: the (1 - level) / 2 and (1 + level) / 2
// quantiles, type 7 (linear interpolation between order statistics, numpy's default and
// R's default). NaN values are skipped; {NaN, NaN} when nothing is left.
// level must be in (0, 1) (std::invalid_argument otherwise).
Interval percentile_interval(std::vector<double> values, double level = 0.95);

// The fewest replicates a 95% percentile interval can rest on: each 2.5% tail must hold at
// least one replicate (B x 0.025 >= 1), else the ends are interpolated between the smallest
// (largest) two replicates and the interval is narrower than the level it claims.
inline constexpr std::int64_t kMinReplicatesFor95 = 40;
inline bool enough_replicates_for_95(std::int64_t replicates) { return replicates >= kMinReplicatesFor95; }

}  // namespace reinforcer
