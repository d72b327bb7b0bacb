#pragma once
// The fitted funnel as a finite-horizon MDP: state = (segment, milestones reached, week since
// t0); each week, in this order:
//   1. the status quo: the milestones not yet reached may come, as a jump to a set of
//      milestones reached together (the jumps compete, hazards fitted per jump and duration
//      band), so bursts such as a first call and a platform signup in one week are as likely as
//      in the data;
//   2. the action: besides that, with the assumed probability success.<action> it reaches its
//      own milestone this week (a message: a first call), independently of step 1 -- "wait" is
//      the status quo, and no action lowers any milestone's chance;
//   3. the subscription (absorbing), at the hazard of the progress reached after steps 1-2
//      (events within a week are ordered by day: milestones come before a subscription).
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/env/action.hpp"
#include "reinforcer/env/hazards.hpp"

namespace reinforcer {

// Assumptions, not data (the export records events, not actions): the chance that an action
// reaches its milestone in the week it is taken, beyond the status quo. Placeholders until a
// randomised test measures them; every output says so, and the break-even answers do not
// depend on them.
struct ActionSuccess {
  std::array<double, kActions> probability{0.02, 0.05, 0.05, 0.05, 0.05, 0.10, 0.0};
  double of(Action a) const { return probability[static_cast<std::size_t>(a)]; }
};

struct FunnelConfig {
  int horizon_weeks = 52;
  ActionSuccess success;
  ActionCosts costs;
  double subscription_reward = 100.0;
};

// The status quo of a config: every action's success 0 (the historical process; costs kept).
FunnelConfig status_quo(FunnelConfig c);

// Duration dependence: multipliers of the hazards per (segment, band), for the events
// ((segment * kBands + b) * kEvents + e) and the jumps (segment * kBands + b). Empty: 1.
struct BandFactors {
  std::vector<double> event;
  std::vector<double> jump;
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
  double subscribe_with_first_call;  // P(subscribing this week with the first call reached by then)
};

class FunnelModel {
 public:
  // rates: weekly hazards per (segment, progress, event), flattened
  // (segment * kProgressStates + p) * kEvents + e, for `segments` segments.
  // jump_rates (optional): weekly hazards of reaching the milestone set S together, per
  // (segment, progress, S), flattened (segment * 32 + p) * 32 + S. With them, a week's
  // milestones come as one of these competing jumps (bursts as in the data); without them,
  // each open milestone happens on its own. bands (optional): duration multipliers.
  FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config,
              std::vector<double> jump_rates = {}, BandFactors bands = {});
  // From estimated hazards: the segments are the encoder's leaves, in node order -- or, with
  // all_nodes, every node of the tree (so customers whose feature combination the fitting
  // customers lack, and who map to an inner node, have states too).
  static FunnelModel from_estimates(const SegmentEncoder& encoder, const HazardEstimates& h, FunnelConfig config,
                                    bool all_nodes = false);
  // The same hazards under other assumptions (success, costs, reward, horizon).
  FunnelModel with_config(FunnelConfig config) const;
  // Refills this model in place as one segment: segment 0 becomes what node `node` is in
  // from_estimates(encoder, h, config, ...), to the bit, reusing the buffers this model holds
  // (a refit streams every segment through one model instead of building all of them).
  // Such a model is for exact evaluation (week(), DP): it has no sampling tables, and
  // sample_no_subscription / sample_status_quo must not be called on it.
  // rows = false: the hazards only, nothing built -- for callers that need no more than
  // status_quo_subscription_curve (the predictive subset score); week() must not be called.
  // rows_through > horizon: the rows of the weeks before it are built too (they are the same
  // for any horizon), so set_horizon can lengthen the model to it without a rebuild.
  void assign_segment(const HazardEstimates& h, std::size_t node, const FunnelConfig& config, bool rows = true,
                      int rows_through = 0);
  // The same model with another horizon, its rows as built: the horizon may not reach past the
  // weeks whose rows were built (the config's horizon, or assign_segment's rows_through).
  void set_horizon(int weeks);
  // The same model with another subscription reward: no row depends on it (it enters the
  // values only), so nothing is rebuilt.
  void set_subscription_reward(double reward) { config_.subscription_reward = reward; }
  // P(subscribed by the end of week w), w = 0..horizon-1, for a customer at `start` in week 0
  // who is left to the status quo (wait every week): what cumulative_event_probabilities gives
  // for always(wait), to the bit, straight from the hazards (no built rows needed). With
  // weeks >= 0, only its first min(weeks, horizon) values (the same bits).
  std::vector<double> status_quo_subscription_curve(std::int32_t segment, Progress start, int weeks = -1) const;

