#include "reinforcer/stats/bootstrap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "reinforcer/core/rng.hpp"

namespace reinforcer {
namespace {

// Keeps bootstrap streams apart from other streams derived from the same seed.
constexpr std::uint64_t kBootstrapDomain = 0xB0075724A9E3C1D5ULL;

void check_size(std::size_t n, const char* who) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(n) + " items do not fit 32-bit indices");
}

}  // namespace

std::vector<std::uint32_t> bootstrap_sample(std::size_t n, std::uint64_t seed, std::uint64_t replicate) {
  check_size(n, "bootstrap_sample");
  RandomStream rng(seed ^ kBootstrapDomain, replicate);
  std::vector<std::uint32_t> out(n);
  for (auto& x : out) x = static_cast<std::uint32_t>(rng.below(n));
  return out;
}

std::vector<std::uint32_t> bootstrap_sample_stratified(const std::vector<std::uint8_t>& stratum, std::uint64_t seed,
                                                       std::uint64_t replicate) {
  const std::size_t n = stratum.size();
  check_size(n, "bootstrap_sample_stratified");
  // Members of each stratum in index order (a counting sort).
  std::array<std::uint32_t, 257> start{};
  for (std::uint8_t s : stratum) ++start[s + 1u];
  for (std::size_t s = 0; s < 256; ++s) start[s + 1] += start[s];
  std::vector<std::uint32_t> members(n);
  std::array<std::uint32_t, 256> fill{};
  for (std::size_t i = 0; i < n; ++i) members[start[stratum[i]] + fill[stratum[i]]++] = static_cast<std::uint32_t>(i);

  RandomStream rng(seed ^ kBootstrapDomain, replicate);
  std::vector<std::uint32_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t s = stratum[i];
    out[i] = members[start[s] + rng.below(start[s + 1u] - start[s])];
  }
  return out;
}

StratifiedResampler::StratifiedResampler(std::vector<std::uint8_t> stratum)
    : stratum_(std::move(stratum)), start_(257, 0), members_(stratum_.size()) {
  check_size(stratum_.size(), "StratifiedResampler");
  for (std::uint8_t s : stratum_) ++start_[s + 1u];
  for (std::size_t s = 0; s < 256; ++s) start_[s + 1] += start_[s];
  std::array<std::uint32_t, 256> fill{};
  for (std::size_t i = 0; i < stratum_.size(); ++i)
    members_[start_[stratum_[i]] + fill[stratum_[i]]++] = static_cast<std::uint32_t>(i);
}

void StratifiedResampler::counts(std::uint64_t seed, std::uint64_t replicate, std::vector<std::uint32_t>& counts) const {
  counts.assign(stratum_.size(), 0);
  // The draws of bootstrap_sample_stratified, one per position, counted instead of stored.
  RandomStream rng(seed ^ kBootstrapDomain, replicate);
  for (std::uint8_t s : stratum_) ++counts[members_[start_[s] + rng.below(start_[s + 1u] - start_[s])]];
}

Interval percentile_interval(std::vector<double> values, double level) {
  if (!(level > 0.0 && level < 1.0))
    throw std::invalid_argument("percentile_interval: level " + std::to_string(level) + " is not in (0, 1)");
  values.erase(std::remove_if(values.begin(), values.end(), [](double x) { return std::isnan(x); }), values.end());
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (values.empty()) return {nan, nan};
  std::sort(values.begin(), values.end());
  // Type 7: h = (m - 1) p, interpolate between the order statistics floor(h) and floor(h) + 1.
  const auto quantile = [&](double p) {
    const double h = static_cast<double>(values.size() - 1) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    if (lo + 1 >= values.size()) return values.back();
    const double frac = h - static_cast<double>(lo);
    return frac == 0.0 ? values[lo] : values[lo] + frac * (values[lo + 1] - values[lo]);
  };
  return {quantile((1.0 - level) / 2.0), quantile((1.0 + level) / 2.0)};
}

}  // namespace reinforcer
