#include "reinforcer/env/hazards.hpp"

#include "hazards_internal.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace reinforcer {
using namespace hazard_detail;

namespace {

// Exposure is accumulated in whole days (exact), per (node, progress, band) and split by
// whether the week starts before the demo and the survey were recorded (index 0) or not (1):
// a cause recorded only from then on is at risk only after.
struct DayCounts {
  std::vector<std::int64_t> days;      // milestones and jumps: ((node * P + p) * kBands + b) * 2 + recorded
  std::vector<std::int64_t> sub_days;  // subscription: (node * P + p) * kBands + b, p after the week's milestones
  std::vector<std::int64_t> counts;    // ((node * P + p) * kBands + b) * kEvents + e
  std::vector<std::int64_t> jumps;     // HazardEstimates::jump_index(node, p, S): possible jumps only
  std::vector<std::int64_t> moves;     // (node * P + p) * kBands + b: weeks with any jump
  explicit DayCounts(std::size_t nodes)
      : days(nodes * kProgressStates * kBands * 2, 0), sub_days(nodes * kProgressStates * kBands, 0),
        counts(nodes * kProgressStates * kBands * kEvents, 0), jumps(nodes * kJumpCells, 0),
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

// The dense counts' sink: one node's blocks of DayCounts.
struct DenseSink {
  std::int64_t *days_, *sub_days_, *counts_, *jumps_, *moves_;
  DenseSink(DayCounts& dc, std::size_t node)
      : days_(dc.days.data() + node * kProgressStates * kBands * 2),
        sub_days_(dc.sub_days.data() + node * kProgressStates * kBands),
        counts_(dc.counts.data() + node * kProgressStates * kBands * kEvents),
        jumps_(dc.jumps.data() + node * kJumpCells),
        moves_(dc.moves.data() + node * kProgressStates * kBands) {}
  void days(std::size_t cell, std::int64_t v) { days_[cell] += v; }
  void sub_days(std::size_t cell, std::int64_t v) { sub_days_[cell] += v; }
  void counts(std::size_t cell, std::int64_t v) { counts_[cell] += v; }
  void jumps(std::size_t cell, std::int64_t v) { jumps_[kJumpCellOf[cell]] += v; }  // cell: p * P + S
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

// A family's cells of one node: kinds per progress state, all of them (the events, p * kinds + k)
// or the possible ones alone (the jumps, kJumpCellOf).
struct DenseCells {
  std::size_t kinds;
  std::size_t per_node() const { return kProgressStates * kinds; }
  std::size_t operator()(std::size_t p, std::size_t k) const { return p * kinds + k; }
};
struct JumpCells {
  std::size_t per_node() const { return kJumpCells; }
  std::size_t operator()(std::size_t p, std::size_t k) const { return kJumpCellOf[p * kProgressStates + k]; }
};

// Shrinks one family of rates, node n's open cell (p, k) at n * cells.per_node() + cells(p, k). The root keeps
// a rate per progress state, each with a weak prior (root_prior_weeks person-weeks) at the
// highest rate its lower-progress neighbours give it (neighbour_rate), fitted in order of
// progress. Below the root:
// Gamma(a) around the parent's rate, a estimated per depth and group of kinds by the method
// of moments (or options.shrinkage_strength) -- only from cells where the child is not all of
// its parent: such a cell equals its parent by construction and says nothing of the spread
// between children (counting it added -mu to the excess and mu^2 to the denominator, which
// drove a to its cap and pooled the cohorts fully). Closed cells (open(p, k) false) keep
// rate 0. strength receives [depth * groups + g].
template <typename Cells, typename Open, typename Neighbour>
void shrink_family(std::size_t kinds, const Cells& cells, const Open& open, const Neighbour& neighbour_rate,
                   const std::vector<std::vector<std::size_t>>& groups,
                   const std::vector<SegmentNode>& nodes, const std::vector<std::vector<std::size_t>>& by_depth,
                   const std::vector<double>& events, const std::vector<double>& exposure, std::vector<double>& rate,
                   std::vector<double>& strength, const HazardOptions& options) {
  const std::size_t P = kProgressStates, G = groups.size();
  auto at = [&](std::size_t n, std::size_t p, std::size_t k) { return n * cells.per_node() + cells(p, k); };
  strength.assign(by_depth.size() * G, 0.0);
  for (std::size_t root : by_depth[0]) {
    for (std::size_t g = 0; g < G; ++g) strength[g] = options.root_prior_weeks;
    // The root's rates read their lower-progress neighbours laid out p * kinds + k.
    std::vector<double> root_events(P * kinds, 0.0), root_exposure(P * kinds, 0.0), root_rate(P * kinds, 0.0);
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t k = 0; k < kinds; ++k)
        if (open(p, k)) root_events[p * kinds + k] = events[at(root, p, k)], root_exposure[p * kinds + k] = exposure[at(root, p, k)];
    shrink_root(kinds, open, neighbour_rate, root_events.data(), root_exposure.data(), root_rate.data(), options.root_prior_weeks);
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t k = 0; k < kinds; ++k)
        if (open(p, k)) rate[at(root, p, k)] = root_rate[p * kinds + k];
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


// Jump rates: counted like the events, at risk like the milestones (a jump that includes the
// demo or the survey only from when they were recorded), shrunk like the events.
void estimate_jumps(HazardEstimates& est, const std::vector<SegmentNode>& nodes,
                    const std::vector<std::vector<std::size_t>>& by_depth, const DayCounts& dc,
                    const HazardOptions& options) {
  const std::size_t n_nodes = nodes.size(), P = kProgressStates;
  est.jump_events.assign(n_nodes * kJumpCells, 0.0);
  est.jump_exposure.assign(n_nodes * kJumpCells, 0.0);
  est.jump_rate.assign(n_nodes * kJumpCells, 0.0);
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
  shrink_family(P, JumpCells{}, jump_open, JumpNeighbour{}, {all_jumps}, nodes, by_depth, est.jump_events, est.jump_exposure, est.jump_rate,
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

  DayCounts dc(n_nodes);
  tally_fitting(table, fitting, multiplicity, encoder, options,
                [&dc](std::int32_t node) { return DenseSink(dc, static_cast<std::size_t>(node)); });

  std::vector<std::size_t> deepest_first(n_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) deepest_first[n] = n;
  std::stable_sort(deepest_first.begin(), deepest_first.end(),
                   [&](std::size_t a, std::size_t b) { return nodes[a].depth > nodes[b].depth; });
  sum_into_ancestors(dc.days, P * kBands * 2, nodes, deepest_first);
  sum_into_ancestors(dc.sub_days, P * kBands, nodes, deepest_first);
  sum_into_ancestors(dc.counts, P * kBands * kEvents, nodes, deepest_first);
  sum_into_ancestors(dc.jumps, kJumpCells, nodes, deepest_first);
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
  shrink_family(kEvents, DenseCells{kEvents}, event_open, EventNeighbour{}, each_event, nodes, by_depth, est.events, est.exposure, est.rate,
                est.prior_strength, options);
  estimate_jumps(est, nodes, by_depth, dc, options);
  estimate_bands(est, nodes, dc, options);
  return est;
}

Progress decision_progress(const Customer& c) {
  Progress p = 0;
  for (std::size_t m = 0; m < kStepMilestones; ++m)
    if (c.milestone[m] != kNoDay && c.milestone[m] <= c.t0) p = static_cast<Progress>(p | (1u << m));
  return p;
}

}  // namespace reinforcer