  std::size_t segments() const { return segments_; }
  int horizon() const { return config_.horizon_weeks; }
  std::size_t states() const { return segments_ * kProgressStates * static_cast<std::size_t>(config_.horizon_weeks); }
  // Rows (segment, week, progress), progress innermost: the states a week can lead to lie
  // within one 32-row block, which the all-actions update reads together.
  std::uint32_t state_index(std::int32_t segment, Progress p, int week) const {
    return static_cast<std::uint32_t>((static_cast<std::size_t>(segment) * static_cast<std::size_t>(config_.horizon_weeks) +
                                       static_cast<std::size_t>(week)) * kProgressStates + p);
  }
  const FunnelConfig& config() const { return config_; }
  double rate(std::int32_t segment, Progress p, std::size_t event) const {
    return rates_[(static_cast<std::size_t>(segment) * kProgressStates + p) * kEvents + event];
  }
  // Duration multiplier of event e in band b (1 without bands).
  double band_factor(std::int32_t segment, std::size_t band, std::size_t event) const {
    return bands_.event.empty() ? 1.0 : bands_.event[(static_cast<std::size_t>(segment) * kBands + band) * kEvents + event];
  }
  WeekOutcome week(std::int32_t segment, Progress p, int week, Action a) const {
    const std::size_t r = row(segment, p, week, a);
    return WeekOutcome{subscribe_[r], transitions_.data() + begin_[r], transitions_.data() + begin_[r + 1],
                       subscribe_first_call_[r]};
  }
  // Samples the progress after a week without a subscription, from a 32-bit uniform.
  Progress sample_no_subscription(std::int32_t segment, Progress p, int week, Action a, std::uint32_t u) const {
    const std::size_t r = row(segment, p, week, a);
    const std::uint32_t lo = subscribe_threshold_[r];
    const auto v = static_cast<std::uint32_t>(lo + ((static_cast<std::uint64_t>(0xFFFFFFFFu - lo) * u) >> 32));
    std::size_t i = begin_[r];
    const std::size_t last = begin_[r + 1] - 1;
    while (i < last && v >= thresholds_[i]) ++i;
    return transitions_[i].next;
  }
  // Samples the status quo's milestones of a week (before any action) from a 32-bit uniform.
  Progress sample_status_quo(std::int32_t segment, Progress p, int week, std::uint32_t u) const {
    const std::size_t r = (static_cast<std::size_t>(segment) * kBands + week_band_[static_cast<std::size_t>(week)]) *
                              kProgressStates + p;
    std::size_t i = sq_begin_[r];
    const std::size_t last = sq_begin_[r + 1] - 1;
    while (i < last && u >= sq_threshold_[i]) ++i;
    return sq_next_[i];
  }
  // P(subscribing in a week that ends at progress q), at the week's duration band.
  double subscription_at(std::int32_t segment, Progress q, int week) const {
    return end_subscription_[(static_cast<std::size_t>(segment) * kBands + week_band_[static_cast<std::size_t>(week)]) *
                                 kProgressStates + q];
  }
  // The milestones some action can add (success > 0), as a progress mask.
  unsigned actionable_milestones() const { return actionable_; }
  // Whether action a's week from p differs from the status quo's: its milestone is not yet
  // reached and its success is above 0. Where it does not, its row is the status quo's row to
  // the bit (same outcomes, same order), so a solver may reuse that row's sums.
  bool acts(Action a, Progress p) const { return (action_milestone_[static_cast<std::size_t>(a)] & ~static_cast<unsigned>(p)) != 0; }
  // 2^32 x success.<action> (0 for an action without a milestone), for sampling by comparison.
  std::uint32_t success_threshold(Action a) const { return success_threshold_[static_cast<std::size_t>(a)]; }
  // P(the week's milestones end at progress q) under the status quo, before any action.
  std::array<double, kProgressStates> status_quo_distribution(std::int32_t segment, Progress p, int week) const {
    std::array<double, kProgressStates> d{};
    status_quo_week(segment, week_band_[static_cast<std::size_t>(week)], p, d);
    return d;
  }
  // P(the week ends at progress q and the customer subscribes), per q: the subscription's
  // share of WeekOutcome::subscribe by the milestones it comes with (for outcome tables).
  std::array<double, kProgressStates> subscribed_by_progress(std::int32_t segment, Progress p, int week, Action a) const;
  double cost(Action a) const { return config_.costs.cost[static_cast<std::size_t>(a)]; }
  // Bytes held by the model's tables (for memory estimates).
  std::size_t memory_bytes() const {
    return rates_.size() * 8 + jump_rates_.size() * 8 + subscribe_.size() * 20 + begin_.size() * 4 +
           (begin_.empty() ? 0 : begin_.back()) * (sizeof(Transition) + 4) + sq_next_.size() * 5 + sq_begin_.size() * 4 +
           end_subscription_.size() * 8;
  }
  // At least memory_bytes() of any model of `segments` segments, known without fitting one:
  // a week from progress p reaches only supersets of p, 3^5 = 243 outcomes over the 32 p.
  static std::size_t memory_bytes_bound(std::size_t segments) {
    static_assert(kProgressStates == 32, "243 = 3^5 counts the supersets of five milestones");
    constexpr std::size_t kReachable = 243;
    const std::size_t blocks = segments * kBands, rows = blocks * kProgressStates * kActions;
    return segments * kProgressStates * (kEvents + kProgressStates) * 8 + rows * 20 + (rows + 1) * 4 +
           blocks * kReachable * kActions * (sizeof(Transition) + 4) + blocks * kReachable * 5 +
           (blocks * kProgressStates + 1) * 4 + blocks * kProgressStates * 8;
  }
  // Leaf node of each segment (set by from_estimates; empty otherwise).
  const std::vector<std::int32_t>& segment_nodes() const { return segment_nodes_; }
  std::int32_t segment_of_node(std::int32_t node) const;  // -1 if not a leaf

