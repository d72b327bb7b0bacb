#include "reinforcer/env/funnel_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace reinforcer {

FunnelConfig status_quo(FunnelConfig c) {
  c.success.probability.fill(0.0);
  return c;
}

namespace {
std::uint32_t threshold_of(double cumulative) {
  const double t = std::ldexp(std::min(cumulative, 1.0), 32);
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t);
}
}  // namespace

// The status quo's week from p in band b: P(progress after the week's milestones), before
// any action and before the subscription.
void FunnelModel::status_quo_week(std::int32_t s, std::size_t b, Progress p,
                                  std::array<double, kProgressStates>& dist) const {
  dist.fill(0.0);
  const auto seg = static_cast<std::size_t>(s);
  if (!jump_rates_.empty()) {
    // Competing jumps: P(a jump) = 1 - e^-L, shared in proportion to the jumps' hazards.
    const double f = bands_.jump.empty() ? 1.0 : bands_.jump[seg * kBands + b];
    std::array<double, kProgressStates> h{};
    double total = 0;
    for (std::size_t j = 1; j < kProgressStates; ++j) {
      if (j & p) continue;
      h[j] = jump_rates_[(seg * kProgressStates + p) * kProgressStates + j] * f;
      total += h[j];
    }
    const double moves = total > 0 ? -std::expm1(-total) : 0.0;
    dist[p] = 1 - moves;
    for (std::size_t j = 1; j < kProgressStates; ++j)
      if (h[j] > 0) dist[p | j] += moves * h[j] / total;
    return;
  }
  // Each open milestone on its own.
  std::array<double, kStepMilestones> q{};
  unsigned open = 0;
  for (std::size_t e = 0; e < kStepMilestones; ++e) {
    if (p >> e & 1u) continue;
    q[e] = -std::expm1(-rate(s, p, e) * band_factor(s, b, e));
    if (q[e] > 0) open |= 1u << e;
  }
  for (unsigned subset = open;; subset = (subset - 1) & open) {
    double pr = 1;
    for (std::size_t e = 0; e < kStepMilestones; ++e)
      if (open >> e & 1u) pr *= (subset >> e & 1u) ? q[e] : 1 - q[e];
    dist[p | subset] += pr;
    if (subset == 0) break;
  }
}

// The action's own chance: its milestone, if not yet reached, comes with success.<action>
// whether or not the status quo brought it.
void FunnelModel::add_action(Action a, Progress p, const std::array<double, kProgressStates>& status_quo,
                             std::array<double, kProgressStates>& after) const {
  after = status_quo;
  const auto target = target_of(a);
  const double success = config_.success.of(a);
  if (!target || (p >> static_cast<unsigned>(*target) & 1u) || !(success > 0)) return;
  const unsigned m = 1u << static_cast<unsigned>(*target);
  after.fill(0.0);
  for (std::size_t q = 0; q < kProgressStates; ++q) {
    if (status_quo[q] == 0) continue;
    after[q] += (1 - success) * status_quo[q];
    after[q | m] += success * status_quo[q];
  }
}

std::array<double, kProgressStates> FunnelModel::subscribed_by_progress(std::int32_t segment, Progress p, int week,
                                                                        Action a) const {
  const std::size_t b = week_band_[static_cast<std::size_t>(week)];
  std::array<double, kProgressStates> status, after;
  status_quo_week(segment, b, p, status);
  add_action(a, p, status, after);
  for (std::size_t q = 0; q < kProgressStates; ++q)
    if (after[q] > 0) after[q] *= subscription_at(segment, static_cast<Progress>(q), week);
  return after;
}

