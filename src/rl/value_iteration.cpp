#include "reinforcer/rl/value_iteration.hpp"

#include <limits>
#include <stdexcept>
#include <string>

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
  // Segments are independent; each one's rows lie together (segment, week, progress).
  for (std::size_t s = 0; s < m.segments(); ++s)
    for (int w = m.horizon() - 1; w >= 0; --w)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        value[m.state_index(static_cast<std::int32_t>(s), static_cast<Progress>(p), w)] =
            choose(static_cast<std::int32_t>(s), static_cast<Progress>(p), w);
}

}  // namespace

DpSolution solve_funnel(const FunnelModel& m, double gamma) {
  DpSolution d;
  solve_funnel(m, gamma, d);
  return d;
}

namespace {
// The backward induction; q is stored only when asked for.
void solve(const FunnelModel& m, double gamma, DpSolution& d, unsigned allowed, bool store_q) {
  allowed |= 1u << static_cast<unsigned>(Action::wait);
  if (store_q) {
    d.q.assign(m.states() * kActions, -std::numeric_limits<double>::infinity());
  } else {
    d.q.clear();
  }
  d.policy.assign(m.states(), 0);
  const double R = m.config().subscription_reward;
  backward(m, d.value, [&](std::int32_t s, Progress p, int w) {
    const std::uint32_t st = m.state_index(s, p, w);
    double best = 0;
    bool first = true;
    // The status quo's parts of action_value, for the actions that do not act here (their row
    // is the status quo's): the same terms added in the same order, computed once.
    bool status_quo_known = false;
    double status_quo_reward = 0, status_quo_continuation = 0;
    for (std::size_t a = 0; a < kActions; ++a) {
      if (!(allowed >> a & 1u)) continue;
      const auto action = static_cast<Action>(a);
      double q;
      if (m.acts(action, p)) {
        q = action_value(m, gamma, d.value, s, p, w, action);
      } else {
        if (!status_quo_known) {
          const WeekOutcome o = m.week(s, p, w, Action::wait);
          status_quo_reward = o.subscribe * R;
          double cont = 0;
          if (w + 1 < m.horizon())
            for (const Transition* t = o.first; t != o.last; ++t) cont += t->probability * d.value[m.state_index(s, t->next, w + 1)];
          status_quo_continuation = gamma * cont;
          status_quo_known = true;
        }
        q = -m.cost(action) + status_quo_reward;
        if (w + 1 < m.horizon()) q += status_quo_continuation;
      }
      if (store_q) d.q[st * kActions + a] = q;
      if (first || q > best) best = q, d.policy[st] = static_cast<std::uint8_t>(a);
      first = false;
    }
    return best;
  });
}
}  // namespace

void solve_funnel(const FunnelModel& m, double gamma, DpSolution& d, unsigned allowed) { solve(m, gamma, d, allowed, true); }

DpSolution solve_funnel_values(const FunnelModel& m, double gamma) {
  DpSolution d;
  solve(m, gamma, d, kAllActions, false);
  return d;
}

void solve_funnel_values(const FunnelModel& m, double gamma, DpSolution& d, unsigned allowed) {
  solve(m, gamma, d, allowed, false);
}

std::vector<double> optimal_q(const FunnelModel& m, double gamma, const std::vector<double>& value) {
  if (value.size() != m.states()) throw std::invalid_argument("optimal_q: the values are not the model's states");
  std::vector<double> q(m.states() * kActions);
  for (std::size_t s = 0; s < m.segments(); ++s)
    for (int w = 0; w < m.horizon(); ++w)
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        const auto seg = static_cast<std::int32_t>(s);
        const std::uint32_t st = m.state_index(seg, static_cast<Progress>(p), w);
        for (std::size_t a = 0; a < kActions; ++a)
          q[st * kActions + a] = action_value(m, gamma, value, seg, static_cast<Progress>(p), w, static_cast<Action>(a));
      }
  return q;
}

std::vector<double> evaluate_policy(const FunnelModel& m, double gamma, const std::vector<std::uint8_t>& policy) {
  std::vector<double> value;
  backward(m, value, [&](std::int32_t s, Progress p, int w) {
    return action_value(m, gamma, value, s, p, w, static_cast<Action>(policy[m.state_index(s, p, w)]));
  });
  return value;
}

std::array<double, kProgressStates> evaluate_segment_policy(const FunnelModel& m, double gamma, std::int32_t segment,
                                                            const std::uint8_t* policy) {
  const double R = m.config().subscription_reward;
  std::array<double, kProgressStates> next{}, now{};
  for (int w = m.horizon() - 1; w >= 0; --w) {
    const bool last = w + 1 == m.horizon();
    for (std::size_t p = 0; p < kProgressStates; ++p) {
      const auto a = static_cast<Action>(policy[static_cast<std::size_t>(w) * kProgressStates + p]);
      const WeekOutcome o = m.week(segment, static_cast<Progress>(p), w, a);
      double cont = 0;
      if (!last)
        for (const Transition* t = o.first; t != o.last; ++t) cont += t->probability * next[t->next];
      now[p] = -m.cost(a) + o.subscribe * R + gamma * cont;
    }
    next = now;
  }
  return next;
}

double mean_start_value(const FunnelModel& m, const std::vector<double>& value, const std::vector<StartState>& starts) {
  if (starts.empty()) return 0.0;
  double sum = 0;
  for (const StartState& s : starts) sum += value[m.state_index(s.segment, s.progress, 0)];
  return sum / static_cast<double>(starts.size());
}

