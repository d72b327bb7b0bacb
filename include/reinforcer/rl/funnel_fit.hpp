#pragma once
// Everything learned from the fitting customers for the funnel: encoder, hazards, the MDP and
// its exact DP solution (the recommendation, and the referee of the learned policy).
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

// The one rule that turns a learned Q-table into a policy, used by train, evaluate and
// recommend alike: in each state the action of greatest value among those some worker tried
// there (lowest action on ties); a state no worker visited waits (the status quo) -- an
// untried action's initial 0 is no estimate.
std::vector<std::uint8_t> learned_policy(const std::vector<double>& q, const std::vector<std::int64_t>& visits,
                                         std::size_t stride);

// Regret of a policy to the optimum, in shares: (V* - V^pi) / max(|V*|, floor), V averaged
// over start states; floor = 1% of the subscription reward, so where the optimum is worth
// almost nothing the figure is an absolute regret per customer in hundredths of a reward.
double regret_share(double optimum, double value, double reward);

struct FunnelFit {
  std::vector<std::size_t> fitting;
  SegmentEncoder encoder;
  HazardEstimates hazards;
  FunnelModel model;
  std::vector<StartState> starts;      // one per fitting customer
  std::vector<CustomerHistory> histories;  // one per fitting customer (leaf segment index in .node)
  std::vector<Cohort> cohorts;         // one per fitting customer
  DpSolution dp;  // values and policy; q is not held (optimal_q)
  double gamma;
  double dp_start_value() const { return mean_start_value(model, dp.value, starts); }
  // Regret of a Q-table's learned policy (learned_policy) over all start states.
  double regret_of(const std::vector<double>& q, const std::vector<std::int64_t>& visits) const;
};

// What a fit would be made of, known without fitting (train --dry-run): the fitting customers
// and the segments, the encoder's leaves.
struct FunnelPlan {
  std::vector<std::size_t> fitting;
  std::size_t segments = 0;
};
FunnelPlan plan_funnel(const CustomerTable& table, std::vector<std::size_t> fitting, const FeatureMask& mask);

// Shards of workers first_worker .. first_worker + count - 1 of `workers`, over the fitting
// customers (positions in fit.fitting, by a hash of their ID); with replicate_subscribers
// (replay), every subscriber is in every shard. A customer subscribed on or before t0 is no
// prospect and starts no episode (it still counts in the hazards).
std::vector<std::vector<std::uint32_t>> fitting_shards(const CustomerTable& table, const FunnelFit& fit,
                                                       int first_worker, int count, int workers,
                                                       bool replicate_subscribers);
// The same over `fitting` (the positions a FunnelFit's fitting holds).
std::vector<std::vector<std::uint32_t>> fitting_shards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                                       int first_worker, int count, int workers,
                                                       bool replicate_subscribers);

// Funnel episode starts of some workers, from their shards (positions in fit.fitting; see
// worker_shard): a worker's own customers, and every subscriber's start at the `oversample`
// share of episodes -- the same for any number of workers.
std::vector<FunnelShard> funnel_shards(const CustomerTable& table, const FunnelFit& fit,
                                       const std::vector<std::vector<std::uint32_t>>& own, double oversample);

FunnelFit fit_funnel(const CustomerTable& table, std::vector<std::size_t> fitting, const FeatureMask& mask,
                     const HazardOptions& hazard_options, const FunnelConfig& config, double gamma);

}  // namespace reinforcer
