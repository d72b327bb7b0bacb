#include "reinforcer/env/funnel_model.hpp"

#include <cmath>
#include <stdexcept>

namespace reinforcer {

double effect_multiplier(const ActionEffects& effects, Action a, std::size_t event) {
  if (event == kSubscriptionEvent) return 1.0;
  const auto target = target_of(a);
  if (!target || static_cast<std::size_t>(*target) != event) return effects.idle;
  return a == Action::message ? effects.message : effects.act;
}

FunnelModel::FunnelModel(std::size_t segments, std::vector<double> rates, FunnelConfig config)
    : segments_(segments), rates_(std::move(rates)), config_(config) {
  if (rates_.size() != segments_ * kProgressStates * kEvents) throw std::logic_error("FunnelModel: rates size");
  if (config_.horizon_weeks < 1 || config_.horizon_weeks > 255) throw std::logic_error("FunnelModel: horizon");
  probs_.resize(segments_ * kProgressStates * kActions);
  thresholds_.resize(probs_.size());
  for (std::size_t s = 0; s < segments_; ++s)
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t a = 0; a < kActions; ++a) {
        // Within a week the subscription is its own risk (P = 1 - e^-h_sub); the milestones
        // not yet reached compete for at most one step (total hazard L: P(a step) = 1 - e^-L,
        // shared in proportion to each hazard). Letting the subscription compete with the
        // milestones would crowd it out where many milestones are likely (inbound leads).
        std::array<double, kEvents> h{};
        double total = 0;
        for (std::size_t e = 0; e < kStepMilestones; ++e) {
          const bool reached = (p >> e & 1u) != 0;
          h[e] = reached ? 0.0 : rate(static_cast<std::int32_t>(s), static_cast<Progress>(p), e) *
                                     effect_multiplier(config_.effects, static_cast<Action>(a), e);
          total += h[e];
        }
        const double sub = -std::expm1(-rate(static_cast<std::int32_t>(s), static_cast<Progress>(p), kSubscriptionEvent));
        const std::size_t r = row(static_cast<std::int32_t>(s), static_cast<Progress>(p), static_cast<Action>(a));
        auto& pr = probs_[r];
        const double any = total > 0 ? -std::expm1(-total) : 0.0;
        for (std::size_t e = 0; e < kStepMilestones; ++e) pr[e] = total > 0 ? (1 - sub) * any * h[e] / total : 0.0;
        pr[kSubscriptionEvent] = sub;
        pr[kNoEvent] = (1 - sub) * (1 - any);
        double cum = 0;
        for (std::size_t o = 0; o + 1 < kOutcomes; ++o) {
          cum += pr[o];
          const double t = std::ldexp(std::min(cum, 1.0), 32);
          thresholds_[r][o] = t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t);
        }
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
  FunnelModel m(leaves.size(), std::move(rates), config);
  m.segment_nodes_ = leaves;
  m.node_segment_.assign(encoder.nodes().size(), -1);
  for (std::size_t s = 0; s < leaves.size(); ++s) m.node_segment_[static_cast<std::size_t>(leaves[s])] = static_cast<std::int32_t>(s);
  return m;
}

FunnelModel FunnelModel::with_config(FunnelConfig config) const {
  FunnelModel m(segments_, rates_, config);
  m.segment_nodes_ = segment_nodes_;
  m.node_segment_ = node_segment_;
  return m;
}

std::int32_t FunnelModel::segment_of_node(std::int32_t node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= node_segment_.size()) return -1;
  return node_segment_[static_cast<std::size_t>(node)];
}

}  // namespace reinforcer
