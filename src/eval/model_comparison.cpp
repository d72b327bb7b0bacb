// Policies compared in the fitted funnel, and how conclusions move with the assumptions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "evaluation_internal.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer::evaluation {
namespace {

struct Fitted {
  HazardEstimates hazards;
  FunnelModel model;
  DpSolution dp;
  std::vector<StartState> starts;
};

Fitted fit(const CustomerTable& table, const std::vector<std::size_t>& fitting, const SegmentEncoder& encoder,
           const EvaluationSettings& s, const FunnelConfig& config) {
  HazardOptions h = s.hazards;
  HazardEstimates est = estimate_hazards(table, fitting, encoder, h);
  FunnelModel model = FunnelModel::from_estimates(encoder, est, config);
  DpSolution dp = solve_funnel(model, s.q.gamma);
  std::vector<StartState> starts;
  for (std::size_t i : fitting) {
    const Customer& c = table.customers[i];
    const std::int32_t node = encoder.node_of(c, table);
    starts.push_back(StartState{model.segment_of_node(node), history_of(c, node, h).start});
  }
  return Fitted{std::move(est), std::move(model), std::move(dp), std::move(starts)};
}

// Change in P(subscribed within the horizon) from taking action a this week (week 0, with
// progress p) instead of waiting, acting optimally afterwards; averaged over customers.
ActionTable action_impact(const Fitted& f, const OutcomeTables& optimal) {
  const FunnelModel& m = f.model;
  std::vector<double> weight(m.segments(), 0.0);
  for (const StartState& s : f.starts) weight[static_cast<std::size_t>(s.segment)] += 1;
  ActionTable impact{};
  const double total = static_cast<double>(f.starts.size());
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t seg = 0; seg < m.segments(); ++seg) {
      if (weight[seg] == 0) continue;
      std::array<double, kActions> sub{};
      for (std::size_t a = 0; a < kActions; ++a) {
        const WeekOutcome wk = m.week(static_cast<std::int32_t>(seg), static_cast<Progress>(p), 0, static_cast<Action>(a));
        double v = wk.subscribe;
        if (m.horizon() > 1)
          for (const Transition* t = wk.first; t != wk.last; ++t)
            v += t->probability * optimal.subscribe[m.state_index(static_cast<std::int32_t>(seg), t->next, 1)];
        sub[a] = v;
      }
      for (std::size_t a = 0; a < kActions; ++a)
        impact[p][a] += weight[seg] / total * (sub[a] - sub[static_cast<std::size_t>(Action::wait)]);
    }
  return impact;
}

// Share of the weeks spent on each action, whatever the progress.
std::array<double, kActions> action_shares(const ActionTable& mix) {
  std::array<double, kActions> share{};
  for (const auto& row : mix)
    for (std::size_t a = 0; a < kActions; ++a) share[a] += row[a];
  return share;
}

}  // namespace

ModelReplicate run_model_replicate(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                   const SegmentEncoder& encoder, const TrainState& learned,
                                   const EvaluationSettings& s, std::int64_t replicate,
                                   const std::vector<LeadKey>& leads) {
  std::vector<std::size_t> sample = fitting;
  if (replicate >= 0) {
    std::vector<std::uint8_t> cohort(fitting.size());
    for (std::size_t k = 0; k < fitting.size(); ++k) cohort[k] = static_cast<std::uint8_t>(table.customers[fitting[k]].cohort);
    sample.clear();
    for (std::uint32_t k : bootstrap_sample_stratified(cohort, splitmix64(s.seed ^ 0xA11DA7AULL), static_cast<std::uint64_t>(replicate)))
      sample.push_back(fitting[k]);
  }
  const Fitted f = fit(table, sample, encoder, s, s.funnel);
  if (learned.q.size() != f.model.states() * kQStride)
    throw InputError("the run's Q-table has " + std::to_string(learned.q.size() / kQStride) + " states, the refitted funnel " +
                     std::to_string(f.model.states()) + ": the run file does not match its own settings");
  const FunnelModel& m = f.model;
  const std::array<PolicyRule, 6> rules = {deterministic_policy(m, learned_policy(learned.q, learned.visits, kQStride)),
                                           deterministic_policy(m, f.dp.policy), random_policy(), always(Action::wait),
                                           always(Action::message), textbook_policy()};
  ModelReplicate r;
  auto record = [&](std::size_t k, const PolicyOutcome& o, bool costs_known) {
    r.policy[k] = {1000 * o.subscribe, 1000 * o.first_call, o.reward,
                   costs_known && o.subscribe > 0 ? o.cost / o.subscribe : std::numeric_limits<double>::quiet_NaN()};
  };
  OutcomeTables optimal;
  for (std::size_t k = 0; k < rules.size(); ++k) {
    OutcomeTables t = evaluate_outcomes(m, s.q.gamma, rules[k]);
    const PolicyOutcome o = mean_outcome(m, t, f.starts);
    record(k, o, true);
    if (k == 1) optimal = std::move(t);
    // The historical process is always waiting with no success and no known cost: when waiting
    // costs nothing it is always-wait itself, and its model need not be built.
    if (k == 3 && m.cost(Action::wait) == 0) record(6, o, false);
  }
  if (m.cost(Action::wait) != 0) {
    FunnelConfig c = status_quo(s.funnel);
    c.costs.cost.fill(0.0);
    const FunnelModel hist = m.with_config(c);
    record(6, mean_outcome(hist, evaluate_outcomes(hist, s.q.gamma, always(Action::wait)), f.starts), false);
  }
  r.impact = action_impact(f, optimal);
  r.action_mix = optimal_action_mix(m, f.dp, f.starts);
  if (!leads.empty()) {
    const FunnelModel listed = call_list_model(encoder, f.hazards, s.funnel);
    LeadScorer scorer(listed, s.q.gamma);
    for (const LeadKey& k : leads) {
      const std::int32_t seg = listed.segment_of_node(k.node);
      r.lead_p_subscribe.push_back(scorer.p_subscribe(seg, k.progress, k.week));
      r.lead_gain.push_back(k.act ? scorer.score(seg, k.progress, k.week).gain : 0.0);
    }
  }
  return r;
}

