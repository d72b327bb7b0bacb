#pragma once
// What the dense hazard estimate (estimate_hazards) and the sparse one (estimate_hazards_at)
// share: the customer lookup, one customer's tally of days and events, the shrinkage's
// formulas and the root's rates. Internal to the env layer.
#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "reinforcer/env/hazards.hpp"

namespace reinforcer::hazard_detail {


inline constexpr std::size_t kDemo = static_cast<std::size_t>(Milestone::demo);
inline constexpr std::size_t kSurvey = static_cast<std::size_t>(Milestone::survey);
inline constexpr double kMaxStrength = 1e6;
inline constexpr double kMinStrength = 0.1;

inline void require_export_date(const HazardOptions& options) {
  if (options.export_date == kNoDay)
    throw std::invalid_argument("hazard estimate: HazardOptions::export_date is not set");
}

// Days of follow-up from t0 through the export date (inclusive); may be <= 0.
inline std::int64_t observed_days(const Customer& c, const HazardOptions& options) {
  return static_cast<std::int64_t>(options.export_date) + 1 - static_cast<std::int64_t>(c.t0);
}

// node_of hashes once per feature; a million calls would still dominate the estimate. The node depends only
// on the masked features, so it is memoised on them: the per-customer lookup allocates only
// the first time a feature combination is seen (dense table when small, hash map otherwise).
class NodeLookup {
 public:
  NodeLookup(const CustomerTable& table, const SegmentEncoder& encoder) : table_(table), encoder_(encoder) {
    for (Feature f : encoder.mask().order) {
      if (is_attribute(f)) {
        direct_ = true;  // node_of does not allocate; memoising on the built-in features alone would be wrong
        continue;
      }
      switch (f) {
        case Feature::cohort: use_cohort_ = true; break;
        case Feature::country: use_country_ = true; break;
        case Feature::education: use_education_ = true; break;
        case Feature::month: use_month_ = true; break;
      }
    }
    countries_ = table.countries.size() + 1;  // -1 (unknown) .. size-1
    const std::size_t size = (use_cohort_ ? 3 : 1) * (use_country_ ? countries_ : 1) *
                             (use_education_ ? kEducationLevels + 1 : 1) * (use_month_ ? 13 : 1);
    if (size <= (std::size_t{1} << 22)) dense_.assign(size, -1);
  }

  std::int32_t operator()(const Customer& c) {
    if (direct_) return encoder_.node_of(c, table_);
    std::size_t key = 0;
    if (use_cohort_) key = static_cast<std::size_t>(c.cohort);
    if (use_country_) {
      const auto country = static_cast<std::size_t>(static_cast<std::int64_t>(c.country) + 1);
      if (country >= countries_) throw std::invalid_argument("hazard estimate: customer country index out of range");
      key = key * countries_ + country;
    }
    if (use_education_) key = key * (kEducationLevels + 1) + std::min<std::size_t>(c.education, kEducationLevels);
    if (use_month_) key = key * 13 + (c.t0 == kNoDay ? 0 : static_cast<std::size_t>(civil_from_days(c.t0).month));
    if (!dense_.empty()) {
      std::int32_t& node = dense_[key];
      if (node < 0) node = encoder_.node_of(c, table_);
      return node;
    }
    auto it = sparse_.find(key);
    if (it == sparse_.end()) it = sparse_.emplace(key, encoder_.node_of(c, table_)).first;
    return it->second;
  }

