#pragma once
// The check that progress never lowers the modelled chance of subscribing: under the
// historical process (every action's success 0, no costs), per cohort, V(p + milestone) >=
// V(p) - the half-width of the difference's interval over bootstrap refits, for every pair of
// progress states that both have exposure in the cohort. Shared by the synthetic and the
// real-export tests.
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer::test {

struct ProgressValueViolation {
  std::string cohort, from, to;
  double difference, half_width;
};
struct ProgressValueCheck {
  std::size_t pairs = 0;  // (p, p + milestone) pairs compared
  std::vector<ProgressValueViolation> violations;
};

inline ProgressValueCheck progress_value_check(const CustomerTable& table, Day export_date, int refits) {
  std::vector<std::size_t> fitting;
  std::vector<std::uint8_t> cohort;
  for (std::size_t i = 0; i < table.customers.size(); ++i)
    if (table.customers[i].cohort != Cohort::undated)
      fitting.push_back(i), cohort.push_back(static_cast<std::uint8_t>(table.customers[i].cohort));
  const SegmentEncoder encoder(table, fitting, parse_feature_mask("cohort"));
  HazardOptions h;
  h.export_date = export_date;
  FunnelConfig config;
  config.success.probability.fill(0.0);
  config.costs.cost.fill(0.0);
  auto start_values = [&](const std::vector<std::size_t>& sample) {
    const HazardEstimates est = estimate_hazards(table, sample, encoder, h);
    const FunnelModel m = FunnelModel::from_estimates(encoder, est, config);
    const auto v = evaluate_policy(m, 1.0, std::vector<std::uint8_t>(m.states(), static_cast<std::uint8_t>(Action::wait)));
    std::vector<double> out(m.segments() * kProgressStates);
    for (std::size_t s = 0; s < m.segments(); ++s)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        out[s * kProgressStates + p] = v[m.state_index(static_cast<std::int32_t>(s), static_cast<Progress>(p), 0)];
    return std::make_pair(out, est);
  };
  const auto [point, est] = start_values(fitting);
  std::vector<std::vector<double>> reps;
  for (int b = 0; b < refits; ++b) {
    std::vector<std::size_t> sample;
    for (std::uint32_t k : bootstrap_sample_stratified(cohort, 77, static_cast<std::uint64_t>(b))) sample.push_back(fitting[k]);
    reps.push_back(start_values(sample).first);
  }
  const FunnelModel shape = FunnelModel::from_estimates(encoder, est, config);
  ProgressValueCheck out;
  for (std::size_t s = 0; s < shape.segments(); ++s) {
    const auto node = static_cast<std::size_t>(shape.segment_nodes()[s]);
    auto exposed = [&](std::size_t p) {
      return est.exposure[HazardEstimates::index(node, p, kSubscriptionEvent)] > 0;
    };
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t m = 0; m < kStepMilestones; ++m) {
        const std::size_t q = p | (std::size_t{1} << m);
        if (q == p || !exposed(p) || !exposed(q)) continue;
        std::vector<double> diffs;
        for (const auto& r : reps) diffs.push_back(r[s * kProgressStates + q] - r[s * kProgressStates + p]);
        const Interval ci = percentile_interval(diffs);
        const double d = point[s * kProgressStates + q] - point[s * kProgressStates + p];
        const double half = (ci.high - ci.low) / 2;
        ++out.pairs;
        if (d < -half)
          out.violations.push_back({encoder.describe(static_cast<std::int32_t>(node)), milestones_text(static_cast<Progress>(p)),
                         milestones_text(static_cast<Progress>(q)), d, half});
      }
  }
  return out;
}

}  // namespace reinforcer::test
