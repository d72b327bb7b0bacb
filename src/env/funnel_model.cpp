#include "reinforcer/env/funnel_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace reinforcer {

double effect_multiplier(const ActionEffects& effects, Action a, std::size_t event) {
  if (event == kSubscriptionEvent) return 1.0;
  const auto target = target_of(a);
  if (!target || static_cast<std::size_t>(*target) != event) return effects.idle;
  return a == Action::message ? effects.message : effects.act;
}

namespace {
std::uint32_t threshold_of(double cumulative) {
  const double t = std::ldexp(std::min(cumulative, 1.0), 32);
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t);
}
}  // namespace

FunnelModel::FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config,
                         std::vector<double> jump_rates)
    : segments_(segments), rates_(std::move(rates)), config_(config), jump_rates_(std::move(jump_rates)) {
  if (!jump_rates_.empty() && jump_rates_.size() != segments_ * kProgressStates * kProgressStates)
    throw std::logic_error("FunnelModel: jump rates size");
  if (rates_.size() != segments_ * kProgressStates * kEvents) throw std::logic_error("FunnelModel: rates size");
  if (config_.horizon_weeks < 1 || config_.horizon_weeks > 255) throw std::logic_error("FunnelModel: horizon");
  const std::size_t rows = segments_ * kProgressStates * kActions;
  subscribe_.resize(rows);
  subscribe_threshold_.resize(rows);
  begin_.resize(rows + 1);
  std::vector<Transition> week;
  for (std::size_t s = 0; s < segments_; ++s)
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t a = 0; a < kActions; ++a) {
        const auto seg = static_cast<std::int32_t>(s);
        const auto prog = static_cast<Progress>(p);
        const std::size_t r = row(seg, prog, static_cast<Action>(a));
        // The subscription, then each milestone not yet reached on its own.
        const double sub = -std::expm1(-rate(seg, prog, kSubscriptionEvent));
        std::array<double, kStepMilestones> q{};
        unsigned open = 0;
        for (std::size_t e = 0; e < kStepMilestones; ++e) {
          if (p >> e & 1u) continue;
          q[e] = -std::expm1(-rate(seg, prog, e) * effect_multiplier(config_.effects, static_cast<Action>(a), e));
          if (q[e] > 0) open |= 1u << e;
        }
        week.clear();
        if (!jump_rates_.empty()) {
          // Competing jumps: hazard of S times the effect on each of its milestones.
          std::array<double, kProgressStates> h{};
          double total = 0;
          for (std::size_t j = 1; j < kProgressStates; ++j) {
            if (j & p) continue;
            double x = jump_rates_[(s * kProgressStates + p) * kProgressStates + j];
            for (std::size_t e = 0; e < kStepMilestones; ++e)
              if (j >> e & 1u) x *= effect_multiplier(config_.effects, static_cast<Action>(a), e);
            h[j] = x;
            total += x;
          }
          const double moves = total > 0 ? -std::expm1(-total) : 0.0;
          week.push_back(Transition{(1 - sub) * (1 - moves), prog});
          for (std::size_t j = 1; j < kProgressStates; ++j)
            if (h[j] > 0) week.push_back(Transition{(1 - sub) * moves * h[j] / total, static_cast<Progress>(p | j)});
        } else {
          for (unsigned subset = open;; subset = (subset - 1) & open) {  // every subset of the open milestones
            double pr = 1 - sub;
            for (std::size_t e = 0; e < kStepMilestones; ++e)
              if (open >> e & 1u) pr *= (subset >> e & 1u) ? q[e] : 1 - q[e];
            week.push_back(Transition{pr, static_cast<Progress>(p | subset)});
            if (subset == 0) break;
          }
        }
        std::stable_sort(week.begin(), week.end(),
                         [](const Transition& x, const Transition& y) { return x.probability > y.probability; });
        subscribe_[r] = sub;
        subscribe_threshold_[r] = threshold_of(sub);
        begin_[r] = static_cast<std::uint32_t>(transitions_.size());
        double cum = sub;
        for (const Transition& t : week) {
          transitions_.push_back(t);
          cum += t.probability;
          thresholds_.push_back(threshold_of(cum));
        }
        begin_[r + 1] = static_cast<std::uint32_t>(transitions_.size());
      }
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
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (std::size_t j = 0; j < kProgressStates; ++j)
          jumps[(s * kProgressStates + p) * kProgressStates + j] =
              h.jump_rate[HazardEstimates::jump_index(static_cast<std::size_t>(leaves[s]), p, j)];
  }
  FunnelModel m(leaves.size(), std::move(rates), config, std::move(jumps));
  m.segment_nodes_ = leaves;
  m.node_segment_.assign(encoder.nodes().size(), -1);
  for (std::size_t s = 0; s < leaves.size(); ++s) m.node_segment_[static_cast<std::size_t>(leaves[s])] = static_cast<std::int32_t>(s);
  return m;
}

FunnelModel FunnelModel::with_config(FunnelConfig config) const {
  FunnelModel m(segments_, rates_, config, jump_rates_);
  m.segment_nodes_ = segment_nodes_;
  m.node_segment_ = node_segment_;
  return m;
}

std::int32_t FunnelModel::segment_of_node(std::int32_t node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= node_segment_.size()) return -1;
  return node_segment_[static_cast<std::size_t>(node)];
}

}  // namespace reinforcer
