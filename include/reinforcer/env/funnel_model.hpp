#pragma once
// The fitted funnel as a finite-horizon MDP: state = (segment, milestones reached, week);
// each week one action, then the subscription (absorbing) may happen, and otherwise at most
// one milestone not yet reached (the milestones compete). Action effects are explicit assumptions:
// the targeted milestone's hazard times effect.act, every other milestone times
// effect.idle, a message raises the first call's hazard by effect.message.
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/env/action.hpp"
#include "reinforcer/env/hazards.hpp"

namespace reinforcer {

struct ActionEffects {
  double act = 1.0;
  double idle = 0.5;
  double message = 0.75;
};

struct FunnelConfig {
  int horizon_weeks = 26;
  ActionEffects effects;
  ActionCosts costs;
  double subscription_reward = 100.0;
};

// Outcomes of one week: step milestone m (0..4), the subscription (5), or nothing (6).
inline constexpr std::size_t kOutcomes = kEvents + 1;
inline constexpr std::size_t kNoEvent = kEvents;

class FunnelModel {
 public:
  // rates: weekly hazards per (segment, progress, event), flattened
  // (segment * kProgressStates + p) * kEvents + e, for `segments` segments.
  FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config);
  // From estimated hazards: the segments are the encoder's leaves, in node order -- or, with
  // all_nodes, every node of the tree (so customers whose feature combination the fitting
  // customers lack, and who map to an inner node, have states too).
  static FunnelModel from_estimates(const SegmentEncoder& encoder, const HazardEstimates& h, FunnelConfig config,
                                    bool all_nodes = false);
  // The same hazards under other assumptions (effects, costs).
  FunnelModel with_config(FunnelConfig config) const;

  std::size_t segments() const { return segments_; }
  int horizon() const { return config_.horizon_weeks; }
  std::size_t states() const { return segments_ * kProgressStates * static_cast<std::size_t>(config_.horizon_weeks); }
  std::uint32_t state_index(std::int32_t segment, Progress p, int week) const {
    return static_cast<std::uint32_t>((static_cast<std::size_t>(segment) * kProgressStates + p) *
                                          static_cast<std::size_t>(config_.horizon_weeks) +
                                      static_cast<std::size_t>(week));
  }
  const FunnelConfig& config() const { return config_; }
  double rate(std::int32_t segment, Progress p, std::size_t event) const {
    return rates_[(static_cast<std::size_t>(segment) * kProgressStates + p) * kEvents + event];
  }
  // P(outcome | segment, progress, action).
  const std::array<double, kOutcomes>& outcome_probabilities(std::int32_t segment, Progress p, Action a) const {
    return probs_[row(segment, p, a)];
  }
  // Cumulative thresholds on a 32-bit uniform for sampling the first kOutcomes-1 outcomes.
  const std::array<std::uint32_t, kOutcomes - 1>& thresholds(std::int32_t segment, Progress p, Action a) const {
    return thresholds_[row(segment, p, a)];
  }
  double cost(Action a) const { return config_.costs.cost[static_cast<std::size_t>(a)]; }
  // Leaf node of each segment (set by from_estimates; empty otherwise).
  const std::vector<std::int32_t>& segment_nodes() const { return segment_nodes_; }
  std::int32_t segment_of_node(std::int32_t node) const;  // -1 if not a leaf

 private:
  std::size_t row(std::int32_t segment, Progress p, Action a) const {
    return (static_cast<std::size_t>(segment) * kProgressStates + p) * kActions + static_cast<std::size_t>(a);
  }
  std::size_t segments_;
  std::vector<double> rates_;
  FunnelConfig config_;
  std::vector<std::array<double, kOutcomes>> probs_;
  std::vector<std::array<std::uint32_t, kOutcomes - 1>> thresholds_;
  std::vector<std::int32_t> segment_nodes_;
  std::vector<std::int32_t> node_segment_;
};

// Hazard multiplier of `event` under action a (1 for the subscription).
double effect_multiplier(const ActionEffects& effects, Action a, std::size_t event);

}  // namespace reinforcer
