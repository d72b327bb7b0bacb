#include "reinforcer/env/hazards.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace reinforcer {
namespace {

constexpr std::size_t kDemo = static_cast<std::size_t>(Milestone::demo);
constexpr std::size_t kSurvey = static_cast<std::size_t>(Milestone::survey);
constexpr double kMaxStrength = 1e6;
constexpr double kMinStrength = 0.1;

void require_export_date(const HazardOptions& options) {
  if (options.export_date == kNoDay)
    throw std::invalid_argument("hazard estimate: HazardOptions::export_date is not set");
}

// Days of follow-up from t0 through the export date (inclusive); may be <= 0.
std::int64_t observed_days(const Customer& c, const HazardOptions& options) {
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

// Exposure is accumulated in whole days (exact), per (node, progress, band) and split by
// whether the week starts before the demo and the survey were recorded (index 0) or not (1):
// a cause recorded only from then on is at risk only after.
struct DayCounts {
  std::vector<std::int64_t> days;      // milestones and jumps: ((node * P + p) * kBands + b) * 2 + recorded
  std::vector<std::int64_t> sub_days;  // subscription: (node * P + p) * kBands + b, p after the week's milestones
  std::vector<std::int64_t> counts;    // ((node * P + p) * kBands + b) * kEvents + e
  std::vector<std::int64_t> jumps;     // (node * P + p) * P + S
  std::vector<std::int64_t> moves;     // (node * P + p) * kBands + b: weeks with any jump
  explicit DayCounts(std::size_t nodes)
      : days(nodes * kProgressStates * kBands * 2, 0), sub_days(nodes * kProgressStates * kBands, 0),
        counts(nodes * kProgressStates * kBands * kEvents, 0), jumps(nodes * kProgressStates * kProgressStates, 0),
        moves(nodes * kProgressStates * kBands, 0) {}
  // Person-weeks at risk of event e (a milestone, or the subscription) in one band.
  double weeks(std::size_t node, std::size_t p, std::size_t b, std::size_t e) const {
    const std::size_t cell = (node * kProgressStates + p) * kBands + b;
    if (e == kSubscriptionEvent) return static_cast<double>(sub_days[cell]) / 7.0;
    return of_milestones(cell, e == kDemo || e == kSurvey);
  }
  // Person-weeks at risk of a jump (recorded_only: it holds the demo or the survey) in one band.
  double jump_weeks(std::size_t node, std::size_t p, std::size_t b, bool recorded_only) const {
    return of_milestones((node * kProgressStates + p) * kBands + b, recorded_only);
  }

 private:
  double of_milestones(std::size_t cell, bool recorded_only) const {
    return static_cast<double>(days[cell * 2 + 1] + (recorded_only ? 0 : days[cell * 2])) / 7.0;
  }
};

// Cells of one node's counts (DayCounts' layout with the node's offset taken away).
std::size_t days_cell(Progress p, std::size_t b, bool recorded) { return (p * kBands + b) * 2 + (recorded ? 1 : 0); }
std::size_t band_cell(Progress p, std::size_t b) { return p * kBands + b; }
std::size_t count_cell(Progress p, std::size_t b, std::size_t e) { return (p * kBands + b) * kEvents + e; }
std::size_t jump_cell(Progress p, std::size_t jump) { return p * kProgressStates + jump; }

// One fitting customer's person-days at risk and events, counted n times, into a sink with
// days(cell, v), sub_days, counts, jumps and moves (cells as above): the dense counts of
// estimate_hazards and the sparse ones of estimate_hazards_at take the same tally.
template <typename Sink>
void tally_customer(const Customer& c, const CustomerHistory& h, std::int64_t avail, std::int64_t n, int horizon,
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

// The dense counts' sink: one node's blocks of DayCounts.
struct DenseSink {
  std::int64_t *days_, *sub_days_, *counts_, *jumps_, *moves_;
  DenseSink(DayCounts& dc, std::size_t node)
      : days_(dc.days.data() + node * kProgressStates * kBands * 2),
        sub_days_(dc.sub_days.data() + node * kProgressStates * kBands),
        counts_(dc.counts.data() + node * kProgressStates * kBands * kEvents),
        jumps_(dc.jumps.data() + node * kProgressStates * kProgressStates),
        moves_(dc.moves.data() + node * kProgressStates * kBands) {}
  void days(std::size_t cell, std::int64_t v) { days_[cell] += v; }
  void sub_days(std::size_t cell, std::int64_t v) { sub_days_[cell] += v; }
  void counts(std::size_t cell, std::int64_t v) { counts_[cell] += v; }
  void jumps(std::size_t cell, std::int64_t v) { jumps_[cell] += v; }
  void moves(std::size_t cell, std::int64_t v) { moves_[cell] += v; }
};

// Adds every node's block of `stride` values to its parent's, deepest first.
template <typename T>
void sum_into_ancestors(std::vector<T>& v, std::size_t stride, const std::vector<SegmentNode>& nodes,
                        const std::vector<std::size_t>& deepest_first) {
  for (std::size_t n : deepest_first) {
    const std::int32_t parent = nodes[n].parent;
    if (parent < 0) continue;
    const auto par = static_cast<std::size_t>(parent);
    for (std::size_t j = 0; j < stride; ++j) v[par * stride + j] += v[n * stride + j];
  }
}

// Posterior mean of a Poisson rate with a Gamma prior of mean rho and shape a.
double shrunk_rate(double rho, double events, double exposure, double a) {
  if (exposure <= 0) return rho;
  if (rho <= 0) return events > 0 ? events / exposure : 0.0;
  return rho * (events + a) / (rho * exposure + a);
}

// Method of moments for the Gamma prior's shape from cells (events e_i, expected mu_i):
// Var(e_i) = mu_i + mu_i^2 / a.
double moment_strength(double excess, double mu_squared) {
  const double inv_a = mu_squared > 0 ? std::max(0.0, excess) / mu_squared : 0.0;
  if (inv_a <= 1e-6) return kMaxStrength;
  return std::clamp(1.0 / inv_a, kMinStrength, kMaxStrength);
}

}  // namespace

namespace {

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
void shrink_root(std::size_t kinds, const Open& open, const Neighbour& neighbour_rate, const double* events,
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

// Shrinks one family of rates laid out (node * kProgressStates + p) * kinds + k. The root keeps
// a rate per progress state, each with a weak prior (root_prior_weeks person-weeks) at the
// highest rate its lower-progress neighbours give it (neighbour_rate), fitted in order of
// progress. Below the root:
// Gamma(a) around the parent's rate, a estimated per depth and group of kinds by the method
// of moments (or options.shrinkage_strength) -- only from cells where the child is not all of
// its parent: such a cell equals its parent by construction and says nothing of the spread
// between children (counting it added -mu to the excess and mu^2 to the denominator, which
// drove a to its cap and pooled the cohorts fully). Closed cells (open(p, k) false) keep
// rate 0. strength receives [depth * groups + g].
template <typename Open, typename Neighbour>
void shrink_family(std::size_t kinds, const Open& open, const Neighbour& neighbour_rate,
                   const std::vector<std::vector<std::size_t>>& groups,
                   const std::vector<SegmentNode>& nodes, const std::vector<std::vector<std::size_t>>& by_depth,
                   const std::vector<double>& events, const std::vector<double>& exposure, std::vector<double>& rate,
                   std::vector<double>& strength, const HazardOptions& options) {
  const std::size_t P = kProgressStates, G = groups.size();
  auto at = [&](std::size_t n, std::size_t p, std::size_t k) { return (n * P + p) * kinds + k; };
  strength.assign(by_depth.size() * G, 0.0);
  for (std::size_t root : by_depth[0]) {
    for (std::size_t g = 0; g < G; ++g) strength[g] = options.root_prior_weeks;
    shrink_root(kinds, open, neighbour_rate, &events[at(root, 0, 0)], &exposure[at(root, 0, 0)], &rate[at(root, 0, 0)],
                options.root_prior_weeks);
  }
  for (std::size_t d = 1; d < by_depth.size(); ++d)
    for (std::size_t g = 0; g < G; ++g) {
      auto parent_cell = [&](std::size_t n, std::size_t p, std::size_t k) {
        return at(static_cast<std::size_t>(nodes[n].parent), p, k);
      };
      double a = options.shrinkage_strength;
      if (a < 0) {
        double excess = 0, mu_squared = 0;
        for (std::size_t n : by_depth[d])
          for (std::size_t p = 0; p < P; ++p)
            for (std::size_t k : groups[g]) {
              if (!open(p, k)) continue;
              const std::size_t i = at(n, p, k), pi = parent_cell(n, p, k);
              if (!(exposure[i] < exposure[pi] * (1 - 1e-12))) continue;  // the child is all of its parent
              const double mu = rate[pi] * exposure[i];
              if (!(mu > 0)) continue;
              const double diff = events[i] - mu;
              excess += diff * diff - mu;
              mu_squared += mu * mu;
            }
        a = moment_strength(excess, mu_squared);
      }
      strength[d * G + g] = a;
      for (std::size_t n : by_depth[d])
        for (std::size_t p = 0; p < P; ++p)
          for (std::size_t k : groups[g]) {
            if (!open(p, k)) continue;
            const std::size_t i = at(n, p, k);
            rate[i] = shrunk_rate(rate[parent_cell(n, p, k)], events[i], exposure[i], a);
          }
    }
}

bool jump_open(std::size_t p, std::size_t j) { return j != 0 && (j & p) == 0; }
bool event_open(std::size_t p, std::size_t e) { return e >= kStepMilestones || (p & (1u << e)) == 0; }
constexpr unsigned kRecordedOnly = (1u << kDemo) | (1u << kSurvey);

// Jump rates: counted like the events, at risk like the milestones (a jump that includes the
// demo or the survey only from when they were recorded), shrunk like the events.
void estimate_jumps(HazardEstimates& est, const std::vector<SegmentNode>& nodes,
                    const std::vector<std::vector<std::size_t>>& by_depth, const DayCounts& dc,
                    const HazardOptions& options) {
  const std::size_t n_nodes = nodes.size(), P = kProgressStates;
  est.jump_events.assign(n_nodes * P * P, 0.0);
  est.jump_exposure.assign(n_nodes * P * P, 0.0);
  est.jump_rate.assign(n_nodes * P * P, 0.0);
  for (std::size_t n = 0; n < n_nodes; ++n)
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t j = 1; j < P; ++j) {
        if (!jump_open(p, j)) continue;
        const std::size_t idx = HazardEstimates::jump_index(n, p, j);
        est.jump_events[idx] = static_cast<double>(dc.jumps[idx]);
        for (std::size_t b = 0; b < kBands; ++b) est.jump_exposure[idx] += dc.jump_weeks(n, p, b, (j & kRecordedOnly) != 0);
      }
  // One prior strength per depth for all jumps.
  std::vector<std::size_t> all_jumps;
  for (std::size_t j = 1; j < P; ++j) all_jumps.push_back(j);
  shrink_family(P, jump_open, JumpNeighbour{}, {all_jumps}, nodes, by_depth, est.jump_events, est.jump_exposure, est.jump_rate,
                est.jump_prior_strength, options);
}

// Duration bands: per top segment (depth 1, or the root in a one-node tree), band and event,
// the observed events against those the all-bands rates of its leaves expect in that band.
void estimate_bands(HazardEstimates& est, const std::vector<SegmentNode>& nodes, const DayCounts& dc,
                    const HazardOptions& options) {
  const std::size_t n_nodes = nodes.size(), P = kProgressStates;
  std::vector<std::size_t> top(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) {
    std::size_t x = n;
    while (nodes[x].depth > 1) x = static_cast<std::size_t>(nodes[x].parent);
    top[n] = x;
  }
  est.band_events.assign(n_nodes * kBands * kEvents, 0.0);
  est.band_expected.assign(n_nodes * kBands * kEvents, 0.0);
  est.jump_band_events.assign(n_nodes * kBands, 0.0);
  est.jump_band_expected.assign(n_nodes * kBands, 0.0);
  const bool one_node = n_nodes == 1;
  for (std::size_t n = 0; n < n_nodes; ++n) {
    const bool is_top = one_node || nodes[n].depth == 1;
    if (!nodes[n].leaf && !is_top) continue;
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t b = 0; b < kBands; ++b) {
        const std::size_t cell = (n * P + p) * kBands + b;
        if (is_top) {  // observed: the top node holds its subtree's counts
          est.jump_band_events[n * kBands + b] += static_cast<double>(dc.moves[cell]);
          for (std::size_t e = 0; e < kEvents; ++e)
            est.band_events[HazardEstimates::band_index(n, b, e)] += static_cast<double>(dc.counts[cell * kEvents + e]);
        }
        if (!nodes[n].leaf) continue;  // expected: from the leaves' own rates
        const std::size_t t = top[n];
        for (std::size_t e = 0; e < kEvents; ++e)
          if (event_open(p, e))
            est.band_expected[HazardEstimates::band_index(t, b, e)] +=
                dc.weeks(n, p, b, e) * est.rate[HazardEstimates::index(n, p, e)];
        for (std::size_t j = 1; j < P; ++j)
          if (jump_open(p, j))
            est.jump_band_expected[t * kBands + b] +=
                dc.jump_weeks(n, p, b, (j & kRecordedOnly) != 0) * est.jump_rate[HazardEstimates::jump_index(n, p, j)];
      }
  }
  const double a = options.band_prior_events;
  auto factor = [a](double observed, double expected) { return (observed + a) / (expected + a); };
  est.band_factor.assign(n_nodes * kBands * kEvents, 1.0);
  est.jump_band_factor.assign(n_nodes * kBands, 1.0);
  for (std::size_t n = 0; n < n_nodes; ++n)
    for (std::size_t b = 0; b < kBands; ++b) {
      const std::size_t t = top[n];
      for (std::size_t e = 0; e < kEvents; ++e) {
        const std::size_t ti = HazardEstimates::band_index(t, b, e);
        est.band_factor[HazardEstimates::band_index(n, b, e)] = factor(est.band_events[ti], est.band_expected[ti]);
      }
      est.jump_band_factor[n * kBands + b] = factor(est.jump_band_events[t * kBands + b], est.jump_band_expected[t * kBands + b]);
    }
}

}  // namespace

CustomerHistory history_of(const Customer& c, std::int32_t node, const HazardOptions& options) {
  require_export_date(options);
  if (c.cohort == Cohort::undated || c.t0 == kNoDay)
    throw std::invalid_argument("hazard estimate: customer " + std::to_string(c.id) + " is undated");
  CustomerHistory h;
  h.node = node;
  h.subscribed = c.subscribed;
  h.step_week.fill(-1);
  const std::int64_t t0 = c.t0;

  // The subscription day: its date, else (Stage alone) the latest step, else t0.
  std::int64_t sub_day = 0;
  if (c.subscribed) {
    const Day dated = c.milestone[static_cast<std::size_t>(Milestone::subscribed)];
    if (dated != kNoDay) {
      sub_day = dated;
    } else {
      sub_day = t0;
      bool any = false;
      for (std::size_t m = 0; m < kStepMilestones; ++m)
        if (c.milestone[m] != kNoDay) {
          sub_day = any ? std::max<std::int64_t>(sub_day, c.milestone[m]) : c.milestone[m];
          any = true;
        }
    }
  }

  for (std::size_t m = 0; m < kStepMilestones; ++m) {
    const Day d = c.milestone[m];
    if (d == kNoDay) continue;
    if (c.subscribed && !(static_cast<std::int64_t>(d) < sub_day)) continue;  // not a cause
    const std::int64_t day = std::max<std::int64_t>(d, t0);
    if (day == t0) {
      h.start = static_cast<Progress>(h.start | (1u << m));
      h.step_week[m] = 0;
    } else {
      h.step_week[m] = static_cast<std::int32_t>((day - t0) / 7);
    }
  }

  const int horizon = std::max(0, options.follow_up_weeks);
  if (c.subscribed) {
    const std::int64_t week = (std::max(sub_day, t0) - t0) / 7;
    if (week < horizon && sub_day <= static_cast<std::int64_t>(options.export_date))
      h.subscribed_week = static_cast<std::int32_t>(week);
  }
  double observed = std::min(static_cast<double>(horizon), static_cast<double>(observed_days(c, options)) / 7.0);
  observed = std::max(0.0, observed);
  if (h.subscribed_week >= 0) observed = std::min(observed, static_cast<double>(h.subscribed_week + 1));
  h.observed_weeks = observed;
  return h;
}

HazardEstimates estimate_hazards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                 const SegmentEncoder& encoder, const HazardOptions& options) {
  return estimate_hazards(table, fitting, {}, encoder, options);
}

