#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer {
namespace {

// Expected return of action a in (segment, progress, week) given next-week values.
double action_value(const FunnelModel& m, double gamma, const std::vector<double>& value, std::int32_t s, Progress p,
                    int w, Action a) {
  const WeekOutcome o = m.week(s, p, w, a);
  double v = -m.cost(a) + o.subscribe * m.config().subscription_reward;
  if (w + 1 < m.horizon()) {
    double cont = 0;
    for (const Transition* t = o.first; t != o.last; ++t) cont += t->probability * value[m.state_index(s, t->next, w + 1)];
    v += gamma * cont;
  }
  return v;
}

template <typename ChooseValue>
void backward(const FunnelModel& m, std::vector<double>& value, ChooseValue choose) {
  value.assign(m.states(), 0.0);
  for (int w = m.horizon() - 1; w >= 0; --w)
    for (std::size_t s = 0; s < m.segments(); ++s)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        value[m.state_index(static_cast<std::int32_t>(s), static_cast<Progress>(p), w)] =
            choose(static_cast<std::int32_t>(s), static_cast<Progress>(p), w);
}

}  // namespace

DpSolution solve_funnel(const FunnelModel& m, double gamma) {
  DpSolution d;
  d.q.assign(m.states() * kActions, 0.0);
  d.policy.assign(m.states(), 0);
  backward(m, d.value, [&](std::int32_t s, Progress p, int w) {
    const std::uint32_t st = m.state_index(s, p, w);
    double best = 0;
    for (std::size_t a = 0; a < kActions; ++a) {
      const double q = action_value(m, gamma, d.value, s, p, w, static_cast<Action>(a));
      d.q[st * kActions + a] = q;
      if (a == 0 || q > best) best = q, d.policy[st] = static_cast<std::uint8_t>(a);
    }
    return best;
  });
  return d;
}

std::vector<double> evaluate_policy(const FunnelModel& m, double gamma, const std::vector<std::uint8_t>& policy) {
  std::vector<double> value;
  backward(m, value, [&](std::int32_t s, Progress p, int w) {
    return action_value(m, gamma, value, s, p, w, static_cast<Action>(policy[m.state_index(s, p, w)]));
  });
  return value;
}

double mean_start_value(const FunnelModel& m, const std::vector<double>& value, const std::vector<StartState>& starts) {
  if (starts.empty()) return 0.0;
  double sum = 0;
  for (const StartState& s : starts) sum += value[m.state_index(s.segment, s.progress, 0)];
  return sum / static_cast<double>(starts.size());
}

}  // namespace reinforcer
