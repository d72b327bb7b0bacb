#include "reinforcer/env/replay_env.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace reinforcer {

ReplayRewards ReplayRewards::plain() { return ReplayRewards{}; }

ReplayRewards ReplayRewards::legacy() {
  // The earlier attempt's README: "+15 (first call), +12 (demo), etc." — the only bonuses it
  // documents; the others are 0.
  ReplayRewards r;
  r.milestone_bonus[static_cast<std::size_t>(Milestone::first_call)] = 15;
  r.milestone_bonus[static_cast<std::size_t>(Milestone::demo)] = 12;
  return r;
}

std::optional<ReplayRewards> ReplayRewards::named(std::string_view name) {
  if (name == "plain") return plain();
  if (name == "legacy") return legacy();
  return std::nullopt;
}

ReplayEnvironment::ReplayEnvironment(std::vector<CustomerHistory> customers, std::size_t segments,
                                     ReplayConfig config)
    : segments_(segments), config_(config) {
  if (config_.max_steps < 1 || config_.max_steps > std::numeric_limits<std::uint8_t>::max())
    throw std::invalid_argument("replay: max_steps must be in [1, 255], got " + std::to_string(config_.max_steps));
  double sum = 0;
  for (double o : config_.oversampling) {
    if (!(o >= 0)) throw std::invalid_argument("replay: oversampling shares must be non-negative");
    sum += o;
  }
  if (std::abs(sum - 1.0) > 1e-9) throw std::invalid_argument("replay: oversampling shares must sum to 1");
  if (segments_ == 0) throw std::invalid_argument("replay: no segments");
  const std::size_t per_segment = kProgressStates * static_cast<std::size_t>(config_.max_steps);
  if (segments_ > std::numeric_limits<std::uint32_t>::max() / per_segment ||
      segments_ > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("replay: too many states for 32-bit state indices");
  if (customers.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument("replay: too many customers");

  states_ = segments_ * per_segment;
  max_steps_ = static_cast<std::uint32_t>(config_.max_steps);
  // Thresholds on a 32-bit uniform: u < t picks the subscribers, then the first-call pool.
  first_threshold_ = static_cast<std::uint64_t>(std::ldexp(config_.oversampling[0], 32));
  second_threshold_ = static_cast<std::uint64_t>(std::ldexp(config_.oversampling[0] + config_.oversampling[1], 32));

  for (std::size_t a = 0; a < kActions; ++a) {
    const auto m = target_of(static_cast<Action>(a));
    const auto bit = m ? static_cast<std::size_t>(*m) : 0;
    target_bit_[a] = m ? static_cast<Progress>(1u << bit) : Progress{0};
    bonus_[a] = m ? config_.rewards.milestone_bonus[bit] : 0.0;
    cost_[a] = config_.costs.cost[a];
  }

  constexpr Progress all = static_cast<Progress>(kProgressStates - 1);
  records_.reserve(customers.size());
  for (std::size_t i = 0; i < customers.size(); ++i) {
    const CustomerHistory& h = customers[i];
    if (h.node < 0 || static_cast<std::size_t>(h.node) >= segments_)
      throw std::invalid_argument("replay: customer " + std::to_string(i) + " has segment " +
                                  std::to_string(h.node) + " outside [0, " + std::to_string(segments_) + ")");
    Record r{};
    r.segment = h.node;
    r.start = static_cast<Progress>(h.start & all);
    r.reached = r.start;
    for (std::size_t m = 0; m < kStepMilestones; ++m)
      if (h.step_week[m] >= 0) r.reached = static_cast<Progress>(r.reached | (1u << m));
    r.subscribed = h.subscribed ? 1 : 0;
    records_.push_back(r);
  }
}

ReplayShard ReplayEnvironment::make_shard(const std::vector<std::uint32_t>& shard) const {
  if (shard.empty()) throw std::invalid_argument("replay: empty shard");
  constexpr Progress first_call = Progress{1} << static_cast<unsigned>(Milestone::first_call);
  ReplayShard s;
  s.any = shard;
  for (std::uint32_t c : shard) {
    if (c >= records_.size())
      throw std::invalid_argument("replay: shard names customer " + std::to_string(c) + " of " +
                                  std::to_string(records_.size()));
    const Record& r = records_[c];
    if (r.subscribed) s.subscribers.push_back(c);
    if (r.reached & first_call) s.first_call.push_back(c);
  }
  const std::array<const std::vector<std::uint32_t>*, 3> pools = {&s.subscribers, &s.first_call, &s.any};
  for (std::size_t k = 0; k < 3; ++k)
    for (std::uint32_t c : pools[k]->empty() ? s.any : *pools[k]) {
      const Record& r = records_[c];
      s.draw[k].push_back(ReplayShard::Entry{c, r.segment, r.start,
                                             static_cast<std::uint8_t>(r.reached | (r.subscribed ? 0x80u : 0u))});
    }
  return s;
}



}  // namespace reinforcer