HazardEstimates estimate_hazards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                 const std::vector<std::uint32_t>& multiplicity, const SegmentEncoder& encoder,
                                 const HazardOptions& options) {
  require_export_date(options);
  if (!multiplicity.empty() && multiplicity.size() != fitting.size())
    throw std::invalid_argument("hazard estimate: multiplicities and fitting customers differ in number");
  const std::vector<SegmentNode>& nodes = encoder.nodes();
  const std::size_t n_nodes = nodes.size(), P = kProgressStates;
  const int horizon = std::max(0, options.follow_up_weeks);

  DayCounts dc(n_nodes);
  NodeLookup lookup(table, encoder);
  for (std::size_t k = 0; k < fitting.size(); ++k) {
    // Counts and days are whole numbers: a customer drawn n times adds n times its counts,
    // exactly what n copies of it in `fitting` add, in any order.
    const std::int64_t n = multiplicity.empty() ? 1 : multiplicity[k];
    if (n == 0) continue;
    const std::size_t i = fitting[k];
    if (i >= table.customers.size()) throw std::invalid_argument("hazard estimate: fitting index out of range");
    const Customer& c = table.customers[i];
    const std::int32_t node = lookup(c);
    const CustomerHistory h = history_of(c, node, options);
    const std::int64_t avail = observed_days(c, options);
    if (avail <= 0) continue;
    DenseSink sink(dc, static_cast<std::size_t>(node));
    tally_customer(c, h, avail, n, horizon, options, sink);
  }

  std::vector<std::size_t> deepest_first(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) deepest_first[n] = n;
  std::stable_sort(deepest_first.begin(), deepest_first.end(),
                   [&](std::size_t a, std::size_t b) { return nodes[a].depth > nodes[b].depth; });
  sum_into_ancestors(dc.days, P * kBands * 2, nodes, deepest_first);
  sum_into_ancestors(dc.sub_days, P * kBands, nodes, deepest_first);
  sum_into_ancestors(dc.counts, P * kBands * kEvents, nodes, deepest_first);
  sum_into_ancestors(dc.jumps, P * P, nodes, deepest_first);
  sum_into_ancestors(dc.moves, P * kBands, nodes, deepest_first);

  HazardEstimates est;
  est.nodes = n_nodes;
  est.events.assign(n_nodes * P * kEvents, 0.0);
  est.exposure.assign(n_nodes * P * kEvents, 0.0);
  est.rate.assign(n_nodes * P * kEvents, 0.0);
  est.band_exposure.assign(n_nodes * P * kBands, 0.0);
  for (std::size_t n = 0; n < n_nodes; ++n)
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t b = 0; b < kBands; ++b) est.band_exposure[(n * P + p) * kBands + b] = dc.jump_weeks(n, p, b, false);
      for (std::size_t e = 0; e < kEvents; ++e) {
        const std::size_t idx = HazardEstimates::index(n, p, e);
        for (std::size_t b = 0; b < kBands; ++b)
          est.events[idx] += static_cast<double>(dc.counts[((n * P + p) * kBands + b) * kEvents + e]);
        if (!event_open(p, e)) continue;  // reached: not at risk
        for (std::size_t b = 0; b < kBands; ++b) est.exposure[idx] += dc.weeks(n, p, b, e);
      }
    }
  if (n_nodes == 0) return est;

  // Shrinkage, top-down by depth.
  std::int32_t max_depth = 0;
  for (const SegmentNode& n : nodes) max_depth = std::max(max_depth, n.depth);
  std::vector<std::vector<std::size_t>> by_depth(static_cast<std::size_t>(max_depth) + 1);
  for (std::size_t n = 0; n < n_nodes; ++n) by_depth[static_cast<std::size_t>(nodes[n].depth)].push_back(n);
  // One prior strength per depth and event.
  std::vector<std::vector<std::size_t>> each_event;
  for (std::size_t e = 0; e < kEvents; ++e) each_event.push_back({e});
  shrink_family(kEvents, event_open, EventNeighbour{}, each_event, nodes, by_depth, est.events, est.exposure, est.rate,
                est.prior_strength, options);
  estimate_jumps(est, nodes, by_depth, dc, options);
  estimate_bands(est, nodes, dc, options);
  return est;
}

