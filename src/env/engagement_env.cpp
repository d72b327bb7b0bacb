#include "reinforcer/env/engagement_env.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace reinforcer {
namespace {

// The grid steps of a gain uniform on [lo, hi], rounded to the nearest step (bin k holds
// [(k - 1/2) h, (k + 1/2) h)), as probabilities.
std::map<std::int32_t, double> rounded_uniform(double lo, double hi, double h) {
  std::map<std::int32_t, double> p;
  if (hi - lo < 1e-12) {
    p[static_cast<std::int32_t>(std::floor((lo + hi) / 2 / h + 0.5))] = 1.0;
    return p;
  }
  const auto first = static_cast<std::int32_t>(std::floor(lo / h + 0.5));
  const auto last = static_cast<std::int32_t>(std::floor(hi / h + 0.5));
  for (std::int32_t k = first; k <= last; ++k) {
    const double a = std::max(lo, (k - 0.5) * h), b = std::min(hi, (k + 0.5) * h);
    if (b > a) p[k] += (b - a) / (hi - lo);
  }
  return p;
}

}  // namespace

EngagementEnvironment::EngagementEnvironment(const EngagementConfig& cfg)
    : cfg_(cfg),
      cells_(static_cast<std::size_t>(cfg.grid)),
      step_(1.0 / static_cast<double>(cfg.grid - 1)),
      horizon_(static_cast<unsigned>(cfg.horizon)) {
  stage_.resize(cells_);
  for (std::size_t i = 0; i < cells_; ++i) {
    // On the grid's own scores, so that 0.33 on a 101-point grid is Warm, not Cold by rounding.
    const double x = static_cast<double>(i) * step_ + 1e-9;
    stage_[i] = static_cast<std::uint8_t>(x >= cfg.hot_at ? EngagementStage::hot : x >= cfg.warm_at ? EngagementStage::warm
                                                                                                      : EngagementStage::cold);
  }
  for (std::size_t i = 0; i + 1 < cells_; ++i) {
    const double x = static_cast<double>(i) * step_;
    if (x >= cfg.start_low - 1e-9 && x <= cfg.start_high + 1e-9) starts_.push_back(static_cast<std::uint32_t>(i));
  }
  for (std::size_t s = 0; s < kEngagementStages; ++s)
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      const EngagementEffect& f = cfg.effect[s][a];
      std::map<std::int32_t, double> p = rounded_uniform(f.gain - f.spread, f.gain + f.spread, step_);
      for (auto& [k, q] : p) q *= f.success;
      p[0] += 1 - f.success;
      // Cumulative thresholds in 2^32 units: the environment draws from, and the DP weighs by,
      // the very same numbers.
      std::vector<EngagementOutcome>& out = table_[s * kEngagementActions + a];
      double cumulative = 0;
      for (const auto& [k, q] : p) {
        cumulative += q;
        const auto upto = std::min<std::uint64_t>(std::uint64_t{1} << 32, static_cast<std::uint64_t>(std::llround(cumulative * 0x1.0p32)));
        if (upto > (out.empty() ? 0 : out.back().upto)) out.push_back(EngagementOutcome{k, upto});
      }
      out.back().upto = std::uint64_t{1} << 32;
    }
}

}  // namespace reinforcer
