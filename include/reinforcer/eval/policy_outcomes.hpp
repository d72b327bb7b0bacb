#pragma once
// Exact outcomes of a policy in the fitted funnel, by dynamic programming: expected reward
// (discounted), and the probabilities of subscribing and of reaching a first call within the
// horizon, and the expected cost (undiscounted) -- per state, and averaged over start states.
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

// Action probabilities of a policy in (segment, progress, week).
using PolicyRule = std::function<void(std::int32_t segment, Progress p, int week, std::array<double, kActions>& probs)>;

PolicyRule deterministic_policy(const FunnelModel& model, std::vector<std::uint8_t> action_per_state);
PolicyRule random_policy();
PolicyRule always(Action a);
// message -> call (until the first call) -> demo -> signup nudge -> account manager -> wait.
PolicyRule textbook_policy();

struct OutcomeTables {
  std::vector<double> reward, subscribe, first_call, cost;  // per state
};

struct PolicyOutcome {
  double reward = 0;         // expected discounted reward per customer
  double subscribe = 0;      // P(subscribed within the horizon)
  double first_call = 0;     // P(first call reached by the horizon, including at t0)
  double cost = 0;           // expected action cost per customer
  double cost_per_acquisition() const { return subscribe > 0 ? cost / subscribe : 0; }
};

OutcomeTables evaluate_outcomes(const FunnelModel& model, double gamma, const PolicyRule& policy);
// The same into `out`, reusing its buffers (every element is overwritten).
void evaluate_outcomes(const FunnelModel& model, double gamma, const PolicyRule& policy, OutcomeTables& out);
// The same for a deterministic policy given as one action per state (the layout of
// DpSolution::policy), without a rule call per state: equal, to the bit, to the rule that puts
// probability 1 on that action.
void evaluate_outcomes(const FunnelModel& model, double gamma, const std::uint8_t* action_per_state, OutcomeTables& out);
// The outcomes of random_policy() (every action alike, every week), into `out`: a week's
// actions are averaged once per (band, progress) into one mean transition row, so a state
// costs one pass over the milestones it can reach instead of one per action. Equal to
// evaluate_outcomes(model, gamma, random_policy()) up to rounding.
void evaluate_random_outcomes(const FunnelModel& model, double gamma, OutcomeTables& out);
// One segment's outcomes at weeks 0 and 1 (week 1 zero when the horizon is one week): what the
// functions above give at those states, to the bit, from a pass that holds two weeks at a time
// rather than tables of every state. `actions`: that segment's actions per (week, progress),
// actions[week * kProgressStates + progress] (its rows of DpSolution::policy).
struct SegmentOutcomes {
  std::array<PolicyOutcome, kProgressStates> week0, week1;
};
void evaluate_segment_outcomes(const FunnelModel& model, double gamma, std::int32_t segment, const std::uint8_t* actions,
                               SegmentOutcomes& out);
void evaluate_random_segment_outcomes(const FunnelModel& model, double gamma, std::int32_t segment, SegmentOutcomes& out);
PolicyOutcome mean_outcome(const FunnelModel& model, const OutcomeTables& t, const std::vector<StartState>& starts);

// P(event e has happened by the end of week w), for w = 0..H-1, starting from (segment,
// progress) at week 0 and following `policy`: the forward view used for calibration.
// Result [w * kEvents + e]; milestones already reached at the start count as happened.
std::vector<double> cumulative_event_probabilities(const FunnelModel& model, std::int32_t segment, Progress start,
                                                   const PolicyRule& policy);

}  // namespace reinforcer