 private:
  const CustomerTable& table_;
  const SegmentEncoder& encoder_;
  bool use_cohort_ = false, use_country_ = false, use_education_ = false, use_month_ = false, direct_ = false;
  std::size_t countries_ = 1;
  std::vector<std::int32_t> dense_;
  std::unordered_map<std::size_t, std::int32_t> sparse_;
};

// Cells of one node's counts (DayCounts' layout with the node's offset taken away).
inline std::size_t days_cell(Progress p, std::size_t b, bool recorded) { return (p * kBands + b) * 2 + (recorded ? 1 : 0); }
inline std::size_t band_cell(Progress p, std::size_t b) { return p * kBands + b; }
inline std::size_t count_cell(Progress p, std::size_t b, std::size_t e) { return (p * kBands + b) * kEvents + e; }
inline std::size_t jump_cell(Progress p, std::size_t jump) { return p * kProgressStates + jump; }

// One fitting customer's person-days at risk and events, counted n times, into a sink with
// days(cell, v), sub_days, counts, jumps and moves (cells as above): the dense counts of
// estimate_hazards and the sparse ones of estimate_hazards_at take the same tally.
template <typename Sink>
inline void tally_customer(const Customer& c, const CustomerHistory& h, std::int64_t avail, std::int64_t n, int horizon,
                    const HazardOptions& options, Sink& sink) {
  std::int64_t weeks = std::min<std::int64_t>(horizon, (avail + 6) / 7);
  if (h.subscribed_week >= 0) weeks = std::min<std::int64_t>(weeks, h.subscribed_week + 1);
  Progress p = h.start;
  // Week by week while events can happen; after the last one the state no longer changes,
  // so the quiet tail's exposure is added per (band, recorded) run in one go.
  std::int64_t last_event = h.subscribed_week;
  for (std::size_t m = 0; m < kStepMilestones; ++m) last_event = std::max<std::int64_t>(last_event, h.step_week[m]);
  const std::int64_t busy = std::min<std::int64_t>(weeks, last_event + 1);
  for (std::int64_t week = 0; week < busy; ++week) {
    const std::int64_t week_start = static_cast<std::int64_t>(c.t0) + 7 * week;
    const bool recorded = week_start >= static_cast<std::int64_t>(options.demo_survey_recorded_from);
    const std::size_t b = band_of_week(static_cast<int>(week));
    const std::int64_t days = std::min<std::int64_t>(7, avail - 7 * week);
    sink.days(days_cell(p, b, recorded), n * days);
    Progress next = p;
    for (std::size_t m = 0; m < kStepMilestones; ++m) {
      if (h.step_week[m] != week) continue;
      next = static_cast<Progress>(next | (1u << m));
      if (h.start & (1u << m)) continue;
      if ((m == kDemo || m == kSurvey) && !recorded) continue;
      sink.counts(count_cell(p, b, m), n);
    }
    if (next != p) {
      sink.jumps(jump_cell(p, static_cast<std::size_t>(next & ~p)), n);
      sink.moves(band_cell(p, b), n);
    }
    // The week's milestones are all dated before a subscription in it (later ones are no
    // causes): the subscription is at risk, and counted, in the state that holds them.
    sink.sub_days(band_cell(next, b), n * days);
    if (week == h.subscribed_week) sink.counts(count_cell(next, b, kSubscriptionEvent), n);
    p = next;
  }
  for (std::int64_t week = busy; week < weeks;) {
    // A run of weeks [week, end) in one band with one recorded flag; days = min(avail, 7 end) - 7 week.
    const std::size_t b = band_of_week(static_cast<int>(std::min<std::int64_t>(week, kBandFirstWeek[kBands - 1])));
    std::int64_t end = b + 1 < kBands ? std::min<std::int64_t>(weeks, kBandFirstWeek[b + 1]) : weeks;
    const std::int64_t switch_day = static_cast<std::int64_t>(options.demo_survey_recorded_from) - static_cast<std::int64_t>(c.t0);
    const bool recorded = 7 * week >= switch_day;
    if (!recorded) end = std::min<std::int64_t>(end, std::max<std::int64_t>(week + 1, (switch_day + 6) / 7));
    const std::int64_t days = std::min<std::int64_t>(avail, 7 * end) - 7 * week;
    sink.days(days_cell(p, b, recorded), n * days);
    sink.sub_days(band_cell(p, b), n * days);
    week = end;
  }
}

// Every fitting customer's tally, fitting[k] counted multiplicity[k] times (empty: once), into
// the sink sink_of(node) gives for its leaf. Counts and days are whole numbers: a customer
// drawn n times adds n times its counts, exactly what n copies of it in `fitting` add, in any
// order.
template <typename SinkOf>
void tally_fitting(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                   const std::vector<std::uint32_t>& multiplicity, const SegmentEncoder& encoder,
                   const HazardOptions& options, SinkOf sink_of) {
  const int horizon = std::max(0, options.follow_up_weeks);
  NodeLookup lookup(table, encoder);
  for (std::size_t k = 0; k < fitting.size(); ++k) {
    const std::int64_t n = multiplicity.empty() ? 1 : multiplicity[k];
    if (n == 0) continue;
    const std::size_t i = fitting[k];
    if (i >= table.customers.size()) throw std::invalid_argument("hazard estimate: fitting index out of range");
    const Customer& c = table.customers[i];
    const std::int32_t node = lookup(c);
    const CustomerHistory h = history_of(c, node, options);
    const std::int64_t avail = observed_days(c, options);
    if (avail <= 0) continue;
    auto sink = sink_of(node);
    tally_customer(c, h, avail, n, horizon, options, sink);
  }
}

// Posterior mean of a Poisson rate with a Gamma prior of mean rho and shape a.
inline double shrunk_rate(double rho, double events, double exposure, double a) {
  if (exposure <= 0) return rho;
  if (rho <= 0) return events > 0 ? events / exposure : 0.0;
  return rho * (events + a) / (rho * exposure + a);
}

// Method of moments for the Gamma prior's shape from cells (events e_i, expected mu_i):
// Var(e_i) = mu_i + mu_i^2 / a.
inline double moment_strength(double excess, double mu_squared) {
  const double inv_a = mu_squared > 0 ? std::max(0.0, excess) / mu_squared : 0.0;
  if (inv_a <= 1e-6) return kMaxStrength;
  return std::clamp(1.0 / inv_a, kMinStrength, kMaxStrength);
}


// What a lower-progress neighbour q = p - {m} says of kind k at p: for an event, its own rate
// there; for a jump, the rate of reaching the same state p | k from q, which is the jump k or
// the jump k + {m} (a first call and an account manager together from "demo+survey+signup" is
// the first call alone from "demo+survey+signup+account_manager"). Without the second term a
// rare advanced state loses the jumps that carry its extra milestone and becomes a dead end.
struct EventNeighbour {
  double operator()(const double* rate_at_q, std::size_t k, unsigned) const { return rate_at_q[k]; }
};
struct JumpNeighbour {
  double operator()(const double* rate_at_q, std::size_t k, unsigned m) const { return rate_at_q[k] + rate_at_q[k | m]; }
};

// The root's rates of one family, laid out p * kinds + k: a rate per progress state, each
// with a weak prior (w person-weeks) at the highest rate its lower-progress neighbours give it
// (neighbour_rate), fitted in order of progress. Closed cells keep rate 0.
template <typename Open, typename Neighbour>
inline void shrink_root(std::size_t kinds, const Open& open, const Neighbour& neighbour_rate, const double* events,
                 const double* exposure, double* rate, double w) {
  const std::size_t P = kProgressStates;
  std::array<std::size_t, kProgressStates> by_progress{};
  for (std::size_t p = 0; p < P; ++p) by_progress[p] = p;
  std::stable_sort(by_progress.begin(), by_progress.end(),
                   [](std::size_t a, std::size_t b) { return __builtin_popcount(a) < __builtin_popcount(b); });
  for (std::size_t p : by_progress)
    for (std::size_t k = 0; k < kinds; ++k) {
      if (!open(p, k)) continue;
      const std::size_t i = p * kinds + k;
      if (p == 0) {  // no lower neighbour: its own rate
        rate[i] = exposure[i] > 0 ? events[i] / exposure[i] : 0.0;
        continue;
      }
      double prior = 0;
      for (std::size_t bits = p; bits != 0; bits &= bits - 1) {
        const auto m = static_cast<unsigned>(bits & (~bits + 1));  // one of p's milestones
        prior = std::max(prior, neighbour_rate(&rate[(p & ~std::size_t{m}) * kinds], k, m));
      }
      rate[i] = (events[i] + w * prior) / (exposure[i] + w);
    }
}

inline bool jump_open(std::size_t p, std::size_t j) { return jump_possible(p, j); }
inline bool event_open(std::size_t p, std::size_t e) { return e >= kStepMilestones || (p & (1u << e)) == 0; }
inline constexpr unsigned kRecordedOnly = (1u << kDemo) | (1u << kSurvey);

}  // namespace reinforcer::hazard_detail
