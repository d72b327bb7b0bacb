// Policies compared in the fitted funnel, and how conclusions move with the assumptions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "evaluation_internal.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer::evaluation {
namespace {

// Share of the weeks spent on each action, whatever the progress.
std::array<double, kActions> action_shares(const ActionTable& mix) {
  std::array<double, kActions> share{};
  for (const auto& row : mix)
    for (std::size_t a = 0; a < kActions; ++a) share[a] += row[a];
  return share;
}

// The historical process's config: the status quo, no known cost.
FunnelConfig historical_config(const FunnelConfig& config) {
  FunnelConfig c = status_quo(config);
  c.costs.cost.fill(0.0);
  return c;
}

}  // namespace

RefitPlan plan_refits(const CustomerTable& table, const std::vector<std::size_t>& fitting, const SegmentEncoder& encoder,
                      const EvaluationSettings& s, std::vector<std::uint8_t> learned) {
  RefitPlan plan;
  std::vector<std::int32_t> node_segment(encoder.nodes().size(), -1);
  for (std::size_t n = 0; n < encoder.nodes().size(); ++n)
    if (encoder.nodes()[n].leaf) {  // as FunnelModel::from_estimates numbers its segments
      node_segment[n] = static_cast<std::int32_t>(plan.leaves.size());
      plan.leaves.push_back(static_cast<std::int32_t>(n));
    }
  plan.starts.reserve(fitting.size());
  plan.cohort.reserve(fitting.size());
  std::unordered_map<std::uint64_t, std::int32_t> memo;  // node_of hashes per feature: once per combination
  const bool attributes = std::any_of(encoder.mask().order.begin(), encoder.mask().order.end(), is_attribute);
  for (std::size_t i : fitting) {
    const Customer& c = table.customers[i];
    if (attributes) {  // the memo's key holds the built-in features only
      const std::int32_t node = encoder.node_of(c, table);
      plan.starts.push_back(StartState{node_segment[static_cast<std::size_t>(node)], history_of(c, node, s.hazards).start});
      plan.cohort.push_back(static_cast<std::uint8_t>(c.cohort));
      continue;
    }
    const std::uint64_t month = c.t0 == kNoDay ? 0 : static_cast<std::uint64_t>(civil_from_days(c.t0).month);
    const std::uint64_t key = ((static_cast<std::uint64_t>(c.cohort) << 40 | static_cast<std::uint32_t>(c.country)) << 12 |
                               static_cast<std::uint64_t>(c.education) << 4) | month;
    auto it = memo.find(key);
    if (it == memo.end()) it = memo.emplace(key, encoder.node_of(c, table)).first;
    const std::int32_t node = it->second;
    plan.starts.push_back(StartState{node_segment[static_cast<std::size_t>(node)], history_of(c, node, s.hazards).start});
    plan.cohort.push_back(static_cast<std::uint8_t>(c.cohort));
  }
  plan.learned = std::move(learned);
  return plan;
}

void RefitWorkspace::clear() {
  // Sizes are kept (capacity is the point); values are reset by their users.
  picks.clear(), multiplicity.clear();
}

ModelReplicate run_model_replicate(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                   const SegmentEncoder& encoder, const RefitPlan& plan, const EvaluationSettings& s,
                                   std::int64_t replicate, const std::vector<LeadKey>& leads, RefitWorkspace& ws) {
  ws.clear();
  if (replicate >= 0) {
    ws.picks = bootstrap_sample_stratified(plan.cohort, splitmix64(s.seed ^ 0xA11DA7AULL), static_cast<std::uint64_t>(replicate));
    ws.multiplicity.assign(fitting.size(), 0);
    for (std::uint32_t k : ws.picks) ++ws.multiplicity[k];
  }
  // Counting each drawn customer as often as it was drawn gives the hazards of the
  // materialised resample, to the bit (whole-number sums).
  const HazardEstimates h = estimate_hazards(table, fitting, ws.multiplicity, encoder, s.hazards);
  return replicate_from_hazards(h, plan, s, s.funnel, replicate >= 0 ? &ws.picks : nullptr, leads, ws);
}