namespace {

// One node's counts as (cell, value) in one numbering of all five tallies, ascending.
constexpr std::size_t kSubOffset = kProgressStates * kBands * 2;
constexpr std::size_t kCountOffset = kSubOffset + kProgressStates * kBands;
constexpr std::size_t kJumpOffset = kCountOffset + kProgressStates * kBands * kEvents;
constexpr std::size_t kMoveOffset = kJumpOffset + kProgressStates * kProgressStates;
constexpr std::size_t kNodeCells = kMoveOffset + kProgressStates * kBands;
static_assert(kNodeCells <= 65536, "cells are numbered in 16 bits");

struct Tallied {
  std::uint32_t node;
  std::uint16_t cell;
  std::int64_t value;
};
struct CellCount {
  std::uint16_t cell;
  std::int64_t value;
};

struct SparseSink {
  std::vector<Tallied>& out;
  std::uint32_t node;
  void add(std::size_t cell, std::int64_t v) { out.push_back(Tallied{node, static_cast<std::uint16_t>(cell), v}); }
  void days(std::size_t cell, std::int64_t v) { add(cell, v); }
  void sub_days(std::size_t cell, std::int64_t v) { add(kSubOffset + cell, v); }
  void counts(std::size_t cell, std::int64_t v) { add(kCountOffset + cell, v); }
  void jumps(std::size_t cell, std::int64_t v) { add(kJumpOffset + cell, v); }
  void moves(std::size_t cell, std::int64_t v) { add(kMoveOffset + cell, v); }
};

// a + b of two ascending count lists, into out.
void merge_counts(const std::vector<CellCount>& a, const std::vector<CellCount>& b, std::vector<CellCount>& out) {
  out.clear();
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].cell < b[j].cell)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].cell < a[i].cell) {
      out.push_back(b[j++]);
    } else {
      out.push_back(CellCount{a[i].cell, a[i].value + b[j].value});
      ++i, ++j;
    }
  }
}

