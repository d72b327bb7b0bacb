#include "reinforcer/eval/policy_outcomes.hpp"

namespace reinforcer {

PolicyRule deterministic_policy(const FunnelModel& model, std::vector<std::uint8_t> action_per_state) {
  return [&model, actions = std::move(action_per_state)](std::int32_t s, Progress p, int w, std::array<double, kActions>& probs) {
    probs.fill(0.0);
    probs[actions[model.state_index(s, p, w)]] = 1.0;
  };
}

PolicyRule random_policy() {
  return [](std::int32_t, Progress, int, std::array<double, kActions>& probs) { probs.fill(1.0 / kActions); };
}

PolicyRule always(Action a) {
  return [a](std::int32_t, Progress, int, std::array<double, kActions>& probs) {
    probs.fill(0.0);
    probs[static_cast<std::size_t>(a)] = 1.0;
  };
}

PolicyRule textbook_policy() {
  return [](std::int32_t, Progress p, int w, std::array<double, kActions>& probs) {
    auto reached = [p](Milestone m) { return (p >> static_cast<unsigned>(m) & 1u) != 0; };
    Action a = Action::wait;
    if (!reached(Milestone::first_call)) a = w == 0 ? Action::message : Action::call;
    else if (!reached(Milestone::demo)) a = Action::demo;
    else if (!reached(Milestone::platform_signup)) a = Action::signup_nudge;
    else if (!reached(Milestone::account_manager)) a = Action::account_manager;
    probs.fill(0.0);
    probs[static_cast<std::size_t>(a)] = 1.0;
  };
}

OutcomeTables evaluate_outcomes(const FunnelModel& m, double gamma, const PolicyRule& policy) {
  OutcomeTables out;
  evaluate_outcomes(m, gamma, policy, out);
  return out;
}

namespace {
struct ActionOutcome {
  double reward, subscribe, first_call, cost;
};
// Action a's outcomes at a state: its week, then the next week's tables (or the horizon).
inline ActionOutcome action_outcome(const FunnelModel& m, double gamma, double R, const OutcomeTables& out,
                                    std::int32_t s, Progress p, int w, Action a) {
  constexpr unsigned kFirstCall = 1u << static_cast<unsigned>(Milestone::first_call);
  const WeekOutcome wk = m.week(s, p, w, a);
  const double c = m.cost(a);
  double r = -c + wk.subscribe * R, su = wk.subscribe, f = 0, co = c;
  // A subscription ends the episode with the milestones of its week (they come first).
  f += wk.subscribe_with_first_call;
  for (const Transition* t = wk.first; t != wk.last; ++t) {
    if (w + 1 < m.horizon()) {
      const std::uint32_t ns = m.state_index(s, t->next, w + 1);
      r += gamma * t->probability * out.reward[ns];
      su += t->probability * out.subscribe[ns];
      f += t->probability * out.first_call[ns];
      co += t->probability * out.cost[ns];
    } else {
      f += t->probability * ((t->next & kFirstCall) ? 1.0 : 0.0);
    }
  }
  return ActionOutcome{r, su, f, co};
}

// f(segment, progress, week, state) for every state. Segments are independent: each is solved
// backward on its own rows, which lie together (state layout: segment, week, progress), so the
// pass streams through memory, and a week's next-week tables are final when it is reached.
template <class F>
void backward_states(const FunnelModel& m, F f) {
  for (std::size_t sg = 0; sg < m.segments(); ++sg)
    for (int w = m.horizon() - 1; w >= 0; --w)
      for (std::size_t pp = 0; pp < kProgressStates; ++pp) {
        const auto s = static_cast<std::int32_t>(sg);
        const auto p = static_cast<Progress>(pp);
        f(s, p, w, m.state_index(s, p, w));
      }
}
}  // namespace

void evaluate_outcomes(const FunnelModel& m, double gamma, const PolicyRule& policy, OutcomeTables& out) {
  const std::size_t n = m.states();
  out.reward.assign(n, 0), out.subscribe.assign(n, 0), out.first_call.assign(n, 0), out.cost.assign(n, 0);
  const double R = m.config().subscription_reward;
  std::array<double, kActions> probs{};
  backward_states(m, [&](std::int32_t s, Progress p, int w, std::uint32_t st) {
    policy(s, p, w, probs);
    double reward = 0, sub = 0, fc = 0, cost = 0;
    for (std::size_t a = 0; a < kActions; ++a) {
      if (probs[a] == 0) continue;
      const ActionOutcome o = action_outcome(m, gamma, R, out, s, p, w, static_cast<Action>(a));
      reward += probs[a] * o.reward, sub += probs[a] * o.subscribe, fc += probs[a] * o.first_call, cost += probs[a] * o.cost;
    }
    out.reward[st] = reward, out.subscribe[st] = sub, out.first_call[st] = fc, out.cost[st] = cost;
  });
}

void evaluate_outcomes(const FunnelModel& m, double gamma, const std::uint8_t* action_per_state, OutcomeTables& out) {
  const std::size_t n = m.states();
  out.reward.resize(n), out.subscribe.resize(n), out.first_call.resize(n), out.cost.resize(n);
  const double R = m.config().subscription_reward;
  backward_states(m, [&](std::int32_t s, Progress p, int w, std::uint32_t st) {
    // 0 + 1 x o is o: the same bits as the rule with probability 1 on this action.
    const ActionOutcome o = action_outcome(m, gamma, R, out, s, p, w, static_cast<Action>(action_per_state[st]));
    out.reward[st] = o.reward, out.subscribe[st] = o.subscribe, out.first_call[st] = o.first_call, out.cost[st] = o.cost;
  });
}

void evaluate_random_outcomes(const FunnelModel& m, double gamma, OutcomeTables& out) {
  const std::size_t n = m.states();
  out.reward.assign(n, 0), out.subscribe.assign(n, 0), out.first_call.assign(n, 0), out.cost.assign(n, 0);
  const double R = m.config().subscription_reward, share = 1.0 / kActions;
  constexpr unsigned kFirstCall = 1u << static_cast<unsigned>(Milestone::first_call);
  // Per progress, the week's mean over the actions: the immediate terms, and the chance of
  // each progress it ends at without a subscription (`to`, the progresses with a chance).
  struct MeanRow {
    double reward = 0, subscribe = 0, first_call = 0, cost = 0;
    std::array<double, kProgressStates> next{};
    std::array<std::uint8_t, kProgressStates> to{};
    std::size_t count = 0;
  };
  std::array<MeanRow, kProgressStates> rows;
  for (std::size_t sg = 0; sg < m.segments(); ++sg) {
    const auto s = static_cast<std::int32_t>(sg);
    std::size_t band = kBands;  // the band the rows hold
    for (int w = m.horizon() - 1; w >= 0; --w) {
      if (band_of_week(w) != band) {  // a week's rows depend on its band alone
        band = band_of_week(w);
        for (std::size_t pp = 0; pp < kProgressStates; ++pp) {
          MeanRow& row = rows[pp];
          row = MeanRow{};
          for (std::size_t a = 0; a < kActions; ++a) {
            const WeekOutcome wk = m.week(s, static_cast<Progress>(pp), w, static_cast<Action>(a));
            const double c = m.cost(static_cast<Action>(a));
            row.reward += share * (-c + wk.subscribe * R);
            row.subscribe += share * wk.subscribe;
            row.first_call += share * wk.subscribe_with_first_call;
            row.cost += share * c;
            for (const Transition* t = wk.first; t != wk.last; ++t) row.next[t->next] += share * t->probability;
          }
          for (std::size_t q = 0; q < kProgressStates; ++q)
            if (row.next[q] > 0) row.to[row.count++] = static_cast<std::uint8_t>(q);
        }
      }
      const bool last = w + 1 == m.horizon();
      for (std::size_t pp = 0; pp < kProgressStates; ++pp) {
        const MeanRow& row = rows[pp];
        double reward = row.reward, sub = row.subscribe, fc = row.first_call, cost = row.cost;
        for (std::size_t k = 0; k < row.count; ++k) {
          const std::size_t q = row.to[k];
          const double pr = row.next[q];
          if (!last) {
            const std::uint32_t ns = m.state_index(s, static_cast<Progress>(q), w + 1);
            reward += gamma * pr * out.reward[ns];
            sub += pr * out.subscribe[ns];
            fc += pr * out.first_call[ns];
            cost += pr * out.cost[ns];
          } else {
            fc += pr * ((q & kFirstCall) ? 1.0 : 0.0);
          }
        }
        const std::uint32_t st = m.state_index(s, static_cast<Progress>(pp), w);
        out.reward[st] = reward, out.subscribe[st] = sub, out.first_call[st] = fc, out.cost[st] = cost;
      }
    }
  }
}

PolicyOutcome mean_outcome(const FunnelModel& m, const OutcomeTables& t, const std::vector<StartState>& starts) {
  PolicyOutcome o;
  if (starts.empty()) return o;
  for (const StartState& s : starts) {
    const std::uint32_t st = m.state_index(s.segment, s.progress, 0);
    o.reward += t.reward[st], o.subscribe += t.subscribe[st], o.first_call += t.first_call[st], o.cost += t.cost[st];
  }
  const double n = static_cast<double>(starts.size());
  o.reward /= n, o.subscribe /= n, o.first_call /= n, o.cost /= n;
  return o;
}

std::vector<double> cumulative_event_probabilities(const FunnelModel& m, std::int32_t segment, Progress start,
                                                   const PolicyRule& policy) {
  const int H = m.horizon();
  std::vector<double> out(static_cast<std::size_t>(H) * kEvents, 0.0);
  std::array<double, kProgressStates> dist{};      // P(progress, not subscribed)
  std::array<double, kProgressStates> absorbed{};  // P(subscribed with this progress)
  dist[start] = 1.0;
  std::array<double, kActions> probs{};
  for (int w = 0; w < H; ++w) {
    std::array<double, kProgressStates> next{};
    for (std::size_t p = 0; p < kProgressStates; ++p) {
      if (dist[p] == 0) continue;
      policy(segment, static_cast<Progress>(p), w, probs);
      for (std::size_t a = 0; a < kActions; ++a) {
        if (probs[a] == 0) continue;
        const WeekOutcome wk = m.week(segment, static_cast<Progress>(p), w, static_cast<Action>(a));
        const double mass = dist[p] * probs[a];
        if (wk.subscribe > 0) {  // absorbed with the milestones of its week
          const auto by = m.subscribed_by_progress(segment, static_cast<Progress>(p), w, static_cast<Action>(a));
          for (std::size_t q = 0; q < kProgressStates; ++q) absorbed[q] += mass * by[q];
        }
        for (const Transition* t = wk.first; t != wk.last; ++t) next[t->next] += mass * t->probability;
      }
    }
    dist = next;
    double subscribed = 0;
    for (std::size_t p = 0; p < kProgressStates; ++p) subscribed += absorbed[p];
    for (std::size_t e = 0; e < kStepMilestones; ++e) {
      double reached = 0;
      for (std::size_t p = 0; p < kProgressStates; ++p)
        if (p >> e & 1u) reached += dist[p] + absorbed[p];
      out[static_cast<std::size_t>(w) * kEvents + e] = reached;
    }
    out[static_cast<std::size_t>(w) * kEvents + kSubscriptionEvent] = subscribed;
  }
  return out;
}

}  // namespace reinforcer
