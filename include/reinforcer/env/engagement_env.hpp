#pragma once
// The engagement-score funnel as an environment (env/episode.hpp's contract, plus the inputs a
// deep Q-network needs). The score lives on the config's grid of G points 0, 1/(G-1), ..., 1:
// an action's gain is drawn from the configured distribution and rounded to the grid, so the
// tabular state (the score's grid cell) is the whole state and the DP on the grid
// (rl/engagement_dp.hpp) is exact for this environment -- to the bit: both use the same
// 32-bit thresholds. The last cell (score 1.0) is terminal.
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/env/engagement_config.hpp"
#include "reinforcer/env/episode.hpp"

namespace reinforcer {

// Where a worker's episodes start: grid cells, drawn uniformly (every worker gets all of the
// config's start cells: there is no data to shard).
struct EngagementShard {
  std::vector<std::uint32_t> start_cells;
};

// One outcome of an action in a stage: the score moves by `step` grid cells (0: it stays,
// which includes the action's failure); a draw u (32 bits) takes the first outcome with
// u < upto, so P(outcome) = (upto - previous upto) / 2^32, the last upto being 2^32.
struct EngagementOutcome {
  std::int32_t step = 0;
  std::uint64_t upto = 0;
};

class EngagementEnvironment {
 public:
  // Reward of a sales action this funnel does not have (survey, signup, account manager,
  // wait): the score stays. More than any episode's total gain, so no policy wants one.
  static constexpr double kUnavailablePenalty = 1.0;

  explicit EngagementEnvironment(const EngagementConfig& cfg);

  const EngagementConfig& config() const { return cfg_; }
  std::size_t states() const { return cells_; }  // grid cells; the last is terminal
  std::uint32_t terminal() const { return static_cast<std::uint32_t>(cells_ - 1); }
  double score(std::uint32_t cell) const { return static_cast<double>(cell) * step_; }
  EngagementStage stage(std::uint32_t cell) const { return static_cast<EngagementStage>(stage_[cell]); }
  double cost(std::size_t engagement_action) const { return cfg_.cost[engagement_action]; }
  // Outcomes of engagement action 0..2 in a stage, steps ascending.
  const std::vector<EngagementOutcome>& outcomes(EngagementStage s, std::size_t engagement_action) const {
    return table_[static_cast<std::size_t>(s) * kEngagementActions + engagement_action];
  }
  static double probability(const std::vector<EngagementOutcome>& o, std::size_t k) {
    return static_cast<double>(o[k].upto - (k == 0 ? 0 : o[k - 1].upto)) * 0x1.0p-32;
  }
  std::uint32_t next_cell(std::uint32_t cell, std::int32_t step) const {
    const std::int64_t j = static_cast<std::int64_t>(cell) + step;
    return static_cast<std::uint32_t>(j < 0 ? 0 : j >= static_cast<std::int64_t>(cells_) ? cells_ - 1 : j);
  }
  const std::vector<std::uint32_t>& start_cells() const { return starts_; }
  EngagementShard shard() const { return EngagementShard{starts_}; }

  void start(EpisodeState& e, const EngagementShard& shard, RandomStream& rng) const {
    const auto u = static_cast<std::uint32_t>(rng.next() >> 32);
    e.state = shard.start_cells[static_cast<std::size_t>((std::uint64_t{u} * shard.start_cells.size()) >> 32)];
    e.t = 0;
    e.done = false;
    e.segment = 0;
    e.progress = 0;
  }

  // One action: reward = the score's change minus the action's cost. The episode ends at the
  // terminal cell or after `horizon` actions (a cap the trainer takes as an end).
  StepResult step(EpisodeState& e, Action a, RandomStream& rng) const {
    StepResult r;
    const int ea = engagement_action_of(a);
    ++e.t;
    if (ea < 0) {
      r.reward = -kUnavailablePenalty;
      e.done = e.t >= horizon_;
      return r;
    }
    const auto& o = outcomes(stage(e.state), static_cast<std::size_t>(ea));
    const auto u = static_cast<std::uint32_t>(rng.next() >> 32);
    std::size_t k = 0;
    while (u >= o[k].upto) ++k;
    const std::uint32_t next = next_cell(e.state, o[k].step);
    r.reward = (static_cast<double>(next) - static_cast<double>(e.state)) * step_ - cfg_.cost[static_cast<std::size_t>(ea)];
    e.state = next;
    e.done = next == terminal() || e.t >= horizon_;
    return r;
  }

  // A network's inputs: the score, then the stage one-hot (cold, warm, hot); all in [0, 1].
  // They depend on e.state alone, so a network's greedy policy per cell (for
  // evaluate_engagement_policy) comes from an EpisodeState with only `state` set.
  static constexpr std::size_t kInputs = 1 + kEngagementStages;
  std::size_t inputs() const { return kInputs; }
  void features(const EpisodeState& e, float* out) const {
    out[0] = static_cast<float>(score(e.state));
    for (std::size_t s = 0; s < kEngagementStages; ++s) out[1 + s] = stage_[e.state] == s ? 1.0f : 0.0f;
  }

 private:
  EngagementConfig cfg_;
  std::size_t cells_ = 0;
  double step_ = 0;
  unsigned horizon_ = 0;
  std::vector<std::uint8_t> stage_;  // per cell
  std::vector<std::uint32_t> starts_;
  std::array<std::vector<EngagementOutcome>, kEngagementStages * kEngagementActions> table_;
};

}  // namespace reinforcer
