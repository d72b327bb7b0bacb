#include "reinforcer/eval/policy_outcomes.hpp"

#include <cstddef>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
constexpr unsigned kFirstCall = 1u << static_cast<unsigned>(Milestone::first_call);
using WeekOutcomes = std::array<PolicyOutcome, kProgressStates>;

// o + sum of probability x next's outcomes (reward discounted by gamma), a term at a time in
// the order added. With SSE2 two fields a lane: (reward, subscribe) += (gamma x, 1 x)
// probability x next's, (first call, cost) += probability x next's -- each lane the scalar
// sum's own operations in its order, so the same bits at about half the instructions (these
// passes are a third of a refit).
class OutcomeSum {
 public:
#if defined(__SSE2__)
  static_assert(offsetof(PolicyOutcome, subscribe) == offsetof(PolicyOutcome, reward) + sizeof(double) &&
                    offsetof(PolicyOutcome, cost) == offsetof(PolicyOutcome, first_call) + sizeof(double),
                "the lanes are adjacent fields");
  OutcomeSum(const PolicyOutcome& o, double gamma)
      : reward_subscribe_(_mm_loadu_pd(&o.reward)), first_call_cost_(_mm_loadu_pd(&o.first_call)),
        discount_(_mm_set_pd(1.0, gamma)) {}
  void add(double probability, const PolicyOutcome& x) {
    const __m128d p = _mm_set1_pd(probability);
    reward_subscribe_ = _mm_add_pd(reward_subscribe_, _mm_mul_pd(_mm_mul_pd(discount_, p), _mm_loadu_pd(&x.reward)));
    first_call_cost_ = _mm_add_pd(first_call_cost_, _mm_mul_pd(p, _mm_loadu_pd(&x.first_call)));
  }
  void store(PolicyOutcome& o) const { _mm_storeu_pd(&o.reward, reward_subscribe_), _mm_storeu_pd(&o.first_call, first_call_cost_); }

 private:
  __m128d reward_subscribe_, first_call_cost_, discount_;
#else
  OutcomeSum(const PolicyOutcome& o, double gamma) : o_(o), gamma_(gamma) {}
  void add(double probability, const PolicyOutcome& x) {
    o_.reward += gamma_ * probability * x.reward, o_.subscribe += probability * x.subscribe;
    o_.first_call += probability * x.first_call, o_.cost += probability * x.cost;
  }
  void store(PolicyOutcome& o) const { o = o_; }

 private:
  PolicyOutcome o_;
  double gamma_;
#endif
};

// Action a's outcomes at (segment, p, week w): its week, then next week's outcomes `next` (not
// read in the horizon's last week).
inline PolicyOutcome action_outcome(const FunnelModel& m, double gamma, double R, const WeekOutcomes& next,
                                    std::int32_t s, Progress p, int w, Action a) {
  const WeekOutcome wk = m.week(s, p, w, a);
  const double c = m.cost(a);
  PolicyOutcome o{-c + wk.subscribe * R, wk.subscribe, 0.0, c};
  // A subscription ends the episode with the milestones of its week (they come first).
  o.first_call += wk.subscribe_with_first_call;
  if (w + 1 < m.horizon()) {
    OutcomeSum sum(o, gamma);
    for (const Transition* t = wk.first; t != wk.last; ++t) sum.add(t->probability, next[t->next]);
    sum.store(o);
  } else {
    for (const Transition* t = wk.first; t != wk.last; ++t) o.first_call += t->probability * ((t->next & kFirstCall) ? 1.0 : 0.0);
  }
  return o;
}

// One segment backward, week by week: outcome(p, w, next) gives a state's outcomes from next
// week's; each finished week goes to week_done(w, outcomes). Only two weeks are held, so a
// caller that needs the start weeks alone keeps no table.
template <class Outcome, class WeekDone>
void backward_segment(const FunnelModel& m, Outcome outcome, WeekDone week_done) {
  WeekOutcomes next{}, now{};
  for (int w = m.horizon() - 1; w >= 0; --w) {
    for (std::size_t p = 0; p < kProgressStates; ++p) now[p] = outcome(static_cast<Progress>(p), w, next);
    week_done(w, now);
    next = now;
  }
}

// A week's tables into the per-state tables of `out`.
auto into_tables(const FunnelModel& m, std::int32_t s, OutcomeTables& out) {
  return [&m, s, &out](int w, const WeekOutcomes& now) {
    for (std::size_t p = 0; p < kProgressStates; ++p) {
      const std::uint32_t st = m.state_index(s, static_cast<Progress>(p), w);
      out.reward[st] = now[p].reward, out.subscribe[st] = now[p].subscribe, out.first_call[st] = now[p].first_call;
      out.cost[st] = now[p].cost;
    }
  };
}
// Weeks 0 and 1 into `out`.
auto into_start_weeks(SegmentOutcomes& out) {
  return [&out](int w, const WeekOutcomes& now) {
    if (w == 1) out.week1 = now;
    if (w == 0) out.week0 = now;
  };
}

