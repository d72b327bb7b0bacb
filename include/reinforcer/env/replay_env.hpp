#pragma once
// The replay environment (DESIGN.md "Environments" -> Replay): outcomes are read from each
// customer's record, kept for parity with the earlier attempts. An action that targets a
// milestone the record reached reveals it (its bonus paid once per episode); a subscriber
// subscribes on the step that reveals the last milestone its record reached. Actions cannot
// change outcomes here (DESIGN.md "Mistakes of the earlier attempts", point 3), only when
// they are revealed; the funnel environment is the main one.
//
// Defects of the earlier attempt fixed: a milestone bonus is paid once per episode (not on
// every step that repeats the action), and states are indexed by the revealed progress and
// the step, not by raw record fields.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "reinforcer/env/action.hpp"
#include "reinforcer/env/episode.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer {

struct ReplayRewards {
  double subscription = 100;
  // Paid once per episode, when milestone m (bit m of Progress) is first revealed.
  std::array<double, kStepMilestones> milestone_bonus{};

  static ReplayRewards plain();   // +100 on subscription only (the default)
  static ReplayRewards legacy();  // the earlier attempt's table: +15 first call, +12 demo
  // "plain" or "legacy"; nullopt otherwise.
  static std::optional<ReplayRewards> named(std::string_view name);
};

struct ReplayConfig {
  int max_steps = 10;  // 1..255 (EpisodeState::t is 8 bits)
  // Start pools: subscribed, reached first call, any customer of the shard (non-negative,
  // summing to 1).
  std::array<double, 3> oversampling{0.3, 0.3, 0.4};
  ReplayRewards rewards;
  ActionCosts costs;
};

// A worker's shard split into the three start pools once, so start() does no work per
// episode beyond two random draws. Indices are into the environment's customers.
struct ReplayShard {
  std::vector<std::uint32_t> subscribers;  // subscribed
  std::vector<std::uint32_t> first_call;   // reached first call (at t0 or later), subscribed or not
  std::vector<std::uint32_t> any;          // the whole shard
  // The same three pools as ready-to-start entries (an empty pool replaced by `any`), so an
  // episode start is one random draw and one load, with no branch on the pool.
  struct Entry {
    std::uint32_t customer;
    std::int32_t segment;
    Progress start;
    std::uint8_t record;  // reached milestones, bit 7 = subscribed
  };
  std::array<std::vector<Entry>, 3> draw;
};

class ReplayEnvironment {
 public:
  using Shard = ReplayShard;

  // customers: one history per environment customer; history.node is its leaf segment
  // index in [0, segments). Throws std::invalid_argument on an invalid config or node.
  ReplayEnvironment(std::vector<CustomerHistory> customers, std::size_t segments, ReplayConfig config);

  std::size_t states() const { return states_; }  // segments * 32 * max_steps
  std::size_t customers() const { return records_.size(); }
  std::size_t segments() const { return segments_; }
  const ReplayConfig& config() const { return config_; }

  // ((segment * 32) + p) * max_steps + step, step in [0, max_steps).
  std::uint32_t state_index(std::int32_t segment, Progress p, int step) const {
    // Rows (segment, step, progress), progress innermost, as the funnel's.
    return (static_cast<std::uint32_t>(segment) * max_steps_ + static_cast<std::uint32_t>(step)) *
               static_cast<std::uint32_t>(kProgressStates) + p;
  }

  // Splits a shard (environment customer indices) into the start pools. Throws
  // std::invalid_argument if the shard is empty or names a customer out of range.
  ReplayShard make_shard(const std::vector<std::uint32_t>& shard) const;

  // One uniform picks the pool (subscribed < o0 <= first call < o0+o1 <= any; an empty pool
  // falls back to any), then a uniform customer of the pool. The episode starts at the
  // customer's segment with the milestones reached at t0 revealed, t = 0.
  void start(EpisodeState& e, const ReplayShard& shard, RandomStream& rng) const;

  // Pays -cost(a); reveals the targeted milestone if the record reached it (bonus once);
  // a subscriber whose reached milestones are all revealed subscribes now (+subscription,
  // done). Otherwise t += 1, done at t == max_steps (the state then stays at the last step,
  // max_steps - 1). Deterministic: the stream is not used. Allocation-free.
  StepResult step(EpisodeState& e, Action a, RandomStream& rng) const;

 private:
  // 8 bytes per customer.
  struct Record {
    std::int32_t segment;
    Progress start;       // milestones reached at t0
    Progress reached;     // milestones the record reached (start included)
    std::uint8_t subscribed;
    std::uint8_t unused;
  };

  std::vector<Record> records_;
  std::size_t segments_ = 0;
  ReplayConfig config_;
  std::size_t states_ = 0;
  std::uint32_t max_steps_ = 0;
  std::uint64_t first_threshold_ = 0;   // oversampling[0] of 2^32
  std::uint64_t second_threshold_ = 0;  // oversampling[0] + oversampling[1] of 2^32
  std::array<Progress, kActions> target_bit_{};  // 0 for wait
  std::array<double, kActions> bonus_{};         // bonus of the targeted milestone
  std::array<double, kActions> cost_{};
};

// Inline: they run in the Q-learning worker's innermost loop.
inline void ReplayEnvironment::start(EpisodeState& e, const ReplayShard& shard, RandomStream& rng) const {
  // One 64-bit draw: the high half picks the pool (30/30/40), the low half the customer.
  const std::uint64_t r = rng.next();
  const auto hi = static_cast<std::uint32_t>(r >> 32);
  const std::size_t pool = static_cast<std::size_t>(hi >= first_threshold_) + static_cast<std::size_t>(hi >= second_threshold_);
  const auto& entries = shard.draw[pool];
  const ReplayShard::Entry& en = entries[static_cast<std::size_t>(((r & 0xFFFFFFFFu) * entries.size()) >> 32)];
  e.customer = static_cast<std::int32_t>(en.customer);
  e.segment = en.segment;
  e.progress = en.start;
  e.t = 0;
  e.done = false;
  e.record = en.record;  // so a step needs no lookup
  e.state = state_index(en.segment, en.start, 0);
}

inline StepResult ReplayEnvironment::step(EpisodeState& e, Action a, RandomStream& /*rng*/) const {
  const unsigned reached = e.record & 0x1Fu;
  const auto ai = static_cast<std::size_t>(a);
  // The targeted milestone, if the record reached it and it is not revealed yet.
  const unsigned fresh = static_cast<unsigned>(target_bit_[ai] & reached & ~e.progress);
  const unsigned progress = e.progress | fresh;
  const bool subscribes = (e.record & 0x80u) != 0 && (reached & ~progress) == 0;
  const double reward = (fresh != 0 ? bonus_[ai] : 0.0) + (subscribes ? config_.rewards.subscription : 0.0) - cost_[ai];
  const unsigned t = e.t + (subscribes ? 0u : 1u);
  const bool horizon = t >= max_steps_;
  e.progress = static_cast<Progress>(progress);
  e.t = static_cast<std::uint8_t>(t);
  e.done = subscribes || horizon;
  e.state = state_index(e.segment, static_cast<Progress>(progress), horizon ? static_cast<int>(max_steps_) - 1 : t);
  return StepResult{reward, subscribes};
}

}  // namespace reinforcer
