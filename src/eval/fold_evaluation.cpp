// Cross-validation tasks: fit on the other folds, train, score the held-out customers.
#include <algorithm>
#include <cmath>
#include <map>

#include "evaluation_internal.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer::evaluation {
namespace {

// The historical process: the fitted hazards (the status quo) and no known cost.
FunnelConfig historical(FunnelConfig c) {
  c = status_quo(c);
  c.costs.cost.fill(0.0);
  return c;
}

// Subscription rate per (segment node, start progress) among fitting customers, each node
// shrunk toward its parent with a Beta prior worth `prior` customers: the targeting baseline
// that sees the same information as the learned ranking.
class SegmentRateScorer {
 public:
  SegmentRateScorer(const CustomerTable& t, const std::vector<std::size_t>& fitting, const SegmentEncoder& enc,
                    double prior)
      : nodes_(enc.nodes().size()), rate_(nodes_ * kProgressStates, 0.0) {
    std::vector<double> n(nodes_ * kProgressStates, 0.0), k(n.size(), 0.0);
    double all_n = 0, all_k = 0;
    for (std::size_t i : fitting) {
      const Customer& c = t.customers[i];
      const std::int32_t node = enc.node_of(c, t);
      const Progress p = decision_progress(c);  // keyed as the held-out customers are
      for (std::int32_t x = node; x >= 0; x = enc.nodes()[static_cast<std::size_t>(x)].parent) {
        n[static_cast<std::size_t>(x) * kProgressStates + p] += 1;
        k[static_cast<std::size_t>(x) * kProgressStates + p] += c.subscribed;
      }
      all_n += 1, all_k += c.subscribed;
    }
    const double pooled = all_n > 0 ? all_k / all_n : 0.0;
    // Nodes are numbered parents first, so one forward pass shrinks top-down.
    for (std::size_t x = 0; x < nodes_; ++x)
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        const std::int32_t parent = enc.nodes()[x].parent;
        const double mean = parent < 0 ? pooled : rate_[static_cast<std::size_t>(parent) * kProgressStates + p];
        const std::size_t i = x * kProgressStates + p;
        rate_[i] = (k[i] + prior * mean) / (n[i] + prior);
      }
  }
  double score(std::int32_t node, Progress p) const { return rate_[static_cast<std::size_t>(node) * kProgressStates + p]; }

 private:
  std::size_t nodes_;
  std::vector<double> rate_;
};

// The events a held-out customer was at risk of after t0, the only ones calibration counts:
// not a milestone already held at t0 (it cannot happen again); nothing for a customer whose
// dated subscription is on or before t0 (no prospect at decision time); demo and survey only
// when t0 is on or after the date they began to be recorded (before it their absence is
// unknown, not "not reached").
std::array<std::uint8_t, kEvents> calibration_at_risk(const Customer& c, const CustomerHistory& h, const HazardOptions& o) {
  std::array<std::uint8_t, kEvents> at_risk{};
  const Day subscribed = c.milestone[static_cast<std::size_t>(Milestone::subscribed)];
  if (subscribed != kNoDay && subscribed <= c.t0) return at_risk;
  const bool demo_survey_recorded = c.t0 >= o.demo_survey_recorded_from;
  for (std::size_t e = 0; e < kStepMilestones; ++e) {
    const auto m = static_cast<Milestone>(e);
    const bool unrecorded = (m == Milestone::demo || m == Milestone::survey) && !demo_survey_recorded;
    at_risk[e] = !(h.start >> e & 1u) && !unrecorded;
  }
  at_risk[kSubscriptionEvent] = 1;
  return at_risk;
}

}  // namespace

int follow_up_last_week(const Customer& c, const HazardOptions& o, int horizon) {
  const double follow = std::min<double>(horizon, (o.export_date + 1 - c.t0) / 7.0);
  return std::clamp(static_cast<int>(std::ceil(follow)) - 1, 0, horizon - 1);
}

std::vector<FoldPlan> plan_folds(const CustomerTable& table, const std::string& split) {
  std::vector<FoldPlan> plans;
  if (split == "cv") {
    int folds = 0;
    for (const Customer& c : table.customers) folds = std::max(folds, c.fold + 1);
    plans.resize(static_cast<std::size_t>(folds));
    for (std::size_t i = 0; i < table.customers.size(); ++i) {
      const Customer& c = table.customers[i];
      if (c.cohort == Cohort::undated || c.fold < 0) continue;
      for (int f = 0; f < folds; ++f) {
        if (c.fold != f) plans[static_cast<std::size_t>(f)].fitting.push_back(i);
        else if (!subscribed_by_t0(c)) plans[static_cast<std::size_t>(f)].held_out.push_back(i);  // no prospect: not targeted
      }
    }
    return plans;
  }
  if (split != "val" && split != "test") throw UsageError("--split: '" + split + "' is not cv, val or test");
  FoldPlan p;
  const Split held = split == "val" ? Split::val : Split::test;
  for (std::size_t i = 0; i < table.customers.size(); ++i) {
    const Customer& c = table.customers[i];
    if (c.cohort == Cohort::undated) continue;
    if (c.split == held) {
      if (!subscribed_by_t0(c)) p.held_out.push_back(i);  // no prospect: not targeted
    } else if (c.split == Split::train || (held == Split::test && c.split == Split::val)) {
      p.fitting.push_back(i);
    }
  }
  plans.push_back(std::move(p));
  return plans;
}

