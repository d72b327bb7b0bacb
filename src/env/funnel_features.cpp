#include "reinforcer/env/funnel_features.hpp"

#include <algorithm>
#include <stdexcept>

namespace reinforcer {

FunnelFeatures::FunnelFeatures(const FunnelModel& model, const SegmentEncoder& encoder)
    : horizon_(static_cast<std::size_t>(std::max(1, model.horizon()))) {
  const std::vector<SegmentNode>& nodes = encoder.nodes();
  const std::vector<Feature>& order = encoder.mask().order;
  // Each feature's codes that occur in the tree: code -> input index.
  std::vector<std::vector<std::int32_t>> input_of(order.size());
  for (const SegmentNode& n : nodes)
    for (std::size_t f = 0; f < n.codes.size(); ++f) {
      const auto code = static_cast<std::size_t>(n.codes[f]);
      if (input_of[f].size() <= code) input_of[f].resize(code + 1, -1);
      input_of[f][code] = 0;
    }
  for (std::size_t f = 0; f < order.size(); ++f)
    for (std::size_t code = 0; code < input_of[f].size(); ++code) {
      if (input_of[f][code] < 0) continue;
      input_of[f][code] = static_cast<std::int32_t>(names_.size());
      names_.push_back(feature_name(order[f], encoder.mask().attribute_names) + "=" +
                       encoder.code_name(order[f], static_cast<std::int32_t>(code)));
    }
  week_input_ = names_.size();
  names_.push_back("week");
  for (std::size_t m = 0; m < kStepMilestones; ++m) names_.emplace_back(kMilestoneKeys[m]);
  hot_.resize(model.segments());
  for (std::size_t s = 0; s < model.segments(); ++s) {
    const std::int32_t node = model.segment_nodes()[s];
    if (node < 0 || static_cast<std::size_t>(node) >= nodes.size())
      throw std::logic_error("FunnelFeatures: a segment's node is not in the encoder's tree");
    const SegmentNode& n = nodes[static_cast<std::size_t>(node)];
    for (std::size_t f = 0; f < n.codes.size(); ++f)
      hot_[s].push_back(static_cast<std::uint32_t>(input_of[f][static_cast<std::size_t>(n.codes[f])]));
  }
}

void FunnelFeatures::features(std::int32_t segment, Progress progress, int week, float* out) const {
  std::fill(out, out + names_.size(), 0.0f);
  for (std::uint32_t i : hot_[static_cast<std::size_t>(segment)]) out[i] = 1.0f;
  out[week_input_] = static_cast<float>(week) / static_cast<float>(horizon_);
  for (std::size_t m = 0; m < kStepMilestones; ++m) out[week_input_ + 1 + m] = (progress >> m & 1u) ? 1.0f : 0.0f;
}

std::vector<float> FunnelFeatures::all_states() const {
  const std::size_t n = inputs();
  std::vector<float> out(hot_.size() * horizon_ * kProgressStates * n);
  float* row = out.data();
  for (std::size_t s = 0; s < hot_.size(); ++s)
    for (std::size_t w = 0; w < horizon_; ++w)
      for (std::size_t p = 0; p < kProgressStates; ++p, row += n)
        features(static_cast<std::int32_t>(s), static_cast<Progress>(p), static_cast<int>(w), row);
  return out;
}

}  // namespace reinforcer
