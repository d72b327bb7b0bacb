// Cross-validation tasks: fit on the other folds, train, score the held-out customers.
#include <algorithm>
#include <cmath>
#include <map>

#include "evaluation_internal.hpp"
#include "reinforcer/errors.hpp"
#include "reinforcer/eval/bootstrap.hpp"
#include "reinforcer/parallel/rng.hpp"

namespace reinforcer::evaluation {
namespace {

HazardOptions hazard_options(const EvaluationSettings& s) {
  HazardOptions h = s.hazards;
  h.horizon_weeks = s.funnel.horizon_weeks;
  return h;
}

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

FoldModel fit_fold(const CustomerTable& table, const std::vector<std::size_t>& fitting, const EvaluationSettings& s) {
  SegmentEncoder encoder(table, fitting, s.features);
  HazardEstimates h = estimate_hazards(table, fitting, encoder, hazard_options(s));
  FunnelModel model = FunnelModel::from_estimates(encoder, h, s.funnel, /*all_nodes=*/true);
  DpSolution dp = solve_funnel(model, s.q.gamma);
  return FoldModel{std::move(encoder), std::move(h), std::move(model), std::move(dp)};
}

std::vector<HeldOutPrediction> run_fold(const CustomerTable& table, const FoldPlan& plan, const EvaluationSettings& s,
                                        int fold) {
  const HazardOptions hopt = hazard_options(s);
  const FoldModel fm = fit_fold(table, plan.fitting, s);
  const FunnelModel& m = fm.model;
  // Q-learning on the fold's model, from the fitting customers' start states.
  std::vector<StartState> starts;
  for (std::size_t i : plan.fitting) {
    const Customer& c = table.customers[i];
    const std::int32_t node = fm.encoder.node_of(c, table);
    starts.push_back(StartState{m.segment_of_node(node), history_of(c, node, hopt).start});
  }
  const FunnelEnvironment env(m, starts);
  FunnelShard shard;
  TrainSchedule sched;
  sched.episodes_per_worker = s.episodes;
  sched.sync_every = s.episodes;
  sched.q = s.q;
  sched.seed = splitmix64(s.seed ^ (0xF0D0ULL + static_cast<std::uint64_t>(fold)));
  for (std::size_t i = 0; i < starts.size(); ++i) {
    shard.own.push_back(static_cast<std::uint32_t>(i));
    if (table.customers[plan.fitting[i]].subscribed) shard.subscribers.push_back(static_cast<std::uint32_t>(i));
  }
  shard.subscriber_threshold = FunnelShard::threshold_of(s.oversample);
  TrainState st;
  train_distributed(local_communicator(), env, std::vector<FunnelShard>{shard}, sched, st, TrainHooks{});
  const std::vector<std::uint8_t> learned = learned_policy(st.q, st.visits, kQStride);
  // The learned ranking: each customer's chance of subscribing within the horizon under the
  // learned policy, from the decision-time state (costs do not enter whom to contact first).
  const OutcomeTables learned_outcomes = evaluate_outcomes(m, s.q.gamma, deterministic_policy(m, learned));
  const OutcomeTables optimal = evaluate_outcomes(m, s.q.gamma, deterministic_policy(m, fm.dp.policy));
  const FunnelModel hist = m.with_config(historical(s.funnel));
  const SegmentRateScorer segment_rate(table, plan.fitting, fm.encoder, s.segment_prior);
  std::array<double, 2> cohort_rate{}, cohort_n{};
  for (std::size_t i : plan.fitting) {
    const Customer& c = table.customers[i];
    cohort_n[static_cast<std::size_t>(c.cohort)] += 1;
    cohort_rate[static_cast<std::size_t>(c.cohort)] += c.subscribed;
  }
  for (std::size_t k = 0; k < 2; ++k) cohort_rate[k] = cohort_n[k] > 0 ? cohort_rate[k] / cohort_n[k] : 0.0;
  std::map<std::pair<std::int32_t, Progress>, std::vector<double>> forward;  // calibration cache
  std::vector<HeldOutPrediction> out;
  for (std::size_t i : plan.held_out) {
    const Customer& c = table.customers[i];
    const std::int32_t node = fm.encoder.node_of(c, table);
    const std::int32_t seg = m.segment_of_node(node);
    const CustomerHistory h = history_of(c, node, hopt);  // outcomes: calibration only
    const Progress start = decision_progress(c);          // no outcome enters the scores
    const std::uint32_t st0 = m.state_index(seg, start, 0);
    HeldOutPrediction p;
    p.customer = i;
    p.score = ScoreRow{c.id, fold, std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]),
                       static_cast<std::int8_t>(c.subscribed), learned_outcomes.subscribe[st0], segment_rate.score(node, start),
                       cohort_rate[static_cast<std::size_t>(c.cohort)],
                       RandomStream(s.seed, static_cast<std::uint64_t>(c.id)).uniform()};
    p.p_subscribe = optimal.subscribe[st0];
    p.expected_value = fm.dp.value[st0];
    p.next_action = fm.dp.policy[st0];  // the recommendation is the exact DP policy of the fold's model
    // Calibration: the historical process's chance of each event the customer was at risk of
    // after t0, within the customer's own follow-up (to the export date, at most the
    // horizon), against what happened.
    auto it = forward.find({seg, h.start});
    if (it == forward.end())
      it = forward.emplace(std::make_pair(seg, h.start), cumulative_event_probabilities(hist, seg, h.start, always(Action::wait))).first;
    const double follow = std::min<double>(s.funnel.horizon_weeks, (hopt.export_date + 1 - c.t0) / 7.0);
    const int last_week = std::clamp(static_cast<int>(std::ceil(follow)) - 1, 0, s.funnel.horizon_weeks - 1);
    p.at_risk = calibration_at_risk(c, h, hopt);
    for (std::size_t e = 0; e < kEvents; ++e) {
      if (!p.at_risk[e]) continue;
      p.predicted[e] = it->second[static_cast<std::size_t>(last_week) * kEvents + e];
      const std::int32_t week = e < kStepMilestones ? h.step_week[e] : h.subscribed_week;
      p.observed[e] = week >= 0 && week <= last_week;
    }
    out.push_back(p);
  }
  return out;
}