// A node's counts spread out in a scratch of kNodeCells (zero outside them), read like DayCounts.
struct NodeScratch {
  std::vector<std::int64_t> v = std::vector<std::int64_t>(kNodeCells, 0);
  std::uint32_t present = 0;  // progress states with any person-days
  void load(const std::vector<CellCount>& counts) {
    present = 0;
    for (const CellCount& c : counts) {
      v[c.cell] = c.value;
      if (c.cell < kSubOffset) present |= 1u << (c.cell / (kBands * 2));
      else if (c.cell < kCountOffset) present |= 1u << ((c.cell - kSubOffset) / kBands);
    }
  }
  void clear(const std::vector<CellCount>& counts) {
    for (const CellCount& c : counts) v[c.cell] = 0;
  }
  std::int64_t days(std::size_t p, std::size_t b, bool recorded) const { return v[(p * kBands + b) * 2 + (recorded ? 1 : 0)]; }
  // As DayCounts::weeks and DayCounts::jump_weeks, the same operations in the same order.
  double weeks(std::size_t p, std::size_t b, std::size_t e) const {
    if (e == kSubscriptionEvent) return static_cast<double>(v[kSubOffset + p * kBands + b]) / 7.0;
    return jump_weeks(p, b, e == kDemo || e == kSurvey);
  }
  double jump_weeks(std::size_t p, std::size_t b, bool recorded_only) const {
    return static_cast<double>(days(p, b, true) + (recorded_only ? 0 : days(p, b, false))) / 7.0;
  }
  std::int64_t count(std::size_t p, std::size_t b, std::size_t e) const { return v[kCountOffset + (p * kBands + b) * kEvents + e]; }
  std::int64_t jump(std::size_t p, std::size_t j) const { return v[kJumpOffset + p * kProgressStates + j]; }
};

