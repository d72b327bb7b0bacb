#pragma once
// A five-state chain solved by hand, for the deep Q-network's tests. States 0..3 decide;
// state 4 is the goal. `call` moves one state right at cost 1 (reaching the goal pays +10
// and ends the episode); `wait` ends the episode with nothing; every other action stays put
// at cost 0.5. With discount g the optimum is always `call`:
//   V*(3) = 9, V*(s) = -1 + g V*(s + 1);  Q*(s, wait) = 0;  Q*(s, other) = -0.5 + g V*(s).
// Episodes start uniformly in 0..3; the inputs are a one-hot of the state.
#include <array>
#include <cstdint>

#include "reinforcer/env/episode.hpp"

namespace reinforcer::test {

struct ChainShard {};

class ChainEnvironment {
 public:
  static constexpr std::size_t kDecisionStates = 4;
  std::size_t states() const { return kDecisionStates; }
  std::size_t inputs() const { return kDecisionStates; }
  void start(EpisodeState& e, const ChainShard&, RandomStream& rng) const {
    e = EpisodeState{};
    e.state = static_cast<std::uint32_t>(rng.below(kDecisionStates));
  }
  StepResult step(EpisodeState& e, Action a, RandomStream&) const {
    StepResult r;
    if (a == Action::call) {
      r.reward = -1;
      if (++e.state == kDecisionStates) r.reward += 10, e.done = true;
    } else if (a == Action::wait) {
      e.done = true;
    } else {
      r.reward = -0.5;
    }
    return r;
  }
  void features(const EpisodeState& e, float* out) const {
    for (std::size_t i = 0; i < kDecisionStates; ++i) out[i] = i == e.state ? 1.0f : 0.0f;
  }
  // Optimal values by the recursion above.
  static std::array<double, kDecisionStates> optimal_values(double gamma) {
    std::array<double, kDecisionStates> v{};
    v[3] = 9;
    for (std::size_t s = 3; s-- > 0;) v[s] = -1 + gamma * v[s + 1];
    return v;
  }
};

}  // namespace reinforcer::test