std::vector<double> run_fold_bootstrap(const CustomerTable& table, const FoldPlan& plan, const EvaluationSettings& s,
                                       int fold, std::uint64_t replicate) {
  const HazardOptions hopt = hazard_options(s);
  // The encoder (the state space) stays the fold's; the hazards are re-estimated on a
  // resample of the fitting customers, cohort sizes kept.
  const SegmentEncoder encoder(table, plan.fitting, s.features);
  std::vector<std::uint8_t> cohort(plan.fitting.size());
  for (std::size_t k = 0; k < plan.fitting.size(); ++k)
    cohort[k] = static_cast<std::uint8_t>(table.customers[plan.fitting[k]].cohort);
  std::vector<std::size_t> resample;
  for (std::uint32_t k : bootstrap_sample_stratified(cohort, splitmix64(s.seed ^ (0xB007ULL + static_cast<std::uint64_t>(fold))), replicate))
    resample.push_back(plan.fitting[k]);
  const HazardEstimates h = estimate_hazards(table, resample, encoder, hopt);
  const FunnelModel m = FunnelModel::from_estimates(encoder, h, s.funnel, true);
  const DpSolution dp = solve_funnel(m, s.q.gamma);
  const OutcomeTables optimal = evaluate_outcomes(m, s.q.gamma, deterministic_policy(m, dp.policy));
  std::vector<double> p;
  for (std::size_t i : plan.held_out) {
    const Customer& c = table.customers[i];
    const std::int32_t node = encoder.node_of(c, table);
    p.push_back(optimal.subscribe[m.state_index(m.segment_of_node(node), decision_progress(c), 0)]);
  }
  return p;
}

}  // namespace reinforcer::evaluation
