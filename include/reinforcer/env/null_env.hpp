#pragma once
// The ceiling of the episode loop: an environment whose transitions do no model work but walk
// the Q-table the way an environment does -- an episode starts at a row drawn like a
// customer's start, then moves one week (one block of kProgressStates rows) on per step along
// that customer's sequence, for as many steps as the environment's episodes last on average.
// Trained with the same run_episodes as the funnel or replay (same interleave, visit counts,
// epsilon-greedy, all-actions update where the environment has it), its steps/s are what the
// loop itself allows; an environment's share of it is what its model costs.
// It uses nothing but the Environment contract of env/episode.hpp.
#include <cmath>
#include <cstdint>
#include <vector>

#include "reinforcer/env/episode.hpp"

namespace reinforcer {

// Rows an episode may start at; start() draws one uniformly (repeat a row to weight it).
struct NullShard {
  std::vector<std::uint32_t> start_rows;
};

// AllActions: the funnel's all-actions update (a sampled week for every action at once), else
// one action per step as the replay environment.
template <bool AllActions>
class NullEnvironment {
 public:
  static constexpr bool kSamplesAllActions = AllActions;

  // states: rows of the Q-table; week_rows: rows between a state and the same progress a week
  // later (progress innermost, as the funnel and replay index their states); mean_steps: the
  // mean episode length (an episode lasts floor or ceil of it, so the mean is kept);
  // actionable: bit m set where an action can add milestone m (the funnel's actionable
  // milestones), whose next-week rows the all-actions update reads.
  NullEnvironment(std::size_t states, std::uint32_t week_rows, double mean_steps, unsigned actionable = 0)
      : states_(states),
        week_rows_(week_rows),
        base_steps_(static_cast<std::uint8_t>(std::floor(mean_steps))),
        longer_threshold_(static_cast<std::uint32_t>((mean_steps - std::floor(mean_steps)) * 4294967296.0)),
        actionable_(actionable) {}

  std::size_t states() const { return states_; }

  // One 64-bit draw: the low half picks the row, the high half the episode's length.
  void start(EpisodeState& e, const NullShard& shard, RandomStream& rng) const {
    const std::uint64_t r = rng.next();
    const auto& rows = shard.start_rows;
    e.state = rows[static_cast<std::size_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(r)) * rows.size()) >> 32)];
    e.t = 0;
    e.done = false;
    const auto steps = static_cast<std::uint8_t>(base_steps_ + (static_cast<std::uint32_t>(r >> 32) < longer_threshold_));
    e.record = steps < 1 ? 1 : steps;  // the episode's length: no model to end it
    e.progress = static_cast<Progress>(e.state % week_rows_);
  }

  StepResult step(EpisodeState& e, Action, RandomStream&) const {
    move_on(e);
    return StepResult{};
  }

  // The all-actions update's inputs: no costs, no successes, no subscriptions.
  ActionModel action_model() const {
    ActionModel m;
    for (int& x : m.milestone) x = -1;
    return m;
  }
  double subscription_reward() const { return 0.0; }
  void sample_all(const EpisodeState& e, RandomStream& rng, WeekSample& w) const {
    const std::uint64_t r = rng.next();
    w.coin = static_cast<std::uint32_t>(r);
    w.last = e.t + 1 >= e.record;
    const std::uint32_t next = e.state + week_rows_;
    w.status_quo = WeekOutcomeSample{0.0, w.last ? 0u : next, e.progress};
    // Every milestone an action could add reads its own next-week row, as in the funnel.
    w.changes = actionable_ & ~static_cast<unsigned>(e.progress);
    for (unsigned bits = w.changes; bits != 0; bits &= bits - 1) {
      const auto m = static_cast<std::size_t>(__builtin_ctz(bits));
      const auto p = static_cast<Progress>(e.progress | (1u << m));
      w.reached[m] = WeekOutcomeSample{0.0, w.last ? 0u : next - e.progress + p, p};
    }
  }
  StepResult advance(EpisodeState& e, const WeekSample&, Action) const {
    move_on(e);
    return StepResult{};
  }

 private:
  void move_on(EpisodeState& e) const {
    ++e.t;
    e.done = e.t >= e.record;
    if (!e.done) e.state += week_rows_;
  }

  std::size_t states_;
  std::uint32_t week_rows_;
  std::uint8_t base_steps_;
  std::uint32_t longer_threshold_;
  unsigned actionable_;
};

}  // namespace reinforcer