FunnelModel call_list_model(const SegmentEncoder& encoder, const HazardEstimates& hazards, const FunnelConfig& config) {
  FunnelConfig c = config;
  c.horizon_weeks = kCallListHorizon;
  return FunnelModel::from_estimates(encoder, hazards, c, /*all_nodes=*/true);
}

ActionTable optimal_action_mix(const FunnelModel& m, const DpSolution& dp, const std::vector<StartState>& starts) {
  // Expected weeks spent in each (progress, action) under the optimal policy.
  std::map<std::pair<std::int32_t, Progress>, double> weight;
  for (const StartState& s : starts) weight[{s.segment, s.progress}] += 1.0 / static_cast<double>(starts.size());
  ActionTable occupancy{};
  for (const auto& [key, w0] : weight) {
    std::array<double, kProgressStates> dist{};
    dist[key.second] = w0;
    for (int w = 0; w < m.horizon(); ++w) {
      std::array<double, kProgressStates> next{};
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        if (dist[p] == 0) continue;
        const std::uint8_t a = dp.policy[m.state_index(key.first, static_cast<Progress>(p), w)];
        occupancy[p][a] += dist[p];
        const WeekOutcome wk = m.week(key.first, static_cast<Progress>(p), w, static_cast<Action>(a));
        for (const Transition* t = wk.first; t != wk.last; ++t) next[t->next] += dist[p] * t->probability;
      }
      dist = next;
    }
  }
  double total = 0;
  for (const auto& row : occupancy)
    for (double x : row) total += x;
  for (auto& row : occupancy)
    for (double& x : row) x = total > 0 ? x / total : 0.0;
  return occupancy;
}

std::vector<SensitivityRow> run_sensitivity(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                            const SegmentEncoder& encoder, const EvaluationSettings& s,
                                            ActionTable& impact_low, ActionTable& impact_high) {
  std::vector<SensitivityRow> rows;
  for (auto& row : impact_low) row.fill(std::numeric_limits<double>::infinity());
  for (auto& row : impact_high) row.fill(-std::numeric_limits<double>::infinity());
  for (double success : s.grid_success)
    for (double reward : s.grid_reward) {
      FunnelConfig c = s.funnel;
      for (double& x : c.success.probability) x = std::min(1.0, x * success);
      c.subscription_reward *= reward;
      const Fitted f = fit(table, fitting, encoder, s, c);
      const OutcomeTables t = evaluate_outcomes(f.model, s.q.gamma, deterministic_policy(f.model, f.dp.policy));
      const PolicyOutcome o = mean_outcome(f.model, t, f.starts);
      rows.push_back(SensitivityRow{success, reward, o.reward, 1000 * o.subscribe,
                                    action_shares(optimal_action_mix(f.model, f.dp, f.starts))});
      const ActionTable imp = action_impact(f, t);
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (std::size_t a = 0; a < kActions; ++a) {
          impact_low[p][a] = std::min(impact_low[p][a], imp[p][a]);
          impact_high[p][a] = std::max(impact_high[p][a], imp[p][a]);
        }
    }
  return rows;
}

}  // namespace reinforcer::evaluation