std::vector<HeldOutPrediction> run_fold(const CustomerTable& table, const FoldPlan& plan, const EvaluationSettings& s,
                                        int fold) {
  const HazardOptions& hopt = s.hazards;
  const SegmentEncoder encoder(table, plan.fitting, s.features);
  const HazardEstimates hazards = estimate_hazards(table, plan.fitting, encoder, hopt);
  const SegmentRateScorer segment_rate(table, plan.fitting, encoder, s.segment_prior);
  std::array<double, 2> cohort_rate{}, cohort_n{};
  for (std::size_t i : plan.fitting) {
    const Customer& c = table.customers[i];
    cohort_n[static_cast<std::size_t>(c.cohort)] += 1;
    cohort_rate[static_cast<std::size_t>(c.cohort)] += c.subscribed;
  }
  for (std::size_t k = 0; k < 2; ++k) cohort_rate[k] = cohort_n[k] > 0 ? cohort_rate[k] / cohort_n[k] : 0.0;
  // The held-out customers node by node: each is scored in its node's segment of the funnel
  // (every node of the tree is one, so a customer whose feature combination the fitting
  // customers lack is scored at its deepest known ancestor), built once per node.
  std::vector<std::int32_t> node(plan.held_out.size());
  std::vector<std::uint32_t> by_node(plan.held_out.size());
  for (std::size_t k = 0; k < plan.held_out.size(); ++k)
    node[k] = encoder.node_of(table.customers[plan.held_out[k]], table), by_node[k] = static_cast<std::uint32_t>(k);
  std::stable_sort(by_node.begin(), by_node.end(), [&](std::uint32_t a, std::uint32_t b) { return node[a] < node[b]; });
  const FunnelConfig historical_process = historical(s.funnel);
  FunnelModel m(0, {}, FunnelConfig{}), hist(0, {}, FunnelConfig{});
  std::vector<HeldOutPrediction> out(plan.held_out.size());
  for (std::size_t k = 0; k < by_node.size();) {
    const std::int32_t n = node[by_node[k]];
    m.assign_segment(hazards, static_cast<std::size_t>(n), s.funnel);
    hist.assign_segment(hazards, static_cast<std::size_t>(n), historical_process);
    // The targeting score: P(subscribe within the horizon) under the status quo (the fitted
    // historical process, "wait" every week), exact, from the decision-time state; and the
    // call list's ranking at that state (costs and assumed success enter only the latter).
    const auto status_quo = status_quo_subscription(m, 0, 0, m.horizon());
    LeadScorer call_list(m, s.q.gamma, std::min(kCallListWeeks, m.horizon()));
    std::map<Progress, std::vector<double>> forward;  // calibration, per start progress
    for (; k < by_node.size() && node[by_node[k]] == n; ++k) {
      const std::size_t i = plan.held_out[by_node[k]];
      const Customer& c = table.customers[i];
      const CustomerHistory h = history_of(c, n, hopt);  // outcomes: calibration only
      const Progress start = decision_progress(c);      // no outcome enters the scores
      const LeadScore listed = call_list.score(0, start, 0);
      HeldOutPrediction& p = out[by_node[k]];
      p.customer = i;
      p.score = ScoreRow{c.id, fold, std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]),
                         static_cast<std::int8_t>(c.subscribed), status_quo[start],
                         listed.next_action != static_cast<std::uint8_t>(Action::wait) ? 1 + listed.gain : listed.p_subscribe,
                         segment_rate.score(n, start), cohort_rate[static_cast<std::size_t>(c.cohort)],
                         RandomStream(s.seed, static_cast<std::uint64_t>(c.id)).uniform()};
      // Calibration: the historical process's chance of each event the customer was at risk
      // of after t0, within the customer's own follow-up (to the export date, at most the
      // horizon), against what happened.
      auto it = forward.find(h.start);
      if (it == forward.end())
        it = forward.emplace(h.start, cumulative_event_probabilities(hist, 0, h.start, always(Action::wait))).first;
      const int last_week = follow_up_last_week(c, hopt, s.funnel.horizon_weeks);
      p.at_risk = calibration_at_risk(c, h, hopt);
      for (std::size_t e = 0; e < kEvents; ++e) {
        if (!p.at_risk[e]) continue;
        p.predicted[e] = it->second[static_cast<std::size_t>(last_week) * kEvents + e];
        const std::int32_t week = e < kStepMilestones ? h.step_week[e] : h.subscribed_week;
        p.observed[e] = week >= 0 && week <= last_week;
      }
    }
  }
  return out;
}

}  // namespace reinforcer::evaluation
