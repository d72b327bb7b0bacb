#pragma once
// Weekly hazards of the funnel, estimated from the data as events per person-week at risk,
// censored at the export date, with empirical-Bayes shrinkage toward the parent segment.
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/action.hpp"
#include "reinforcer/env/segment_encoder.hpp"

namespace reinforcer {

// Events of the weekly competing-risks process: the five step milestones (in Milestone
// order), then the subscription.
inline constexpr std::size_t kEvents = kStepMilestones + 1;
inline constexpr std::size_t kSubscriptionEvent = kStepMilestones;

struct HazardOptions {
  int horizon_weeks = 26;                                   // follow-up counted per customer
  Day export_date = kNoDay;                                 // censoring date (inclusive)
  Day demo_survey_recorded_from = days_from_civil(2021, 8, 31);  // earlier weeks are not at risk
  // Prior strength a (in expected events) of the Gamma prior around the parent's rate;
  // negative: estimated by the method of moments per (depth, event) (empirical Bayes).
  double shrinkage_strength = -1.0;
  // The root (all customers) is not shrunk across progress states -- progress is a known,
  // strong effect -- but only given a weak prior worth this many person-weeks at the rate
  // pooled over progress, so a state seen for a week or two is not taken at face value.
  double root_prior_weeks = 52.0;
};

// Per (segment node, progress, event): flattened as ((node * kProgressStates) + p) * kEvents + e.
struct HazardEstimates {
  std::size_t nodes = 0;
  std::vector<double> events;    // observed events in the node's subtree
  std::vector<double> exposure;  // person-weeks at risk in the node's subtree
  std::vector<double> rate;      // shrunk weekly hazard; 0 for a milestone already in the progress
  // Per (depth, event), depth * kEvents + e: below the root the Gamma shape a used; at depth 0
  // the root's prior weight in person-weeks (root_prior_weeks).
  std::vector<double> prior_strength;
  static std::size_t index(std::size_t node, std::size_t progress, std::size_t event) {
    return (node * kProgressStates + progress) * kEvents + event;
  }
  // Jumps: the set of milestones reached together in one week (S, a bit mask, non-empty,
  // disjoint from the progress p) as one competing risk -- milestones come in bursts (a first
  // call and a platform signup in the same week), which independent milestones miss.
  // Flattened (node * kProgressStates + p) * kProgressStates + S; shrunk like the events.
  std::vector<double> jump_events, jump_exposure, jump_rate;
  std::vector<double> jump_prior_strength;  // per depth, as prior_strength
  static std::size_t jump_index(std::size_t node, std::size_t progress, std::size_t jump) {
    return (node * kProgressStates + progress) * kProgressStates + jump;
  }
};

// One fitting customer's path through the funnel, as the hazard estimate and the replay
// environment read it.
struct CustomerHistory {
  std::int32_t node = 0;       // leaf segment
  Progress start = 0;          // milestones reached at t0 (dated on or before t0)
  std::array<std::int32_t, kStepMilestones> step_week{};  // week reached (as causes); -1: not
  std::int32_t subscribed_week = -1;   // week of subscription; -1: not (within follow-up or ever)
  bool subscribed = false;             // the label
  double observed_weeks = 0;           // follow-up until the export date, capped at the horizon
};

// Rules (DESIGN.md "Environments", CONTRACT.md): week k covers days [t0+7k, t0+7k+7); a step
// dated before t0 counts as reached at t0; steps dated on or after the subscription are not
// causes; a subscriber without a date (Stage only) subscribes in the week of its latest step
// (or week 0); follow-up ends at the export date (a partly observed week counts as the
// observed fraction), the subscription, or the horizon.
CustomerHistory history_of(const Customer& c, std::int32_t node, const HazardOptions& options);

// The milestones a customer has reached at decision time: the steps dated on or before t0,
// whatever happened later (no outcome enters it). Targeting and the call list score this.
Progress decision_progress(const Customer& c);

HazardEstimates estimate_hazards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                 const SegmentEncoder& encoder, const HazardOptions& options);

}  // namespace reinforcer
