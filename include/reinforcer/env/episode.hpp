#pragma once
// What a Q-learning worker needs of an environment: a start state per episode and one
// transition per step. Both environments (funnel, replay) keep an episode's position in
// this small struct, so a worker can interleave several episodes in lockstep.
#include <array>
#include <cstdint>
#include <type_traits>

#include "reinforcer/env/action.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer {

struct EpisodeState {
  std::uint32_t state = 0;     // index into the Q-table's rows
  std::int32_t customer = -1;  // index into the environment's customers (replay); -1 if unused
  std::int32_t segment = 0;    // leaf segment index (0..segments-1)
  Progress progress = 0;       // step milestones reached (bit m = Milestone m)
  std::uint8_t t = 0;          // week (funnel) or step (replay)
  bool done = false;
  std::uint8_t record = 0;     // replay: the record's reached milestones, bit 7 = subscribed
};

struct StepResult {
  double reward = 0.0;
  bool subscribed = false;        // a sampled subscription ended the episode (replay)
  // The funnel pays a subscription's expected reward instead of a sampled +100 (the same
  // fixed point, far less variance): it reports the step's subscription probability, and
  // the chance the episode goes on, by which the next state's value is weighted.
  double subscription = 0.0;
  double continuation = 1.0;
};

// One week sampled for every action at once (environments that can: the funnel): the status
// quo's outcome, shared by all actions, and for each milestone the outcome should an action
// add it (valid where that changes the outcome). Q-learning weighs the latter by the
// action's known chance of success and samples the rest.
struct WeekOutcomeSample {
  double subscription;       // P(subscribing in the week), paid as its expectation
  std::uint32_t next_state;
  Progress next_progress;
};
struct WeekSample {
  WeekOutcomeSample status_quo;
  std::array<WeekOutcomeSample, kStepMilestones> reached;  // by milestone; valid where `changes` has its bit
  unsigned changes;          // bit m: adding milestone m changes the week's outcome
  bool last;                 // the week ends the horizon: no next state
  std::uint32_t coin;        // the behaviour's own success draw (2^32 x uniform)
};
// What an action is to the all-actions update: its cost, its chance of adding its milestone
// (-1: none).
struct ActionModel {
  std::array<double, kActions> cost{}, success{};
  std::array<int, kActions> milestone{};
};

// An Environment provides:
//   std::size_t states() const;
//   void start(EpisodeState& e, const Shard& shard, RandomStream& rng) const;
//   StepResult step(EpisodeState& e, Action a, RandomStream& rng) const;   // sets e.state, e.done
// `shard` is what this worker draws episode starts from (its own type per environment).
// Optionally (kSamplesAllActions = true):
//   ActionModel action_model() const;  double subscription_reward() const;
//   void sample_all(const EpisodeState& e, RandomStream& rng, WeekSample& w) const;
//   StepResult advance(EpisodeState& e, const WeekSample& w, Action a) const;
template <typename Env, typename = void>
struct samples_all_actions : std::false_type {};
template <typename Env>
struct samples_all_actions<Env, std::void_t<decltype(Env::kSamplesAllActions)>>
    : std::bool_constant<Env::kSamplesAllActions> {};

}  // namespace reinforcer