namespace {
// A week's outcomes (at most kProgressStates), kept as two arrays and written field by field:
// a Transition built whole and copied as 16 bytes right after its two stores stalls on the
// store buffer, which was a third of a model build.
struct WeekOutcomes {
  std::array<double, kProgressStates> probability;
  std::array<Progress, kProgressStates> next;
  std::size_t size = 0;
  void add(double p, Progress q) { probability[size] = p, next[size] = q, ++size; }
  // By falling probability, ties in their order: what std::stable_sort gives, without the
  // buffer it allocates per call (millions of calls build one model).
  void most_likely_first() {
    for (std::size_t i = 1; i < size; ++i) {
      const double p = probability[i];
      const Progress q = next[i];
      std::size_t j = i;
      for (; j > 0 && probability[j - 1] < p; --j) probability[j] = probability[j - 1], next[j] = next[j - 1];
      probability[j] = p, next[j] = q;
    }
  }
};
}  // namespace

FunnelModel::FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config,
                         std::vector<double> jump_rates, BandFactors bands)
    : segments_(segments), rates_(std::move(rates)), config_(config), jump_rates_(std::move(jump_rates)),
      bands_(std::move(bands)) {
  build();
}

void FunnelModel::assign_segment(const HazardEstimates& h, std::size_t node, const FunnelConfig& config, bool rows,
                                 int rows_through) {
  rows_through_ = rows_through;
  // The slices from_estimates copies for this node, into the buffers already held.
  segments_ = 1;
  config_ = config;
  sampling_ = false;  // exact evaluation only: the sampling thresholds are not built
  const double* rate = &h.rate[HazardEstimates::index(node, 0, 0)];
  rates_.assign(rate, rate + kProgressStates * kEvents);
  if (h.jump_rate.empty()) {
    jump_rates_.clear();
  } else {
    jump_rates_.resize(kProgressStates * kProgressStates);
    h.dense_jump_rates(node, jump_rates_.data());
  }
  if (h.band_factor.empty()) {
    bands_.event.clear(), bands_.jump.clear();
  } else {
    const double* event = &h.band_factor[HazardEstimates::band_index(node, 0, 0)];
    bands_.event.assign(event, event + kBands * kEvents);
    const double* jump = &h.jump_band_factor[node * kBands];
    bands_.jump.assign(jump, jump + kBands);
  }
  segment_nodes_.assign(1, static_cast<std::int32_t>(node));
  node_segment_.clear();
  if (rows) {
    build();
  } else {  // what the curve needs: the config's bands of weeks, nothing built
    week_band_.resize(static_cast<std::size_t>(config_.horizon_weeks));
    for (int w = 0; w < config_.horizon_weeks; ++w) week_band_[static_cast<std::size_t>(w)] = static_cast<std::uint8_t>(band_of_week(w));
  }
}

std::vector<double> FunnelModel::status_quo_subscription_curve(std::int32_t segment, Progress start, int weeks) const {
  const int H = weeks >= 0 ? std::min(weeks, config_.horizon_weeks) : config_.horizon_weeks;
  std::vector<double> out(static_cast<std::size_t>(H), 0.0);
  // Per band, each progress's week (milestones, then the subscription at the week's end) as the
  // states it reaches with their chances to subscribe and to carry on, computed once when first
  // reached (as build() computes the wait rows). Not zeroed: 160 of them would be 90 KB a call,
  // and the predictive score makes thousands of calls per subset.
  struct Step {
    std::size_t count;
    std::array<std::uint8_t, kProgressStates> to;
    std::array<double, kProgressStates> absorb, carry;
  };
  std::array<std::array<Step, kProgressStates>, kBands> steps;
  std::array<std::uint32_t, kBands> ready{};  // bit p: steps[b][p] computed
  // The chance to subscribe at a week's end depends on the band and the progress reached, not
  // on where the week started: once per band.
  std::array<std::array<double, kProgressStates>, kBands> subscribe;
  std::array<bool, kBands> band_ready{};
  std::array<double, kProgressStates> dist{}, absorbed{}, after;
  dist[start] = 1.0;
  for (int w = 0; w < H; ++w) {
    const std::size_t b = week_band_[static_cast<std::size_t>(w)];
    if (!band_ready[b]) {
      for (std::size_t q = 0; q < kProgressStates; ++q)
        subscribe[b][q] = -std::expm1(-rate(segment, static_cast<Progress>(q), kSubscriptionEvent) * band_factor(segment, b, kSubscriptionEvent));
      band_ready[b] = true;
    }
    std::array<double, kProgressStates> next{};
    for (std::size_t p = 0; p < kProgressStates; ++p) {
      if (dist[p] == 0) continue;
      Step& st = steps[b][p];
      if (!(ready[b] >> p & 1u)) {
        status_quo_week(segment, b, static_cast<Progress>(p), after);
        st.count = 0;
        for (std::size_t q = 0; q < kProgressStates; ++q) {
          if (after[q] <= 0) continue;
          st.to[st.count] = static_cast<std::uint8_t>(q);
          st.absorb[st.count] = after[q] * subscribe[b][q];
          st.carry[st.count] = after[q] * (1 - subscribe[b][q]);
          ++st.count;
        }
        ready[b] |= 1u << p;
      }
      const double mass = dist[p];
      for (std::size_t i = 0; i < st.count; ++i) {
        absorbed[st.to[i]] += mass * st.absorb[i];
        next[st.to[i]] += mass * st.carry[i];
      }
    }
    dist = next;
    double subscribed = 0;
    for (std::size_t q = 0; q < kProgressStates; ++q) subscribed += absorbed[q];
    out[static_cast<std::size_t>(w)] = subscribed;
  }
  return out;
}

