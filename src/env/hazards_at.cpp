#include "reinforcer/env/hazards.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "hazards_internal.hpp"

// The sparse estimate of some nodes (estimate_hazards_at): equal to the bit to the dense one
// at those nodes, at the cost of the cells the customers touch.

namespace reinforcer {

using namespace hazard_detail;

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

  // Each customer's tally, then each node's own counts.
  std::vector<Tallied> tallied;
  tally_fitting(table, fitting, multiplicity, encoder, options,
                [&tallied](std::int32_t node) { return SparseSink{tallied, static_cast<std::uint32_t>(node)}; });
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
  est.jump_rate.assign(wanted.size() * kJumpCells, 0.0);
  std::array<double, kProgressStates * kProgressStates> dense_jumps{};
  est.band_factor.assign(wanted.size() * kBands * kEvents, 1.0);
  est.jump_band_factor.assign(wanted.size() * kBands, 1.0);
  const double a = options.band_prior_events;
  auto factor = [a](double observed, double expected) { return (observed + a) / (expected + a); };
  for (std::size_t k = 0; k < wanted.size(); ++k) {
    const auto node = static_cast<std::size_t>(wanted[k]);
    events.dense_rates(nodes, node, &est.rate[HazardEstimates::index(k, 0, 0)]);
    jumps.dense_rates(nodes, node, dense_jumps.data());
    for (std::size_t i = 0; i < dense_jumps.size(); ++i)
      if (kJumpCellOf[i] != kNoJumpCell) est.jump_rate[k * kJumpCells + kJumpCellOf[i]] = dense_jumps[i];
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

}  // namespace reinforcer