 private:
  // Rows per (segment, band, progress, action); the band of a week is looked up once.
  std::size_t row(std::int32_t segment, Progress p, int week, Action a) const {
    return ((static_cast<std::size_t>(segment) * kBands + week_band_[static_cast<std::size_t>(week)]) * kProgressStates +
            p) * kActions + static_cast<std::size_t>(a);
  }
  void build();  // the tables from rates_, jump_rates_, bands_ and config_
  int rows_through_ = 0;  // build() also builds the rows of the weeks before this one
  void add_action(Action a, Progress p, const std::array<double, kProgressStates>& status_quo,
                  std::array<double, kProgressStates>& after) const;
  // P(progress after the status quo's milestones of a week from p in band b), per progress.
  void status_quo_week(std::int32_t segment, std::size_t band, Progress p, std::array<double, kProgressStates>& dist) const;
  std::size_t segments_;
  std::vector<double> rates_;
  FunnelConfig config_;
  std::vector<double> jump_rates_;
  BandFactors bands_;
  std::vector<std::uint8_t> week_band_;             // per week of the horizon
  // The status quo's week per (segment, band, progress): outcomes most likely first.
  std::vector<std::uint32_t> sq_begin_;
  std::vector<Progress> sq_next_;
  std::vector<std::uint32_t> sq_threshold_;
  std::vector<double> end_subscription_;            // per (segment, band, progress reached)
  std::array<std::uint32_t, kActions> success_threshold_{};
  unsigned actionable_ = 0;
  std::array<unsigned, kActions> action_milestone_{};  // its milestone's bit where success > 0, else 0
  std::vector<double> subscribe_;                   // per row
  std::vector<double> subscribe_first_call_;        // per row: of which with the first call reached
  std::vector<std::uint32_t> subscribe_threshold_;  // per row
  std::vector<std::uint32_t> begin_;                // per row + 1: into transitions_
  std::vector<Transition> transitions_;
  std::vector<std::uint32_t> thresholds_;           // cumulative, aligned with transitions_
  std::vector<std::int32_t> segment_nodes_;
  std::vector<std::int32_t> node_segment_;
  bool sampling_ = true;  // build the sampling thresholds (not for assign_segment's models)
};


}  // namespace reinforcer
