#pragma once
// The fitted funnel as a finite-horizon MDP: state = (segment, milestones reached, week);
// each week one action, then the subscription (absorbing) may happen, and otherwise the
// milestones not yet reached may come -- as a jump to a set of milestones reached together,
// the jumps competing (hazards fitted per jump), so bursts such as a first call and a platform
// signup in the same week are as likely as in the data. Action effects are explicit assumptions:
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

// What can happen in one week when the customer does not subscribe: the milestones reached
// become `next` (possibly unchanged) with this probability (which already includes the
// 1 - P(subscribe) factor).
struct Transition {
  double probability;
  Progress next;
};

struct WeekOutcome {
  double subscribe;          // P(subscribing this week); absorbing
  const Transition* first;   // the other outcomes, most likely first
  const Transition* last;
};

class FunnelModel {
 public:
  // rates: weekly hazards per (segment, progress, event), flattened
  // (segment * kProgressStates + p) * kEvents + e, for `segments` segments.
  // jump_rates (optional): weekly hazards of reaching the milestone set S together, per
  // (segment, progress, S), flattened (segment * 32 + p) * 32 + S. With them, a week's
  // milestones come as one of these competing jumps (bursts as in the data); without them,
  // each open milestone happens on its own.
  FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config,
              std::vector<double> jump_rates = {});
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
  WeekOutcome week(std::int32_t segment, Progress p, Action a) const {
    const std::size_t r = row(segment, p, a);
    return WeekOutcome{subscribe_[r], transitions_.data() + begin_[r], transitions_.data() + begin_[r + 1]};
  }
  // Samples a week from a 32-bit uniform: true if the customer subscribes; else sets `next`.
  bool sample_week(std::int32_t segment, Progress p, Action a, std::uint32_t u, Progress& next) const {
    const std::size_t r = row(segment, p, a);
    if (u < subscribe_threshold_[r]) return true;
    std::size_t i = begin_[r];
    const std::size_t last = begin_[r + 1] - 1;
    while (i < last && u >= thresholds_[i]) ++i;
    next = transitions_[i].next;
    return false;
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
  std::vector<double> jump_rates_;
  std::vector<double> subscribe_;                   // per row
  std::vector<std::uint32_t> subscribe_threshold_;  // per row
  std::vector<std::uint32_t> begin_;                // per row + 1: into transitions_
  std::vector<Transition> transitions_;
  std::vector<std::uint32_t> thresholds_;           // cumulative, aligned with transitions_
  std::vector<std::int32_t> segment_nodes_;
  std::vector<std::int32_t> node_segment_;
};

// Hazard multiplier of `event` under action a (1 for the subscription).
double effect_multiplier(const ActionEffects& effects, Action a, std::size_t event);

}  // namespace reinforcer
