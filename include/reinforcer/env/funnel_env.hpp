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
  // quo's milestones drawn once for all actions; each action's own success (an assumption of
  // known probability) taken in expectation. Actions that change nothing then get the same
  // targets but for their cost, and an action's gain is learned from every sample, not from
  // the few weeks its coin came up.
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

  ActionModel action_model() const {
    ActionModel m;
    for (std::size_t a = 0; a < kActions; ++a) {
      const auto action = static_cast<Action>(a);
      const auto target = target_of(action);
      m.cost[a] = model_.cost(action);
      m.success[a] = target ? model_.config().success.of(action) : 0.0;
      m.milestone[a] = target ? static_cast<int>(*target) : -1;
    }
    return m;
  }
  double subscription_reward() const { return model_.config().subscription_reward; }

  // Every action's week from one draw: the status quo's milestones (high half); for each
  // milestone an action could add, the outcome with it; the low half as the behaviour's coin.
  void sample_all(const EpisodeState& e, RandomStream& rng, WeekSample& w) const {
    const std::uint64_t r = rng.next();
    const Progress sq = model_.sample_status_quo(e.segment, e.progress, e.t, static_cast<std::uint32_t>(r >> 32));
    w.coin = static_cast<std::uint32_t>(r);
    w.last = e.t + 1 >= model_.horizon();
    auto outcome = [&](Progress q) {
      return WeekOutcomeSample{model_.subscription_at(e.segment, q, e.t),
                               w.last ? 0u : model_.state_index(e.segment, q, e.t + 1), q};
    };
    w.status_quo = outcome(sq);
    w.changes = model_.actionable_milestones() & ~static_cast<unsigned>(sq);
    for (unsigned bits = w.changes; bits != 0; bits &= bits - 1) {
      const auto m = static_cast<std::size_t>(__builtin_ctz(bits));
      w.reached[m] = outcome(static_cast<Progress>(sq | (1u << m)));
    }
  }
  // Moves the episode along the action taken (its success by the week's coin).
  StepResult advance(EpisodeState& e, const WeekSample& w, Action a) const {
    const auto target = target_of(a);
    const bool succeeded = target && (w.changes >> static_cast<unsigned>(*target) & 1u) &&
                           w.coin < model_.success_threshold(a);
    const WeekOutcomeSample& o = succeeded ? w.reached[static_cast<std::size_t>(*target)] : w.status_quo;
    StepResult r;
    r.subscription = o.subscription;
    r.continuation = 1 - o.subscription;
    r.reward = -model_.cost(a) + o.subscription * model_.config().subscription_reward;
    e.progress = o.next_progress;
    ++e.t;
    e.done = w.last;
    if (!e.done) e.state = o.next_state;
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