namespace {
void require_window(const FunnelModel& m, std::int32_t segment, int from_week, int weeks) {
  if (from_week < 0 || weeks < 1 || from_week + weeks > m.horizon() || segment < 0 ||
      static_cast<std::size_t>(segment) >= m.segments())
    throw std::logic_error("solve_window: weeks [" + std::to_string(from_week) + ", " + std::to_string(from_week + weeks) +
                           ") of segment " + std::to_string(segment) + " outside the model");
}
}  // namespace

WindowSolution solve_window(const FunnelModel& m, double gamma, std::int32_t seg, int from_week, int weeks) {
  require_window(m, seg, from_week, weeks);
  WindowWeek next;
  const int last = from_week + weeks - 1;
  for (int w = last; w > from_week; --w) next = solve_window_week(m, gamma, seg, w, w == last, next);
  WindowSolution out;
  solve_window_week(m, gamma, seg, from_week, weeks == 1, next, &out);
  return out;
}

WindowWeek solve_window_week(const FunnelModel& m, double gamma, std::int32_t seg, int w, bool last, const WindowWeek& next,
                             WindowSolution* first) {
  const double R = m.config().subscription_reward;
  constexpr auto wait = static_cast<std::size_t>(Action::wait);
  // Next week's values (0 past the window's end): the policy's value, its and the status
  // quo's P(subscribe).
  const std::array<double, kProgressStates>&v_next = next.value, &s_next = next.subscribe, &sq_next = next.subscribe_status_quo;
  WindowWeek now;
  for (std::size_t p = 0; p < kProgressStates; ++p) {
    double best = 0;
    std::size_t best_a = 0;
    std::array<double, kActions> q{}, s_after{};
    // A row's sums; the actions that do not act here share the status quo's (their row is it).
    struct RowSums {
      double subscribe = 0, cont = 0, cont_sub = 0, cont_sq = 0;
    } status_quo;
    bool status_quo_known = false;
    auto sums_of = [&](Action a) {
      const WeekOutcome o = m.week(seg, static_cast<Progress>(p), w, a);
      RowSums r;
      r.subscribe = o.subscribe;
      if (!last)
        for (const Transition* t = o.first; t != o.last; ++t) {
          r.cont += t->probability * v_next[t->next];
          r.cont_sub += t->probability * s_next[t->next];
          r.cont_sq += t->probability * sq_next[t->next];
        }
      return r;
    };
    for (std::size_t a = 0; a < kActions; ++a) {
      const auto action = static_cast<Action>(a);
      RowSums row;
      if (m.acts(action, static_cast<Progress>(p))) {
        row = sums_of(action);
      } else {
        if (!status_quo_known) status_quo = sums_of(Action::wait), status_quo_known = true;
        row = status_quo;
      }
      q[a] = -m.cost(action) + row.subscribe * R + gamma * row.cont;
      s_after[a] = row.subscribe + row.cont_sub;
      if (a == wait) now.subscribe_status_quo[p] = row.subscribe + row.cont_sq;
      if (a == 0 || q[a] > best) best = q[a], best_a = a;
    }
    now.value[p] = best;
    now.subscribe[p] = s_after[best_a];
    if (first) {
      first->q[p] = q;
      first->subscribe_after[p] = s_after;
      first->policy[p] = static_cast<std::uint8_t>(best_a);
    }
  }
  if (first) {
    first->value = now.value;
    first->subscribe = now.subscribe;
    first->subscribe_status_quo = now.subscribe_status_quo;
    // G(p, a) = sum_q D(q) [W(q + milestone) - W(q)], W(q) = P_sub(q) R + (1 - P_sub(q)) gamma V(q, next week).
    auto end_value = [&](Progress q) {
      const double ps = m.subscription_at(seg, q, w);
      return ps * R + (last ? 0.0 : (1 - ps) * gamma * v_next[q]);
    };
    for (std::size_t p = 0; p < kProgressStates; ++p) {
      const auto d = m.status_quo_distribution(seg, static_cast<Progress>(p), w);
      for (std::size_t a = 0; a < kActions; ++a) {
        const auto target = target_of(static_cast<Action>(a));
        if (!target) continue;
        const unsigned bit = 1u << static_cast<unsigned>(*target);
        double g = 0;
        for (std::size_t q = 0; q < kProgressStates; ++q)
          if (d[q] != 0) g += d[q] * (end_value(static_cast<Progress>(q | bit)) - end_value(static_cast<Progress>(q)));
        first->gain_per_success[p][a] = g;
      }
    }
  }
  return now;
}

std::array<double, kProgressStates> status_quo_subscription(const FunnelModel& m, std::int32_t seg, int from_week,
                                                            int weeks) {
  require_window(m, seg, from_week, weeks);
  std::array<double, kProgressStates> next{};
  for (int w = from_week + weeks - 1; w >= from_week; --w) next = status_quo_subscription_week(m, seg, w, next);
  return next;
}

std::array<double, kProgressStates> status_quo_subscription_week(const FunnelModel& m, std::int32_t seg, int week,
                                                                 const std::array<double, kProgressStates>& next) {
  std::array<double, kProgressStates> now{};
  for (std::size_t p = 0; p < kProgressStates; ++p) {
    const WeekOutcome o = m.week(seg, static_cast<Progress>(p), week, Action::wait);
    double cont = 0;
    for (const Transition* t = o.first; t != o.last; ++t) cont += t->probability * next[t->next];
    now[p] = o.subscribe + cont;
  }
  return now;
}

}  // namespace reinforcer