void resize_tables(const FunnelModel& m, OutcomeTables& out) {
  const std::size_t n = m.states();
  out.reward.resize(n), out.subscribe.resize(n), out.first_call.resize(n), out.cost.resize(n);
}

// The random policy's week per progress: the mean over the actions of the immediate terms, and
// of the chance of each progress it ends at without a subscription (`to`: those with a chance).
struct MeanRow {
  double reward = 0, subscribe = 0, first_call = 0, cost = 0;
  std::array<double, kProgressStates> next{};
  std::array<std::uint8_t, kProgressStates> to{};
  std::size_t count = 0;
};

// The random policy over one segment: a week's rows depend on its band alone, so they are
// averaged once per band.
template <class WeekDone>
void random_backward_segment(const FunnelModel& m, double gamma, std::int32_t s, WeekDone week_done) {
  const double R = m.config().subscription_reward, share = 1.0 / kActions;
  std::array<MeanRow, kProgressStates> rows;
  std::size_t band = kBands;  // the band the rows hold
  backward_segment(
      m,
      [&](Progress pp, int w, const WeekOutcomes& next) {
        if (pp == 0 && band_of_week(w) != band) {
          band = band_of_week(w);
          for (std::size_t q0 = 0; q0 < kProgressStates; ++q0) {
            MeanRow& row = rows[q0];
            row = MeanRow{};
            for (std::size_t a = 0; a < kActions; ++a) {
              const WeekOutcome wk = m.week(s, static_cast<Progress>(q0), w, static_cast<Action>(a));
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
        const MeanRow& row = rows[pp];
        PolicyOutcome o{row.reward, row.subscribe, row.first_call, row.cost};
        if (!last) {
          OutcomeSum sum(o, gamma);
          for (std::size_t k = 0; k < row.count; ++k) sum.add(row.next[row.to[k]], next[row.to[k]]);
          sum.store(o);
        } else {
          for (std::size_t k = 0; k < row.count; ++k) {
            const std::size_t q = row.to[k];
            o.first_call += row.next[q] * ((q & kFirstCall) ? 1.0 : 0.0);
          }
        }
        return o;
      },
      week_done);
}
}  // namespace

void evaluate_outcomes(const FunnelModel& m, double gamma, const PolicyRule& policy, OutcomeTables& out) {
  resize_tables(m, out);
  const double R = m.config().subscription_reward;
  std::array<double, kActions> probs{};
  for (std::size_t sg = 0; sg < m.segments(); ++sg) {
    const auto s = static_cast<std::int32_t>(sg);
    backward_segment(
        m,
        [&](Progress p, int w, const WeekOutcomes& next) {
          policy(s, p, w, probs);
          PolicyOutcome mix;
          for (std::size_t a = 0; a < kActions; ++a) {
            if (probs[a] == 0) continue;
            const PolicyOutcome o = action_outcome(m, gamma, R, next, s, p, w, static_cast<Action>(a));
            mix.reward += probs[a] * o.reward, mix.subscribe += probs[a] * o.subscribe;
            mix.first_call += probs[a] * o.first_call, mix.cost += probs[a] * o.cost;
          }
          return mix;
        },
        into_tables(m, s, out));
  }
}

namespace {
// A deterministic policy's backward pass over one segment: actions[w * kProgressStates + p].
template <class WeekDone>
void deterministic_backward_segment(const FunnelModel& m, double gamma, std::int32_t s, const std::uint8_t* actions,
                                    WeekDone week_done) {
  const double R = m.config().subscription_reward;
  backward_segment(
      m,
      [&](Progress p, int w, const WeekOutcomes& next) {
        // 0 + 1 x o is o: the same bits as the rule with probability 1 on this action.
        return action_outcome(m, gamma, R, next, s, p, w,
                              static_cast<Action>(actions[static_cast<std::size_t>(w) * kProgressStates + p]));
      },
      week_done);
}
}  // namespace

void evaluate_outcomes(const FunnelModel& m, double gamma, const std::uint8_t* action_per_state, OutcomeTables& out) {
  resize_tables(m, out);
  for (std::size_t sg = 0; sg < m.segments(); ++sg) {
    const auto s = static_cast<std::int32_t>(sg);
    deterministic_backward_segment(m, gamma, s, action_per_state + m.state_index(s, 0, 0), into_tables(m, s, out));
  }
}

void evaluate_segment_outcomes(const FunnelModel& m, double gamma, std::int32_t segment, const std::uint8_t* actions,
                               SegmentOutcomes& out) {
  out = SegmentOutcomes{};
  deterministic_backward_segment(m, gamma, segment, actions, into_start_weeks(out));
}

void evaluate_random_outcomes(const FunnelModel& m, double gamma, OutcomeTables& out) {
  resize_tables(m, out);
  for (std::size_t sg = 0; sg < m.segments(); ++sg) {
    const auto s = static_cast<std::int32_t>(sg);
    random_backward_segment(m, gamma, s, into_tables(m, s, out));
  }
}

void evaluate_random_segment_outcomes(const FunnelModel& m, double gamma, std::int32_t segment, SegmentOutcomes& out) {
  out = SegmentOutcomes{};
  random_backward_segment(m, gamma, segment, into_start_weeks(out));
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
