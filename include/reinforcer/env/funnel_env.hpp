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

  // Q-learning updates every action of a visited state from one sampled week: the status
  // quo's milestones drawn once for all actions, each action's own success by one shared
  // uniform. Actions that change nothing then get identical targets but for their cost.
  static constexpr bool kSamplesAllActions = true;

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

  // Every action's week from one draw: the status quo's milestones (high half), then each
  // action's own success (low half against success.<action>), then the subscription paid as
  // its probability at the progress reached (the same fixed point as a sampled +100).
  void sample_all(const EpisodeState& e, RandomStream& rng, WeekSample& w) const {
    const std::uint64_t r = rng.next();
    const Progress status_quo = model_.sample_status_quo(e.segment, e.progress, e.t, static_cast<std::uint32_t>(r >> 32));
    const auto u = static_cast<std::uint32_t>(r);
    const double R = model_.config().subscription_reward;
    w.last = e.t + 1 >= model_.horizon();
    // Most weeks no action succeeds: the status quo's outcome, computed once, serves them all.
    const double sub = model_.subscription_at(e.segment, status_quo, e.t);
    const std::uint32_t next = w.last ? 0u : model_.state_index(e.segment, status_quo, e.t + 1);
    for (std::size_t a = 0; a < kActions; ++a) {
      const auto action = static_cast<Action>(a);
      w.reward[a] = -model_.cost(action) + sub * R;
      w.continuation[a] = 1 - sub;
      w.next_progress[a] = status_quo;
      w.next_state[a] = next;
      if (u >= model_.success_threshold(action)) continue;
      const auto q = static_cast<Progress>(status_quo | (1u << static_cast<unsigned>(*target_of(action))));
      if (q == status_quo) continue;  // its milestone came anyway
      const double s = model_.subscription_at(e.segment, q, e.t);
      w.reward[a] = -model_.cost(action) + s * R;
      w.continuation[a] = 1 - s;
      w.next_progress[a] = q;
      w.next_state[a] = w.last ? 0u : model_.state_index(e.segment, q, e.t + 1);
    }
  }
  // Moves the episode along the action taken.
  StepResult advance(EpisodeState& e, const WeekSample& w, Action a) const {
    const auto i = static_cast<std::size_t>(a);
    StepResult r;
    r.reward = w.reward[i];
    r.subscription = 1 - w.continuation[i];
    r.continuation = w.continuation[i];
    e.progress = w.next_progress[i];
    ++e.t;
    e.done = w.last;
    if (!e.done) e.state = w.next_state[i];
    return r;
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
