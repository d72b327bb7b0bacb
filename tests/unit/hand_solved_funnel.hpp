#pragma once
// The hand-solved funnel several tests share: one segment, horizon 2. With nothing reached,
// the first call comes under the status quo with weekly hazard ln 4 (P 3/4); a call adds
// `call_success` of the remaining quarter, a message `message_success`. Once the first call is
// reached -- the same week too: milestones come before the subscription -- the subscription
// hazard is 30 (P = 1 - e^-30, i.e. 1 to 13 digits, whatever the action).
#include <cmath>
#include <vector>

#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer::test {

inline FunnelModel hand_solved_funnel(double call_success, double message_success = 0.0, double call_cost = 5.0) {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  rates[0 * kEvents + static_cast<std::size_t>(Milestone::first_call)] = std::log(4.0);
  rates[1 * kEvents + kSubscriptionEvent] = 30.0;
  FunnelConfig cfg;
  cfg.horizon_weeks = 2;
  cfg.success.probability.fill(0.0);
  cfg.success.probability[static_cast<std::size_t>(Action::call)] = call_success;
  cfg.success.probability[static_cast<std::size_t>(Action::message)] = message_success;
  cfg.costs.cost[static_cast<std::size_t>(Action::call)] = call_cost;
  return FunnelModel(1, rates, cfg);
}

}  // namespace reinforcer::test