void FunnelModel::build() {
  if (!jump_rates_.empty() && jump_rates_.size() != segments_ * kProgressStates * kProgressStates)
    throw std::logic_error("FunnelModel: jump rates size");
  if (rates_.size() != segments_ * kProgressStates * kEvents) throw std::logic_error("FunnelModel: rates size");
  if (!bands_.event.empty() && bands_.event.size() != segments_ * kBands * kEvents)
    throw std::logic_error("FunnelModel: band factors size");
  if (!bands_.jump.empty() && bands_.jump.size() != segments_ * kBands) throw std::logic_error("FunnelModel: jump band factors size");
  if (config_.horizon_weeks < 1 || config_.horizon_weeks > 255) throw std::logic_error("FunnelModel: horizon");
  for (double x : config_.success.probability)
    if (!(x >= 0 && x <= 1)) throw std::logic_error("FunnelModel: success probability outside [0, 1]");
  // Everything below is rebuilt from the hazards: a model refilled in place keeps only capacity.
  actionable_ = 0;
  // transitions_ keeps its size too: a model refilled in place writes over it without zeroing it.
  sq_next_.clear(), sq_threshold_.clear(), thresholds_.clear();
  week_band_.resize(static_cast<std::size_t>(config_.horizon_weeks));
  for (int w = 0; w < config_.horizon_weeks; ++w) week_band_[static_cast<std::size_t>(w)] = static_cast<std::uint8_t>(band_of_week(w));
  const std::size_t bands_used = band_of_week(std::max(config_.horizon_weeks, rows_through_) - 1) + 1;
  const std::size_t rows = segments_ * kBands * kProgressStates * kActions;
  sq_begin_.assign(segments_ * kBands * kProgressStates + 1, 0);
  end_subscription_.assign(segments_ * kBands * kProgressStates, 0.0);
  for (std::size_t a = 0; a < kActions; ++a) {
    const auto target = target_of(static_cast<Action>(a));
    success_threshold_[a] = target ? threshold_of(config_.success.probability[a]) : 0u;
    action_milestone_[a] = target && config_.success.probability[a] > 0 ? 1u << static_cast<unsigned>(*target) : 0u;
    actionable_ |= action_milestone_[a];
  }
  subscribe_.assign(rows, 0.0);
  subscribe_first_call_.assign(rows, 0.0);
  subscribe_threshold_.assign(rows, 0);
  begin_.assign(rows + 1, 0);
  // The first `used` of transitions_ are the rows' outcomes (begin_.back() at the end).
  std::size_t used = 0;
  constexpr std::size_t kRowBlock = kProgressStates * kActions * kProgressStates;
  WeekOutcomes week, status_quo_row;
  std::array<double, kProgressStates> after_status_quo{}, after_action{}, subscribe{};
  // The status quo's row of the current (segment, band, progress): an action that does not act
  // there (acts()) gets a copy of it, the same bits add_action and the sort would give.
  double status_quo_sub = 0, status_quo_sub_first_call = 0;
  for (std::size_t s = 0; s < segments_; ++s)
    for (std::size_t b = 0; b < kBands; ++b) {
      if (b < bands_used)  // P(subscribing at the week's end) depends on the band and q only
        for (std::size_t q = 0; q < kProgressStates; ++q) {
          const auto seg = static_cast<std::int32_t>(s);
          subscribe[q] = -std::expm1(-rate(seg, static_cast<Progress>(q), kSubscriptionEvent) * band_factor(seg, b, kSubscriptionEvent));
          end_subscription_[(s * kBands + b) * kProgressStates + q] = subscribe[q];
        }
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        const auto seg = static_cast<std::int32_t>(s);
        const auto prog = static_cast<Progress>(p);
        const std::size_t first_row = ((s * kBands + b) * kProgressStates + p) * kActions;
        if (b >= bands_used) {  // beyond the horizon: empty rows
          for (std::size_t a = 0; a <= kActions; ++a) begin_[first_row + a] = static_cast<std::uint32_t>(used);
          const std::size_t sq_row = (s * kBands + b) * kProgressStates + p;
          sq_begin_[sq_row] = sq_begin_[sq_row + 1] = static_cast<std::uint32_t>(sq_next_.size());
          continue;
        }
        status_quo_week(seg, b, prog, after_status_quo);
        const std::size_t sq_row = (s * kBands + b) * kProgressStates + p;
        sq_begin_[sq_row] = static_cast<std::uint32_t>(sq_next_.size());
        if (sampling_) {  // the status quo's outcomes, most likely first, for sampling
          WeekOutcomes& outcomes = week;
          outcomes.size = 0;
          for (std::size_t q = 0; q < kProgressStates; ++q)
            if (after_status_quo[q] > 0) outcomes.add(after_status_quo[q], static_cast<Progress>(q));
          outcomes.most_likely_first();
          double cum = 0;
          for (std::size_t i = 0; i < outcomes.size; ++i) {
            cum += outcomes.probability[i];
            sq_next_.push_back(outcomes.next[i]);
            sq_threshold_.push_back(threshold_of(cum));
          }
        }
        sq_begin_[sq_row + 1] = static_cast<std::uint32_t>(sq_next_.size());
        // The week's outcomes from a distribution of the milestones reached: P(subscribe),
        // of which with the first call, and the rest most likely first.
        auto outcomes_of = [&](const std::array<double, kProgressStates>& after, WeekOutcomes& row, double& sub,
                               double& sub_first_call) {
          row.size = 0;
          sub = 0, sub_first_call = 0;
          for (std::size_t q = 0; q < kProgressStates; ++q) {
            if (after[q] <= 0) continue;
            sub += after[q] * subscribe[q];
            if (q & (1u << static_cast<unsigned>(Milestone::first_call))) sub_first_call += after[q] * subscribe[q];
            row.add(after[q] * (1 - subscribe[q]), static_cast<Progress>(q));
          }
          row.most_likely_first();
        };
        outcomes_of(after_status_quo, status_quo_row, status_quo_sub, status_quo_sub_first_call);
        for (std::size_t a = 0; a < kActions; ++a) {
          const auto action = static_cast<Action>(a);
          const bool own_row = acts(action, prog);
          double sub = status_quo_sub, sub_first_call = status_quo_sub_first_call;
          if (own_row) {
            add_action(action, prog, after_status_quo, after_action);
            outcomes_of(after_action, week, sub, sub_first_call);
          }
          const WeekOutcomes& outcomes = own_row ? week : status_quo_row;
          const std::size_t r = first_row + a;
          subscribe_[r] = sub;
          subscribe_first_call_[r] = sub_first_call;
          if (sampling_) subscribe_threshold_[r] = threshold_of(sub);
          const std::size_t at = used;
          begin_[r] = static_cast<std::uint32_t>(at);
          // Grown a block at a time, not a row at a time (a resize per row was a tenth of a build).
          if (transitions_.size() < at + outcomes.size) transitions_.resize(std::max(2 * transitions_.size(), at + kRowBlock));
          double cum = sub;
          for (std::size_t i = 0; i < outcomes.size; ++i) {
            transitions_[at + i].probability = outcomes.probability[i];
            transitions_[at + i].next = outcomes.next[i];
            cum += outcomes.probability[i];
            if (sampling_) thresholds_.push_back(threshold_of(cum));
          }
          used = at + outcomes.size;
          begin_[r + 1] = static_cast<std::uint32_t>(used);
        }
      }
    }
  if (sampling_) transitions_.resize(used);  // a model built once holds no slack
}

