#include "reinforcer/eval/break_even.hpp"

#include <cmath>
#include <algorithm>
#include <map>
#include <stdexcept>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer {

double two_proportion_sample_size(double p0, double p1) {
  constexpr double z_alpha = 1.959963984540054, z_beta = 0.8416212335729143;
  const double d = std::fabs(p1 - p0);
  if (!(d > 0) || p1 > 1) return std::numeric_limits<double>::infinity();
  const double bar = (p0 + p1) / 2;
  const double n = z_alpha * std::sqrt(2 * bar * (1 - bar)) + z_beta * std::sqrt(p0 * (1 - p0) + p1 * (1 - p1));
  return std::ceil(n * n / (d * d));
}

void WholeFunnel::visit(const FunnelConfig* config, const Visit& f) const {
  if (!config) return f(model_, 0);
  const FunnelModel m = model_.with_config(*config);
  f(m, 0);
}

void StreamedFunnel::visit(const FunnelConfig* config, const Visit& f) const {
  FunnelModel one(0, {}, FunnelConfig{});  // refilled per segment: its buffers are reused
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    one.assign_segment(hazards_, static_cast<std::size_t>(nodes_[k]), config ? *config : config_);
    f(one, k);
  }
}

namespace {
// What one start at (segment, progress) adds to its row of an action: G, the status quo's
// chance of the action's milestone this week, and P(subscribe | status quo).
struct StartTerms {
  double gain = 0, milestone = 0, subscribe = 0;
};
using SegmentTerms = std::array<std::array<StartTerms, kActions>, kProgressStates>;
}  // namespace

std::vector<BreakEvenRow> break_even_table(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                           const std::vector<std::uint8_t>& cohort_of_start) {
  const FunnelConfig& config = funnel.config();
  const double R = config.subscription_reward;
  std::vector<SegmentTerms> terms(funnel.segments());
  funnel.visit(nullptr, [&](const FunnelModel& m, std::size_t first) {
    const std::vector<double> wait = evaluate_policy(m, gamma, std::vector<std::uint8_t>(m.states(), static_cast<std::uint8_t>(Action::wait)));
    for (std::size_t k = 0; k < m.segments(); ++k) {
      const auto seg = static_cast<std::int32_t>(k);
      // W(q): the week ends at q; subscribe now, else wait from q next week.
      auto end_value = [&](Progress q) {
        const double sub = m.subscription_at(seg, q, 0);
        return sub * R + (m.horizon() > 1 ? (1 - sub) * gamma * wait[m.state_index(seg, q, 1)] : 0.0);
      };
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        const auto d = m.status_quo_distribution(seg, static_cast<Progress>(p), 0);
        for (std::size_t a = 0; a < kActions; ++a) {
          const auto target = target_of(static_cast<Action>(a));
          if (!target) continue;
          const unsigned bit = 1u << static_cast<unsigned>(*target);
          if (p & bit) continue;
          StartTerms& t = terms[first + k][p][a];
          for (std::size_t q = 0; q < kProgressStates; ++q) {
            if (d[q] == 0) continue;
            t.milestone += (q & bit) ? d[q] : 0.0;
            t.gain += d[q] * (end_value(static_cast<Progress>(q | bit)) - end_value(static_cast<Progress>(q)));
          }
          t.subscribe = R > 0 ? wait[m.state_index(seg, static_cast<Progress>(p), 0)] / R : 0.0;
        }
      }
    }
  });
  struct Sum {
    std::int64_t n = 0;
    double gain = 0, milestone = 0, subscribe = 0;
  };
  std::map<std::tuple<std::uint8_t, Progress, std::size_t>, Sum> sums;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const StartState& st = starts[i];
    for (std::size_t a = 0; a < kActions; ++a) {
      const auto target = target_of(static_cast<Action>(a));
      if (!target || (st.progress & (1u << static_cast<unsigned>(*target)))) continue;
      const StartTerms& t = terms[static_cast<std::size_t>(st.segment)][st.progress][a];
      Sum& s = sums[{cohort_of_start[i], st.progress, a}];
      s.n += 1, s.gain += t.gain, s.milestone += t.milestone, s.subscribe += t.subscribe;
    }
  }
  std::vector<BreakEvenRow> rows;
  for (const auto& [key, s] : sums) {
    const auto [cohort, progress, a] = key;
    BreakEvenRow r;
    r.cohort = std::string(kCohortNames[cohort]);
    r.progress = progress;
    r.stage = milestones_text(progress);
    r.action = std::string(kActionNames[a]);
    r.customers = s.n;
    const double n = static_cast<double>(s.n);
    r.gain_per_success = s.gain / n;
    r.milestone_base = s.milestone / n;
    r.subscription_base = s.subscribe / n;
    r.configured_success = config.success.probability[a];
    const double cost = config.costs.cost[a];
    const double g = R > 0 ? r.gain_per_success / R : 0.0;  // subscriptions per success
    if (r.gain_per_success > 0) {
      r.break_even_success = cost / r.gain_per_success;
      if (r.break_even_success <= 1) {
        r.n_per_arm_milestone = two_proportion_sample_size(r.milestone_base, r.milestone_base + (1 - r.milestone_base) * r.break_even_success);
        r.n_per_arm_subscription = two_proportion_sample_size(r.subscription_base, r.subscription_base + r.break_even_success * g);
      }
    }
    if (r.configured_success * g > 0) r.break_even_reward = cost / (r.configured_success * g);
    r.break_even_cost = r.configured_success * r.gain_per_success;
    rows.push_back(r);
  }
  return rows;
}