// One family's cells of one node where it holds exposure, cell = p * kinds + k ascending.
struct RateCell {
  std::uint16_t cell;
  double events, exposure, rate;
};

// A family of rates held sparsely below a dense root, shrunk depth by depth exactly as
// shrink_family does (the same sums in the same order: cells without exposure add nothing).
struct SparseFamily {
  std::size_t kinds;
  std::vector<std::vector<RateCell>> cells;  // per node
  std::vector<double> root_events, root_exposure, root_rate;

  // The parent's cell of each of node n's cells, in order (a child holds exposure only where
  // its parent does): the root's dense arrays, or a walk along the parent's sorted cells.
  template <typename Visit>
  void with_parent_cells(const std::vector<SegmentNode>& nodes, std::size_t n, std::vector<RateCell>& own, Visit visit) const {
    const auto parent = static_cast<std::size_t>(nodes[n].parent);
    if (parent == 0) {
      for (RateCell& c : own) visit(c, root_rate[c.cell], root_exposure[c.cell]);
      return;
    }
    const std::vector<RateCell>& up = cells[parent];
    std::size_t j = 0;
    for (RateCell& c : own) {
      while (j < up.size() && up[j].cell < c.cell) ++j;
      if (j == up.size() || up[j].cell != c.cell) throw std::logic_error("hazard estimate: a cell with exposure lacks its parent's");
      visit(c, up[j].rate, up[j].exposure);
    }
  }

