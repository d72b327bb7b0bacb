#pragma once
// The fitted funnel as an environment for Q-learning: episodes start at a fitting
// customer's decision-time state (segment, milestones reached at t0, week 0).
#include <cstdint>
#include <vector>

#include "reinforcer/env/episode.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

struct StartState {
  std::int32_t segment = 0;
  Progress progress = 0;
};

// Where a worker's episodes start: its own customers (a hash shard, no replication), and with
// a configured probability a subscriber's start state (every worker sees all subscribers).
// The start distribution is then the same for any number of workers.
struct FunnelShard {
  std::vector<std::uint32_t> own;          // indices into the environment's starts
  std::vector<std::uint32_t> subscribers;  // indices into the environment's starts
  std::uint32_t subscriber_threshold = 0;  // P(a subscriber's start) x 2^32
  static std::uint32_t threshold_of(double share) {
    return share <= 0 ? 0u : share >= 1 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(share * 4294967296.0);
  }
};

class FunnelEnvironment {
 public:
  FunnelEnvironment(const FunnelModel& model, std::vector<StartState> starts)
      : model_(model), starts_(std::move(starts)) {}

  std::size_t states() const { return model_.states(); }
  const FunnelModel& model() const { return model_; }
  const std::vector<StartState>& starts() const { return starts_; }

  // One 64-bit draw: the high half picks the pool, the low half the start within it.
  void start(EpisodeState& e, const FunnelShard& shard, RandomStream& rng) const {
    const std::uint64_t r = rng.next();
    const bool subscriber = static_cast<std::uint32_t>(r >> 32) < shard.subscriber_threshold && !shard.subscribers.empty();
    const std::vector<std::uint32_t>& pool = subscriber || shard.own.empty() ? shard.subscribers : shard.own;
    const auto at = static_cast<std::size_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(r)) * pool.size()) >> 32);
    const StartState& s = starts_[pool[at]];
    e.segment = s.segment;
    e.progress = s.progress;
    e.t = 0;
    e.done = false;
    e.state = model_.state_index(s.segment, s.progress, 0);
  }

  // Pays the cost and the expected subscription reward of the week; the next state is drawn
  // from the outcomes without a subscription, which go on with probability `continuation`.
  StepResult step(EpisodeState& e, Action a, RandomStream& rng) const {
    StepResult r;
    const WeekOutcome o = model_.week(e.segment, e.progress, e.t, a);
    r.subscription = o.subscribe;
    r.continuation = 1 - o.subscribe;
    r.reward = -model_.cost(a) + o.subscribe * model_.config().subscription_reward;
    if (o.first == o.last) {  // a certain subscription
      e.done = true;
      return r;
    }
    e.progress = model_.sample_no_subscription(e.segment, e.progress, e.t, a, static_cast<std::uint32_t>(rng.next() >> 32));
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