std::vector<ActionShareRow> action_share_grid(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                              const std::vector<std::uint8_t>& cohort_of_start, const std::string& axis,
                                              const std::vector<double>& values) {
  if (axis != "success" && axis != "reward") throw std::logic_error("action_share_grid: axis " + axis);
  std::vector<ActionShareRow> rows;
  // Per grid point and (segment, progress): whether the DP acts in week 0.
  std::vector<std::vector<std::uint8_t>> acts(values.size(), std::vector<std::uint8_t>(funnel.segments() * kProgressStates));
  DpSolution dp;
  auto record = [&](const FunnelModel& m, std::size_t first, std::size_t point) {
    solve_funnel_values(m, gamma, dp);
    for (std::size_t k = 0; k < m.segments(); ++k)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        acts[point][(first + k) * kProgressStates + p] =
            dp.policy[m.state_index(static_cast<std::int32_t>(k), static_cast<Progress>(p), 0)] != static_cast<std::uint8_t>(Action::wait);
  };
  if (axis == "success") {
    for (std::size_t i = 0; i < values.size(); ++i) {
      FunnelConfig c = funnel.config();
      for (std::size_t a = 0; a < kActions; ++a)
        if (target_of(static_cast<Action>(a))) c.success.probability[a] = std::min(1.0, values[i]);
      funnel.visit(&c, [&](const FunnelModel& m, std::size_t first) { record(m, first, i); });
    }
  } else {  // the rows do not depend on the reward: each segment is built once for the whole grid
    funnel.visit(nullptr, [&](const FunnelModel& m, std::size_t first) {
      FunnelModel at = m;
      for (std::size_t i = 0; i < values.size(); ++i) {
        at.set_subscription_reward(values[i]);
        record(at, first, i);
      }
    });
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    std::array<std::int64_t, 2> n{}, acting{};
    for (std::size_t j = 0; j < starts.size(); ++j) {
      const std::size_t g = cohort_of_start[j] == 0 ? 0 : 1;
      n[g] += 1;
      acting[g] += acts[i][static_cast<std::size_t>(starts[j].segment) * kProgressStates + starts[j].progress];
    }
    for (std::size_t g = 0; g < 2; ++g)
      if (n[g] > 0)
        rows.push_back(ActionShareRow{std::string(kCohortNames[g]), axis, v,
                                      static_cast<double>(acting[g]) / static_cast<double>(n[g]), n[g]});
  }
  return rows;
}

std::vector<double> spanning_grid(double lo, double hi, double cap) {
  std::vector<double> out;
  if (!(lo > 0) || !std::isfinite(lo)) return out;
  if (!(hi >= lo) || !std::isfinite(hi)) hi = lo;
  for (double v = lo / 4; v <= hi * 4 * (1 + 1e-12) && v <= cap * (1 + 1e-12); v *= 2) out.push_back(v);
  if (out.empty() || out.back() < std::min(cap, hi * 4) * (1 - 1e-12)) out.push_back(std::min(cap, hi * 4));
  return out;
}

BreakEvenAnswers break_even_answers(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                    const std::vector<std::uint8_t>& cohort_of_start) {
  BreakEvenAnswers out;
  out.table = break_even_table(funnel, gamma, starts, cohort_of_start);
  const double reward = funnel.config().subscription_reward;
  double s_lo = std::numeric_limits<double>::infinity(), s_hi = 0, r_lo = reward, r_hi = reward;
  for (const BreakEvenRow& b : out.table) {
    if (b.customers < kBreakEvenMinCustomers) continue;
    if (b.break_even_success <= 1) s_lo = std::min(s_lo, b.break_even_success), s_hi = std::max(s_hi, b.break_even_success);
    if (std::isfinite(b.break_even_reward)) r_lo = std::min(r_lo, b.break_even_reward), r_hi = std::max(r_hi, b.break_even_reward);
  }
  if (!std::isfinite(s_lo)) s_lo = s_hi = 1.0;  // nothing pays at any chance: show up to certainty
  for (const auto& [axis, grid] : {std::make_pair(std::string("success"), spanning_grid(s_lo, s_hi, 1.0)),
                                   std::make_pair(std::string("reward"), spanning_grid(r_lo, r_hi, 1e9))}) {
    const auto shares = action_share_grid(funnel, gamma, starts, cohort_of_start, axis, grid);
    out.action_share.insert(out.action_share.end(), shares.begin(), shares.end());
  }
  return out;
}

}  // namespace reinforcer