  template <typename Open, typename Neighbour>
  void shrink(const Open& open, const Neighbour& neighbour_rate, const std::vector<std::vector<std::size_t>>& groups,
              const std::vector<SegmentNode>& nodes, const std::vector<std::vector<std::size_t>>& by_depth,
              const HazardOptions& options) {
    root_events.assign(kProgressStates * kinds, 0.0);
    root_exposure.assign(kProgressStates * kinds, 0.0);
    root_rate.assign(kProgressStates * kinds, 0.0);
    for (const RateCell& c : cells[0]) root_events[c.cell] = c.events, root_exposure[c.cell] = c.exposure;
    shrink_root(kinds, open, neighbour_rate, root_events.data(), root_exposure.data(), root_rate.data(), options.root_prior_weeks);
    for (RateCell& c : cells[0]) c.rate = root_rate[c.cell];
    std::vector<std::size_t> group_of(kinds, groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (std::size_t k : groups[g]) group_of[k] = g;
    // Per depth: each group's prior strength from the moments of its cells (summed in the order
    // shrink_family sums them: node, progress, kind), then the rates.
    std::vector<double> excess(groups.size()), mu_squared(groups.size()), strength(groups.size());
    for (std::size_t d = 1; d < by_depth.size(); ++d) {
      std::fill(excess.begin(), excess.end(), 0.0);
      std::fill(mu_squared.begin(), mu_squared.end(), 0.0);
      if (options.shrinkage_strength < 0)
        for (std::size_t n : by_depth[d])
          with_parent_cells(nodes, n, cells[n], [&](RateCell& c, double rho, double parent_exposure) {
            if (!(c.exposure < parent_exposure * (1 - 1e-12))) return;  // the child is all of its parent
            const double mu = rho * c.exposure;
            if (!(mu > 0)) return;
            const std::size_t g = group_of[c.cell % kinds];
            const double diff = c.events - mu;
            excess[g] += diff * diff - mu;
            mu_squared[g] += mu * mu;
          });
      for (std::size_t g = 0; g < groups.size(); ++g)
        strength[g] = options.shrinkage_strength >= 0 ? options.shrinkage_strength : moment_strength(excess[g], mu_squared[g]);
      for (std::size_t n : by_depth[d])
        with_parent_cells(nodes, n, cells[n], [&](RateCell& c, double rho, double) {
          c.rate = shrunk_rate(rho, c.events, c.exposure, strength[group_of[c.cell % kinds]]);
        });
    }
  }
  // The node's dense rates: the root's, overwritten down the path by each node's own cells
  // (a cell without exposure keeps its parent's rate, as shrunk_rate gives it).
  void dense_rates(const std::vector<SegmentNode>& nodes, std::size_t node, double* out) const {
    std::copy(root_rate.begin(), root_rate.end(), out);
    std::vector<std::size_t> path;
    for (std::size_t x = node; x != 0; x = static_cast<std::size_t>(nodes[x].parent)) path.push_back(x);
    for (auto it = path.rbegin(); it != path.rend(); ++it)
      for (const RateCell& c : cells[*it]) out[c.cell] = c.rate;
  }
};

}  // namespace

