#pragma once
// Everything learned from the fitting customers for the funnel: encoder, hazards, the MDP,
// its exact DP solution and the reference values (random policy, optimum).
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/env/segment_encoder.hpp"
#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer {

// "all" (every dated customer), "train" (temporal train split) or "except-fold:I".
// Throws UsageError for a malformed value or an empty selection.
std::vector<std::size_t> select_fitting(const CustomerTable& table, const std::string& fit_on);

struct FunnelFit {
  std::vector<std::size_t> fitting;
  SegmentEncoder encoder;
  HazardEstimates hazards;
  FunnelModel model;
  std::vector<StartState> starts;      // one per fitting customer
  std::vector<CustomerHistory> histories;  // one per fitting customer (leaf segment index in .node)
  DpSolution dp;
  std::vector<double> random_value;
  double gamma;
  double dp_start_value() const { return mean_start_value(model, dp.value, starts); }
  double random_start_value() const { return mean_start_value(model, random_value, starts); }
  // Share of the random-to-optimum gap a Q-table's greedy policy leaves open (0 = optimal).
  double gap_of(const std::vector<double>& q, std::size_t stride) const;
};

FunnelFit fit_funnel(const CustomerTable& table, std::vector<std::size_t> fitting, const FeatureMask& mask,
                     const HazardOptions& hazard_options, const FunnelConfig& config, double gamma);

}  // namespace reinforcer