FunnelModel FunnelModel::from_estimates(const SegmentEncoder& encoder, const HazardEstimates& h, FunnelConfig config,
                                        bool all_nodes) {
  std::vector<std::int32_t> leaves;
  for (std::size_t n = 0; n < encoder.nodes().size(); ++n)
    if (all_nodes || encoder.nodes()[n].leaf) leaves.push_back(static_cast<std::int32_t>(n));
  std::vector<double> rates(leaves.size() * kProgressStates * kEvents);
  for (std::size_t s = 0; s < leaves.size(); ++s)
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t e = 0; e < kEvents; ++e)
        rates[(s * kProgressStates + p) * kEvents + e] = h.rate[HazardEstimates::index(static_cast<std::size_t>(leaves[s]), p, e)];
  std::vector<double> jumps;
  if (!h.jump_rate.empty()) {
    jumps.assign(leaves.size() * kProgressStates * kProgressStates, 0.0);
    for (std::size_t s = 0; s < leaves.size(); ++s)
      h.dense_jump_rates(static_cast<std::size_t>(leaves[s]), &jumps[s * kProgressStates * kProgressStates]);
  }
  BandFactors bands;
  if (!h.band_factor.empty()) {
    bands.event.resize(leaves.size() * kBands * kEvents);
    bands.jump.resize(leaves.size() * kBands);
    for (std::size_t s = 0; s < leaves.size(); ++s)
      for (std::size_t b = 0; b < kBands; ++b) {
        const auto node = static_cast<std::size_t>(leaves[s]);
        for (std::size_t e = 0; e < kEvents; ++e)
          bands.event[(s * kBands + b) * kEvents + e] = h.band_factor[HazardEstimates::band_index(node, b, e)];
        bands.jump[s * kBands + b] = h.jump_band_factor[node * kBands + b];
      }
  }
  FunnelModel m(leaves.size(), std::move(rates), config, std::move(jumps), std::move(bands));
  m.segment_nodes_ = leaves;
  m.node_segment_.assign(encoder.nodes().size(), -1);
  for (std::size_t s = 0; s < leaves.size(); ++s) m.node_segment_[static_cast<std::size_t>(leaves[s])] = static_cast<std::int32_t>(s);
  return m;
}

void FunnelModel::set_horizon(int weeks) {
  const std::size_t built = band_of_week(std::max(config_.horizon_weeks, rows_through_) - 1) + 1;
  if (weeks < 1 || weeks > 255 || band_of_week(weeks - 1) >= built)
    throw std::logic_error("FunnelModel::set_horizon: no rows were built for week " + std::to_string(weeks - 1));
  rows_through_ = std::max(config_.horizon_weeks, rows_through_);
  config_.horizon_weeks = weeks;
  week_band_.resize(static_cast<std::size_t>(weeks));
  for (int w = 0; w < weeks; ++w) week_band_[static_cast<std::size_t>(w)] = static_cast<std::uint8_t>(band_of_week(w));
}

FunnelModel FunnelModel::with_config(FunnelConfig config) const {
  FunnelModel m(segments_, rates_, config, jump_rates_, bands_);
  m.segment_nodes_ = segment_nodes_;
  m.node_segment_ = node_segment_;
  return m;
}

std::int32_t FunnelModel::segment_of_node(std::int32_t node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= node_segment_.size()) return -1;
  return node_segment_[static_cast<std::size_t>(node)];
}

}  // namespace reinforcer