HazardEstimates estimate_hazards_at(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                    const std::vector<std::uint32_t>& multiplicity, const SegmentEncoder& encoder,
                                    const HazardOptions& options, const std::vector<std::int32_t>& wanted) {
  require_export_date(options);
  if (!multiplicity.empty() && multiplicity.size() != fitting.size())
    throw std::invalid_argument("hazard estimate: multiplicities and fitting customers differ in number");
  const std::vector<SegmentNode>& nodes = encoder.nodes();
  const std::size_t n_nodes = nodes.size(), P = kProgressStates;
  for (std::int32_t w : wanted)
    if (w < 0 || static_cast<std::size_t>(w) >= n_nodes) throw std::invalid_argument("hazard estimate: a wanted node is not in the tree");
  const int horizon = std::max(0, options.follow_up_weeks);

  // Each customer's tally, then each node's own counts.
  std::vector<Tallied> tallied;
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
    SparseSink sink{tallied, static_cast<std::uint32_t>(node)};
    tally_customer(c, h, avail, n, horizon, options, sink);
  }
  // Grouped by node (counting sort), then each node's few entries by cell, equal cells added.
  std::vector<std::size_t> first(n_nodes + 1, 0);
  for (const Tallied& t : tallied) ++first[t.node + 1];
  for (std::size_t n = 0; n < n_nodes; ++n) first[n + 1] += first[n];
  std::vector<CellCount> by_node(tallied.size());
  {
    std::vector<std::size_t> at(first.begin(), first.end() - 1);
    for (const Tallied& t : tallied) by_node[at[t.node]++] = CellCount{t.cell, t.value};
  }
  std::vector<Tallied>().swap(tallied);
  std::vector<std::vector<CellCount>> counts(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) {
    const auto begin = by_node.begin() + static_cast<std::ptrdiff_t>(first[n]), end = by_node.begin() + static_cast<std::ptrdiff_t>(first[n + 1]);
    if (begin == end) continue;
    std::sort(begin, end, [](const CellCount& a, const CellCount& b) { return a.cell < b.cell; });
    auto& c = counts[n];
    for (auto it = begin; it != end; ++it) {
      if (!c.empty() && c.back().cell == it->cell) {
        c.back().value += it->value;
      } else {
        c.push_back(*it);
      }
    }
  }
  // Subtree sums, deepest first (whole numbers: any order gives the same).
  std::vector<std::size_t> deepest_first(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) deepest_first[n] = n;
  std::stable_sort(deepest_first.begin(), deepest_first.end(),
                   [&](std::size_t a, std::size_t b) { return nodes[a].depth > nodes[b].depth; });
  std::vector<CellCount> merged;
  for (std::size_t n : deepest_first) {
    if (nodes[n].parent < 0) continue;
    auto& parent = counts[static_cast<std::size_t>(nodes[n].parent)];
    merge_counts(parent, counts[n], merged);
    parent.swap(merged);
  }

  // Each node's cells with exposure, per family.
  SparseFamily events{kEvents, std::vector<std::vector<RateCell>>(n_nodes), {}, {}, {}};
  SparseFamily jumps{P, std::vector<std::vector<RateCell>>(n_nodes), {}, {}, {}};
  NodeScratch scratch;
  for (std::size_t n = 0; n < n_nodes; ++n) {
    scratch.load(counts[n]);
    for (std::size_t p = 0; p < P; ++p) {
      if (!(scratch.present >> p & 1u)) continue;
      for (std::size_t e = 0; e < kEvents; ++e) {
        if (!event_open(p, e)) continue;
        double ev = 0, exposure = 0;
        for (std::size_t b = 0; b < kBands; ++b) ev += static_cast<double>(scratch.count(p, b, e));
        for (std::size_t b = 0; b < kBands; ++b) exposure += scratch.weeks(p, b, e);
        if (exposure > 0) events.cells[n].push_back(RateCell{static_cast<std::uint16_t>(p * kEvents + e), ev, exposure, 0.0});
      }
      double all = 0, recorded_only = 0;
      for (std::size_t b = 0; b < kBands; ++b) all += scratch.jump_weeks(p, b, false);
      for (std::size_t b = 0; b < kBands; ++b) recorded_only += scratch.jump_weeks(p, b, true);
      for (std::size_t j = 1; j < P; ++j) {
        if (!jump_open(p, j)) continue;
        const double exposure = (j & kRecordedOnly) != 0 ? recorded_only : all;
        if (exposure > 0)
          jumps.cells[n].push_back(RateCell{static_cast<std::uint16_t>(p * P + j), static_cast<double>(scratch.jump(p, j)), exposure, 0.0});
      }
    }
    scratch.clear(counts[n]);
  }

  // Shrinkage, top-down by depth.
  std::int32_t max_depth = 0;
  for (const SegmentNode& n : nodes) max_depth = std::max(max_depth, n.depth);
  std::vector<std::vector<std::size_t>> by_depth(static_cast<std::size_t>(max_depth) + 1);
  for (std::size_t n = 0; n < n_nodes; ++n) by_depth[static_cast<std::size_t>(nodes[n].depth)].push_back(n);
  if (by_depth[0].size() != 1 || by_depth[0][0] != 0) throw std::logic_error("hazard estimate: the tree's root is not node 0");
  std::vector<std::vector<std::size_t>> each_event, all_jumps(1);
  for (std::size_t e = 0; e < kEvents; ++e) each_event.push_back({e});
  for (std::size_t j = 1; j < P; ++j) all_jumps[0].push_back(j);
  events.shrink(event_open, EventNeighbour{}, each_event, nodes, by_depth, options);
  jumps.shrink(jump_open, JumpNeighbour{}, all_jumps, nodes, by_depth, options);

  // Duration bands (estimate_bands): observed per top segment, expected from the leaves' rates.
  std::vector<std::size_t> top(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) {
    std::size_t x = n;
    while (nodes[x].depth > 1) x = static_cast<std::size_t>(nodes[x].parent);
    top[n] = x;
  }
  std::vector<std::int32_t> top_slot(n_nodes, -1);
  std::size_t tops = 0;
  for (std::size_t n = 0; n < n_nodes; ++n)
    if (top_slot[top[n]] < 0) top_slot[top[n]] = static_cast<std::int32_t>(tops++);
  std::vector<double> band_events(tops * kBands * kEvents, 0.0), band_expected(tops * kBands * kEvents, 0.0);
  std::vector<double> jump_band_events(tops * kBands, 0.0), jump_band_expected(tops * kBands, 0.0);
  const bool one_node = n_nodes == 1;
  for (std::size_t n = 0; n < n_nodes; ++n) {
    const bool is_top = one_node || nodes[n].depth == 1;
    if (!nodes[n].leaf && !is_top) continue;
    const auto t = static_cast<std::size_t>(top_slot[top[n]]);
    if (is_top) {
      for (const CellCount& c : counts[n]) {
        if (c.cell >= kCountOffset && c.cell < kJumpOffset) {
          const std::size_t pbe = c.cell - kCountOffset, e = pbe % kEvents, b = pbe / kEvents % kBands;
          band_events[(t * kBands + b) * kEvents + e] += static_cast<double>(c.value);
        } else if (c.cell >= kMoveOffset) {
          jump_band_events[t * kBands + (c.cell - kMoveOffset) % kBands] += static_cast<double>(c.value);
        }
      }
    }
    if (!nodes[n].leaf) continue;
    scratch.load(counts[n]);
    std::size_t next_event = 0, next_jump = 0;  // walks along the leaf's cells, progress ascending
    std::array<double, kEvents> event_rate{};
    std::array<double, kProgressStates> jump_rate{};
    for (std::size_t p = 0; p < P; ++p) {
      if (!(scratch.present >> p & 1u)) continue;
      // This progress's rates (a kind without exposure has no weeks to weigh: its 0 is unused).
      event_rate.fill(0.0), jump_rate.fill(0.0);
      const auto& ev = events.cells[n];
      const auto& jp = jumps.cells[n];
      for (; next_event < ev.size() && ev[next_event].cell < (p + 1) * kEvents; ++next_event)
        if (ev[next_event].cell >= p * kEvents) event_rate[ev[next_event].cell - p * kEvents] = ev[next_event].rate;
      for (; next_jump < jp.size() && jp[next_jump].cell < (p + 1) * P; ++next_jump)
        if (jp[next_jump].cell >= p * P) jump_rate[jp[next_jump].cell - p * P] = jp[next_jump].rate;
      for (std::size_t b = 0; b < kBands; ++b) {
        for (std::size_t e = 0; e < kEvents; ++e) {
          if (!event_open(p, e)) continue;
          const double w = scratch.weeks(p, b, e);
          if (w > 0) band_expected[(t * kBands + b) * kEvents + e] += w * event_rate[e];
        }
        for (std::size_t j = 1; j < P; ++j) {
          if (!jump_open(p, j)) continue;
          const double w = scratch.jump_weeks(p, b, (j & kRecordedOnly) != 0);
          if (w > 0) jump_band_expected[t * kBands + b] += w * jump_rate[j];
        }
      }
    }
    scratch.clear(counts[n]);
  }

  HazardEstimates est;
  est.nodes = wanted.size();
  est.rate.assign(wanted.size() * P * kEvents, 0.0);
  est.jump_rate.assign(wanted.size() * P * P, 0.0);
  est.band_factor.assign(wanted.size() * kBands * kEvents, 1.0);
  est.jump_band_factor.assign(wanted.size() * kBands, 1.0);
  const double a = options.band_prior_events;
  auto factor = [a](double observed, double expected) { return (observed + a) / (expected + a); };
  for (std::size_t k = 0; k < wanted.size(); ++k) {
    const auto node = static_cast<std::size_t>(wanted[k]);
    events.dense_rates(nodes, node, &est.rate[HazardEstimates::index(k, 0, 0)]);
    jumps.dense_rates(nodes, node, &est.jump_rate[HazardEstimates::jump_index(k, 0, 0)]);
    const auto t = static_cast<std::size_t>(top_slot[top[node]]);
    for (std::size_t b = 0; b < kBands; ++b) {
      for (std::size_t e = 0; e < kEvents; ++e)
        est.band_factor[HazardEstimates::band_index(k, b, e)] =
            factor(band_events[(t * kBands + b) * kEvents + e], band_expected[(t * kBands + b) * kEvents + e]);
      est.jump_band_factor[k * kBands + b] = factor(jump_band_events[t * kBands + b], jump_band_expected[t * kBands + b]);
    }
  }
  return est;
}

Progress decision_progress(const Customer& c) {
  Progress p = 0;
  for (std::size_t m = 0; m < kStepMilestones; ++m)
    if (c.milestone[m] != kNoDay && c.milestone[m] <= c.t0) p = static_cast<Progress>(p | (1u << m));
  return p;
}

}  // namespace reinforcer