ModelReplicate replicate_from_hazards(const HazardEstimates& h, const RefitPlan& plan, const EvaluationSettings& s,
                                      const FunnelConfig& config, const std::vector<std::uint32_t>* picks,
                                      const std::vector<LeadKey>& leads, RefitWorkspace& ws) {
  const std::size_t segments = plan.leaves.size(), H = static_cast<std::size_t>(config.horizon_weeks);
  const bool all_policies = plan.compare_learned;
  if (all_policies && plan.learned.size() != segments * H * kProgressStates)
    throw InputError("the run's Q-table has " + std::to_string(plan.learned.size()) + " states, the refitted funnel " +
                     std::to_string(segments * H * kProgressStates) + ": the run file does not match its own settings");
  // The resample's start states, in draw order (the order the means add them in).
  const std::size_t n = picks ? picks->size() : plan.starts.size();
  auto start_at = [&](std::size_t i) -> const StartState& { return plan.starts[picks ? (*picks)[i] : i]; };
  // Per (segment, progress): the start weight of the action mix (1/n per start, added in
  // draw order as the mix's map adds it), and customers per segment (the impact's weights).
  // Each draw's (segment, progress) cell, kept in draw order: the means below read it in one
  // sequential pass instead of gathering the starts again per policy.
  ws.mix_weight.assign(segments * kProgressStates, 0.0);
  ws.segment_weight.assign(segments, 0.0);
  ws.start_cell.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const StartState& st = start_at(i);
    const auto cell = static_cast<std::uint32_t>(static_cast<std::size_t>(st.segment) * kProgressStates + st.progress);
    ws.start_cell[i] = cell;
    ws.mix_weight[cell] += 1.0 / static_cast<double>(n);
    ws.segment_weight[static_cast<std::size_t>(st.segment)] += 1;
  }
  constexpr std::size_t kRules = 7;  // kPolicies: 6 rules and the historical process
  ws.start_outcome.assign(kRules * segments * kProgressStates, PolicyOutcome{});
  ws.week0_subscribe.assign(segments * kProgressStates * kActions, 0.0);
  const bool wait_costs = config.costs.cost[static_cast<std::size_t>(Action::wait)] != 0;
  const FunnelConfig hist = historical_config(config);
  ModelReplicate r;
  ActionTable occupancy{};
  // The call list's leads, each scored in its node's segment alone with the list's horizon: a
  // lead at a leaf in that leaf's model once its segment is done (the rows of the longer
  // horizon are built with it), a lead at an inner node in a model of its own.
  if (!std::is_sorted(leads.begin(), leads.end(), [](const LeadKey& a, const LeadKey& b) { return a.node < b.node; }))
    throw std::logic_error("replicate_from_hazards: the leads are not in node order");
  r.lead_p_subscribe.assign(leads.size(), 0.0);
  r.lead_gain.assign(leads.size(), 0.0);
  FunnelConfig listed = config;
  listed.horizon_weeks = kCallListHorizon;
  std::size_t next_lead = 0;
  auto score_leads_at_node = [&](const FunnelModel& model) {  // the leads from next_lead at its node
    LeadScorer scorer(model, s.q.gamma);
    const std::int32_t node = leads[next_lead].node;
    for (; next_lead < leads.size() && leads[next_lead].node == node; ++next_lead) {
      const LeadKey& k = leads[next_lead];
      r.lead_p_subscribe[next_lead] = scorer.p_subscribe(0, k.progress, k.week);
      r.lead_gain[next_lead] = k.act ? scorer.score(0, k.progress, k.week).gain : 0.0;
    }
  };
  auto score_leads_before = [&](std::int64_t node) {  // the leads at nodes before `node`: inner nodes
    while (next_lead < leads.size() && leads[next_lead].node < node) {
      ws.lead_model.assign_segment(h, static_cast<std::size_t>(leads[next_lead].node), listed);
      score_leads_at_node(ws.lead_model);
    }
  };
  // Segments are independent: each is built, solved and evaluated in one reused one-segment
  // model, so no table of the whole state space exists.
  // The fixed rules (always wait, always message, textbook) as one action per (week, progress).
  std::array<std::vector<std::uint8_t>, 3> fixed_rules;
  {
    const std::array<PolicyRule, 3> rules = {always(Action::wait), always(Action::message), textbook_policy()};
    std::array<double, kActions> probs{};
    for (std::size_t k = 0; k < rules.size(); ++k)
      for (std::size_t w = 0; w < H; ++w)
        for (std::size_t p = 0; p < kProgressStates; ++p) {
          rules[k](0, static_cast<Progress>(p), static_cast<int>(w), probs);
          fixed_rules[k].push_back(static_cast<std::uint8_t>(std::max_element(probs.begin(), probs.end()) - probs.begin()));
        }
  }
  for (std::size_t sg = 0; sg < segments; ++sg) {
    const auto node = static_cast<std::size_t>(plan.leaves[sg]);
    FunnelModel& m = ws.model;
    m.assign_segment(h, node, config, true, leads.empty() ? 0 : kCallListHorizon);
    solve_funnel_values(m, s.q.gamma, ws.dp);
    const std::uint8_t* learned = all_policies ? plan.learned.data() + sg * H * kProgressStates : nullptr;
    const std::uint8_t* optimal = ws.dp.policy.data();
    // kPolicies 0-5 as one action per state of this segment (random: all alike).
    auto actions = [&](std::size_t k) -> const std::uint8_t* {
      switch (k) {
        case 0: return learned;
        case 1: return optimal;
        case 3: return fixed_rules[0].data();
        case 4: return fixed_rules[1].data();
        default: return fixed_rules[2].data();
      }
    };
    auto keep_starts = [&](std::size_t k, const SegmentOutcomes& o) {
      std::copy(o.week0.begin(), o.week0.end(), ws.start_outcome.begin() + static_cast<std::ptrdiff_t>((k * segments + sg) * kProgressStates));
    };
    for (std::size_t k = all_policies ? 0 : 1; k < (all_policies ? 6 : 2); ++k) {
      SegmentOutcomes& o = k == 1 ? ws.optimal : ws.outcomes;
      if (k == 2)
        evaluate_random_segment_outcomes(m, s.q.gamma, 0, o);  // one mean row per week rather than seven actions
      else
        evaluate_segment_outcomes(m, s.q.gamma, 0, actions(k), o);
      keep_starts(k, o);
    }
    if (all_policies && wait_costs) {  // else the historical process is always-wait itself
      ws.historical.assign_segment(h, node, hist);
      evaluate_segment_outcomes(ws.historical, s.q.gamma, 0, fixed_rules[0].data(), ws.outcomes);
      keep_starts(6, ws.outcomes);
    }
    // Action impact: P(subscribe) after acting a in week 0 at progress p, then optimally.
    if (ws.segment_weight[sg] != 0)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (std::size_t a = 0; a < kActions; ++a) {
          const WeekOutcome wk = m.week(0, static_cast<Progress>(p), 0, static_cast<Action>(a));
          double v = wk.subscribe;
          if (m.horizon() > 1)
            for (const Transition* t = wk.first; t != wk.last; ++t) v += t->probability * ws.optimal.week1[t->next].subscribe;
          ws.week0_subscribe[(sg * kProgressStates + p) * kActions + a] = v;
        }
    // The optimal policy's expected weeks per (progress, action), from this segment's starts
    // (in (segment, progress) order, as the map of optimal_action_mix visits them).
    for (std::size_t p0 = 0; p0 < kProgressStates; ++p0) {
      const double w0 = ws.mix_weight[sg * kProgressStates + p0];
      if (w0 == 0) continue;
      std::array<double, kProgressStates> dist{};
      dist[p0] = w0;
      for (int w = 0; w < m.horizon(); ++w) {
        std::array<double, kProgressStates> next{};
        for (std::size_t p = 0; p < kProgressStates; ++p) {
          if (dist[p] == 0) continue;
          const std::uint8_t a = ws.dp.policy[m.state_index(0, static_cast<Progress>(p), w)];
          occupancy[p][a] += dist[p];
          const WeekOutcome wk = m.week(0, static_cast<Progress>(p), w, static_cast<Action>(a));
          for (const Transition* t = wk.first; t != wk.last; ++t) next[t->next] += dist[p] * t->probability;
        }
        dist = next;
      }
    }
    score_leads_before(plan.leaves[sg]);
    if (next_lead < leads.size() && leads[next_lead].node == plan.leaves[sg]) {
      m.set_horizon(kCallListHorizon);  // the last use of this segment's model
      score_leads_at_node(m);
    }
  }
  score_leads_before(std::numeric_limits<std::int64_t>::max());
  // Means over the starts, in draw order (as mean_outcome adds them), every policy in one pass
  // over the draws: each policy's sums get the same terms in the same order.
  const std::size_t first = all_policies ? 0 : 1, count = all_policies ? (wait_costs ? 7 : 6) : 1;
  std::array<PolicyOutcome, kRules> sum{};
  const std::size_t stride = segments * kProgressStates;
  for (std::size_t i = 0; i < n; ++i) {
    const PolicyOutcome* x = ws.start_outcome.data() + first * stride + ws.start_cell[i];
    for (std::size_t k = 0; k < count; ++k, x += stride) {
      PolicyOutcome& o = sum[k];
      o.reward += x->reward, o.subscribe += x->subscribe, o.first_call += x->first_call, o.cost += x->cost;
    }
  }
  auto record = [&](std::size_t k, std::size_t from, bool costs_known) {
    PolicyOutcome o = sum[from - first];
    if (n > 0) {
      const double nn = static_cast<double>(n);
      o.reward /= nn, o.subscribe /= nn, o.first_call /= nn, o.cost /= nn;
    }
    r.policy[k] = {1000 * o.subscribe, 1000 * o.first_call, o.reward,
                   costs_known && o.subscribe > 0 ? o.cost / o.subscribe : std::numeric_limits<double>::quiet_NaN()};
  };
  if (all_policies) {
    for (std::size_t k = 0; k < 6; ++k) record(k, k, true);
    record(6, wait_costs ? 6 : 3, false);
  } else {
    record(1, 1, true);
  }
  // Impact, averaged over customers (progress outer, segment inner, as before).
  const double total = static_cast<double>(n);
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t sg = 0; sg < segments; ++sg) {
      if (ws.segment_weight[sg] == 0) continue;
      const double* sub = &ws.week0_subscribe[(sg * kProgressStates + p) * kActions];
      for (std::size_t a = 0; a < kActions; ++a)
        r.impact[p][a] += ws.segment_weight[sg] / total * (sub[a] - sub[static_cast<std::size_t>(Action::wait)]);
    }
  double occupied = 0;
  for (const auto& row : occupancy)
    for (double x : row) occupied += x;
  for (auto& row : occupancy)
    for (double& x : row) x = occupied > 0 ? x / occupied : 0.0;
  r.action_mix = occupancy;
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
                                            const SegmentEncoder& encoder, const RefitPlan& plan, const EvaluationSettings& s,
                                            ActionTable& impact_low, ActionTable& impact_high, RefitWorkspace& ws) {
  std::vector<SensitivityRow> rows;
  for (auto& row : impact_low) row.fill(std::numeric_limits<double>::infinity());
  for (auto& row : impact_high) row.fill(-std::numeric_limits<double>::infinity());
  // The hazards do not depend on the assumptions: one estimate serves the grid.
  const HazardEstimates h = estimate_hazards(table, fitting, encoder, s.hazards);
  RefitPlan optimal_only;  // the plan without the learned policy: the optimum alone is evaluated
  optimal_only.leaves = plan.leaves;
  optimal_only.starts = plan.starts;
  optimal_only.compare_learned = false;
  for (double success : s.grid_success)
    for (double reward : s.grid_reward) {
      FunnelConfig c = s.funnel;
      for (double& x : c.success.probability) x = std::min(1.0, x * success);
      c.subscription_reward *= reward;
      const ModelReplicate f = replicate_from_hazards(h, optimal_only, s, c, nullptr, {}, ws);
      // policy[1] = {1000 P(subscribe), 1000 P(first call), reward, cost per acquisition}
      rows.push_back(SensitivityRow{success, reward, f.policy[1][2], f.policy[1][0], action_shares(f.action_mix)});
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (std::size_t a = 0; a < kActions; ++a) {
          impact_low[p][a] = std::min(impact_low[p][a], f.impact[p][a]);
          impact_high[p][a] = std::max(impact_high[p][a], f.impact[p][a]);
        }
    }
  return rows;
}

}  // namespace reinforcer::evaluation
