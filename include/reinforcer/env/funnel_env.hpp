#pragma once
// The fitted funnel as an environment for Q-learning: episodes start at a fitting
// customer's decision-time state (segment, milestones reached at t0, week 0).
#include <vector>

#include "reinforcer/env/episode.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

struct StartState {
  std::int32_t segment = 0;
  Progress progress = 0;
};

class FunnelEnvironment {
 public:
  FunnelEnvironment(const FunnelModel& model, std::vector<StartState> starts)
      : model_(model), starts_(std::move(starts)) {}

  std::size_t states() const { return model_.states(); }
  const FunnelModel& model() const { return model_; }
  const std::vector<StartState>& starts() const { return starts_; }

  // shard: indices into starts().
  void start(EpisodeState& e, const std::vector<std::uint32_t>& shard, RandomStream& rng) const {
    const StartState& s = starts_[shard[rng.below(shard.size())]];
    e.segment = s.segment;
    e.progress = s.progress;
    e.t = 0;
    e.done = false;
    e.state = model_.state_index(s.segment, s.progress, 0);
  }

  StepResult step(EpisodeState& e, Action a, RandomStream& rng) const {
    StepResult r;
    r.reward = -model_.cost(a);
    Progress next = e.progress;
    if (model_.sample_week(e.segment, e.progress, a, static_cast<std::uint32_t>(rng.next() >> 32), next)) {
      r.reward += model_.config().subscription_reward;
      r.subscribed = true;
      e.done = true;
      return r;
    }
    e.progress = next;
    ++e.t;
    if (e.t >= model_.horizon()) {
      e.done = true;
      return r;
    }
    e.state = model_.state_index(e.segment, e.progress, e.t);
    return r;
  }

 private:
  const FunnelModel& model_;
  std::vector<StartState> starts_;
};

}  // namespace reinforcer
