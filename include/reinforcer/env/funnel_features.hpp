#pragma once
// The fitted funnel as a network sees it: a state (segment, week, milestones) as a vector of
// inputs -- for each feature of the segment tree a one-hot of the segment's code (all zero
// below the node a customer maps to, where the feature is not fixed), the week since t0 as a
// share of the horizon, and one 0/1 input per milestone reached. Every input lies in [0, 1]
// by construction, so no statistics of the fitting customers are needed to normalise them.
// FunnelFeatureEnvironment is the funnel's Environment (env/episode.hpp) plus the two members
// a deep Q-network needs: inputs() and features().
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/segment_encoder.hpp"

namespace reinforcer {

class FunnelFeatures {
 public:
  // `encoder` is the one the model's segments were fitted with (model.segment_nodes() index
  // its nodes).
  FunnelFeatures(const FunnelModel& model, const SegmentEncoder& encoder);

  std::size_t inputs() const { return names_.size(); }
  // Input names in order: "cohort=inbound", ..., "week", "first_call", ...
  const std::vector<std::string>& names() const { return names_; }
  void features(std::int32_t segment, Progress progress, int week, float* out) const;
  // The inputs of every state of the model, in state_index order (states() x inputs()).
  std::vector<float> all_states() const;

 private:
  std::size_t horizon_ = 1;
  std::size_t week_input_ = 0;                       // index of the week input; milestones follow
  std::vector<std::vector<std::uint32_t>> hot_;      // per segment: its one-hot inputs
  std::vector<std::string> names_;
};

class FunnelFeatureEnvironment {
 public:
  FunnelFeatureEnvironment(const FunnelEnvironment& funnel, const SegmentEncoder& encoder)
      : funnel_(funnel), features_(funnel.model(), encoder) {}

  std::size_t states() const { return funnel_.states(); }
  void start(EpisodeState& e, const FunnelShard& shard, RandomStream& rng) const { funnel_.start(e, shard, rng); }
  StepResult step(EpisodeState& e, Action a, RandomStream& rng) const { return funnel_.step(e, a, rng); }
  std::size_t inputs() const { return features_.inputs(); }
  void features(const EpisodeState& e, float* out) const { features_.features(e.segment, e.progress, e.t, out); }
  const FunnelFeatures& encoding() const { return features_; }

 private:
  const FunnelEnvironment& funnel_;
  FunnelFeatures features_;
};

}  // namespace reinforcer
