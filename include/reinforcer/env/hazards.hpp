#pragma once
// Weekly hazards of the funnel, estimated from the data as events per person-week at risk,
// censored at the export date: per segment and progress (empirical-Bayes shrinkage toward the
// parent segment; the root's progress states toward their lower-progress neighbours), times a
// factor per band of weeks since t0 (duration dependence, shrunk toward no dependence).
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

// Bands of weeks since t0 over which hazards are piecewise constant: 0-3, 4-12, 13-25,
// 26-51, 52 and later (a lead contacted a year ago is not as warm as a fresh one).
inline constexpr std::size_t kBands = 5;
inline constexpr std::array<int, kBands> kBandFirstWeek = {0, 4, 13, 26, 52};
inline constexpr std::size_t band_of_week(int week) {
  std::size_t b = 0;
  while (b + 1 < kBands && week >= kBandFirstWeek[b + 1]) ++b;
  return b;
}

inline constexpr int kAllFollowUp = 1 << 30;

// A jump S (a non-empty set of milestones reached together in one week) is possible from
// progress p only when disjoint from it: 3^5 - 2^5 = 211 of the 32 x 32 (p, S) pairs. The
// estimates hold those cells alone (at 1M customers a dense 32 x 32 per node and table was
// 24 KB a node, four fifths of it cells that stay 0).
inline constexpr bool jump_possible(std::size_t progress, std::size_t jump) { return jump != 0 && (jump & progress) == 0; }
inline constexpr std::size_t kJumpCells = 211;
inline constexpr std::uint16_t kNoJumpCell = 0xFFFF;
// The cell of (p, S), p * kProgressStates + S, among a node's kJumpCells (p ascending, then S);
// kNoJumpCell where the jump is not possible.
inline constexpr std::array<std::uint16_t, kProgressStates * kProgressStates> kJumpCellOf = [] {
  std::array<std::uint16_t, kProgressStates * kProgressStates> cell{};
  std::uint16_t next = 0;
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t j = 0; j < kProgressStates; ++j)
      cell[p * kProgressStates + j] = jump_possible(p, j) ? next++ : kNoJumpCell;
  return cell;
}();
static_assert(kJumpCellOf[(kProgressStates - 2) * kProgressStates + 1] == kJumpCells - 1, "211 possible jumps");

struct HazardOptions {
  // Follow-up counted per customer, in weeks from t0 (default: all of it, to the export date).
  // Not the decision horizon: the last duration band (52 weeks and later) is estimated from
  // the weeks after it, which scoring an old open lead at the export date needs.
  int follow_up_weeks = kAllFollowUp;
  Day export_date = kNoDay;                                 // censoring date (inclusive)
  Day demo_survey_recorded_from = days_from_civil(2021, 8, 31);  // earlier weeks are not at risk
  // Prior strength a (in expected events) of the Gamma prior around the parent's rate;
  // negative: estimated by the method of moments per (depth, event) (empirical Bayes).
  double shrinkage_strength = -1.0;
  // The root (all customers) keeps a rate per progress state -- progress is a known, strong
  // effect -- with a weak prior worth this many person-weeks at the highest rate of its
  // lower-progress neighbours (the states with one milestone fewer; for a jump, the rate of
  // reaching the same state from there), never at a rate pooled over progress, which the many
  // weeks at "none" would dominate and make rare advanced states dead ends. Reaching a
  // milestone is thus not assumed to lower any hazard; enough data can still say it does.
  double root_prior_weeks = 52.0;
  // Prior strength (in expected events) of the Gamma(a, a) prior around 1 of each duration
  // band's factor: a band with few events keeps close to the all-bands rate.
  double band_prior_events = 3.0;
};

// Per (segment node, progress, event): flattened as ((node * kProgressStates) + p) * kEvents + e.
// Within a week the milestones come first (ordered by day), then the subscription: a
// subscription is at risk, and counted, in the progress state that holds the week's
// milestones dated before it.
struct HazardEstimates {
  std::size_t nodes = 0;
  std::vector<double> events;    // observed events in the node's subtree, all bands
  std::vector<double> exposure;  // person-weeks at risk in the node's subtree, all bands
  std::vector<double> rate;      // shrunk weekly hazard (all bands); 0 for a milestone already in the progress
  // Per (depth, event), depth * kEvents + e: below the root the Gamma shape a used; at depth 0
  // the root's prior weight in person-weeks (root_prior_weeks).
  std::vector<double> prior_strength;
  static std::size_t index(std::size_t node, std::size_t progress, std::size_t event) {
    return (node * kProgressStates + progress) * kEvents + event;
  }
  // Jumps: the set of milestones reached together in one week (S, a bit mask, non-empty,
  // disjoint from the progress p) as one competing risk -- milestones come in bursts (a first
  // call and a platform signup in the same week), which independent milestones miss.
  // Flattened node * kJumpCells + kJumpCellOf[p * kProgressStates + S], possible jumps only;
  // shrunk like the events.
  std::vector<double> jump_events, jump_exposure, jump_rate;
  std::vector<double> jump_prior_strength;  // per depth, as prior_strength
  // (node, p, S) for a possible jump (jump_possible(p, S)); any other has no cell.
  static std::size_t jump_index(std::size_t node, std::size_t progress, std::size_t jump) {
    return node * kJumpCells + kJumpCellOf[progress * kProgressStates + jump];
  }
  // One node's jump rates laid out densely, p * kProgressStates + S (0 where no jump is
  // possible), as the funnel model reads them.
  void dense_jump_rates(std::size_t node, double* out) const {
    const double* cells = jump_rate.data() + node * kJumpCells;
    for (std::size_t i = 0; i < kProgressStates * kProgressStates; ++i)
      out[i] = kJumpCellOf[i] == kNoJumpCell ? 0.0 : cells[kJumpCellOf[i]];
  }
  // Person-weeks in (node, progress) per duration band, (node * kProgressStates + p) * kBands + b:
  // the weeks that start in that state (the milestones' exposure, before the demo/survey rule).
  std::vector<double> band_exposure;
  // Duration dependence: the weekly hazard of event e in band b is rate x band_factor, the
  // factor fitted per band on the node's top segment (depth 1: the first feature, e.g. the
  // cohort) as (observed + a) / (expected + a), expected from the all-bands rates and a =
  // band_prior_events. Flattened (node * kBands + b) * kEvents + e; jumps (node * kBands + b).
  std::vector<double> band_events, band_expected, band_factor;
  std::vector<double> jump_band_events, jump_band_expected, jump_band_factor;
  static std::size_t band_index(std::size_t node, std::size_t band, std::size_t event) {
    return (node * kBands + band) * kEvents + event;
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
// The same with fitting customer k counted multiplicity[k] times (a bootstrap resample as
// counts; empty: once each): equal, to the bit, to passing fitting[k] that many times.
HazardEstimates estimate_hazards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                 const std::vector<std::uint32_t>& multiplicity, const SegmentEncoder& encoder,
                                 const HazardOptions& options);

// The estimates of some nodes only, equal to the bit to what estimate_hazards gives them:
// node k of the result is node wanted[k] of the encoder, with its rate, jump_rate, band_factor
// and jump_band_factor (what FunnelModel::assign_segment reads; the other fields are left
// empty). The tree's other nodes count only through the cells they hold exposure in, so a deep
// tree of small segments (a dozen features) costs its customers' cells, not 22 KB a node.
HazardEstimates estimate_hazards_at(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                    const std::vector<std::uint32_t>& multiplicity, const SegmentEncoder& encoder,
                                    const HazardOptions& options, const std::vector<std::int32_t>& wanted);

}  // namespace reinforcer
