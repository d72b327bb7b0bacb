// The evaluation as independent tasks (folds, fold refits, model refits, sensitivity),
// spread over ranks and threads; rank 0 assembles the tables.
#include "reinforcer/eval/evaluation.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "evaluation_internal.hpp"
#include "reinforcer/errors.hpp"
#include "reinforcer/eval/bootstrap.hpp"
#include "reinforcer/eval/proportion.hpp"
#include "reinforcer/eval/ranking_metrics.hpp"
#include "reinforcer/parallel/rng.hpp"

namespace reinforcer {
using namespace evaluation;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kFoldFields = 8 + 3 * kEvents;  // per held-out customer, see fold_payload
constexpr std::size_t kAtRiskAt = 8, kPredictedAt = kAtRiskAt + kEvents, kObservedAt = kPredictedAt + kEvents;

enum class TaskKind { fold, fold_bootstrap, model, sensitivity };
struct Task {
  TaskKind kind;
  int fold = 0;
  std::int64_t replicate = -1;
};

std::vector<double> fold_payload(const std::vector<HeldOutPrediction>& preds) {
  std::vector<double> v;
  for (const auto& p : preds) {
    v.insert(v.end(), {static_cast<double>(p.customer), p.score.learned, p.score.segment_rate, p.score.cohort_rate,
                       p.score.random, p.p_subscribe, p.expected_value, static_cast<double>(p.next_action)});
    for (auto x : p.at_risk) v.push_back(x);
    for (double x : p.predicted) v.push_back(x);
    for (auto x : p.observed) v.push_back(x);
  }
  return v;
}

// Calibration sums of one cohort group: per event, customers at risk, expected and observed events.
struct CalibrationSums {
  std::int64_t customers = 0;  // held out, at risk or not
  std::array<std::int64_t, kEvents> at_risk{}, observed{};
  std::array<double, kEvents> expected{};
  void add(const double* fields) {
    ++customers;
    for (std::size_t e = 0; e < kEvents; ++e) {
      at_risk[e] += fields[kAtRiskAt + e] != 0;
      expected[e] += fields[kPredictedAt + e];
      observed[e] += fields[kObservedAt + e] != 0;
    }
  }
};

// O/E per event with its exact Poisson interval, for every group with held-out customers.
std::vector<CalibrationRow> calibration_rows(const std::array<CalibrationSums, 3>& groups) {
  const std::array<std::string, 3> names = {"all", "outbound", "inbound"};
  std::vector<CalibrationRow> rows;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const CalibrationSums& c = groups[g];
    if (c.customers == 0) continue;
    for (std::size_t e = 0; e < kEvents; ++e) {
      const double expected = c.expected[e];
      const std::int64_t observed = c.observed[e];
      const Interval ci = poisson_ratio_interval(observed, expected);
      const double o_e = expected > 0 ? static_cast<double>(observed) / expected : kNaN;
      rows.push_back(CalibrationRow{names[g], std::string(kMilestoneKeys[e]), c.at_risk[e], expected, observed, o_e,
                                    ci.low, ci.high, calibration_verdict(expected, ci)});
    }
  }
  return rows;
}

// A model replicate's payload: the 7 x 4 policy metrics, then the impact table, then the
// action mix (each kProgressStates x kActions, row-major).
constexpr std::size_t kImpactAt = 7 * 4;
constexpr std::size_t kMixAt = kImpactAt + kProgressStates * kActions;
std::vector<double> model_payload(const ModelReplicate& r) {
  std::vector<double> v;
  for (const auto& row : r.policy) v.insert(v.end(), row.begin(), row.end());
  for (const auto& row : r.impact) v.insert(v.end(), row.begin(), row.end());
  for (const auto& row : r.action_mix) v.insert(v.end(), row.begin(), row.end());
  return v;
}

// Runs this rank's share of the tasks; returns (task index, payload) pairs serialised.
std::string run_tasks(const std::vector<Task>& tasks, const CustomerTable& table, const std::vector<FoldPlan>& plans,
                      const std::vector<std::size_t>& fitting, const SegmentEncoder& encoder, const TrainState& learned,
                      const EvaluationSettings& s, const Communicator& comm) {
  std::vector<std::size_t> mine;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    if (static_cast<int>(i % static_cast<std::size_t>(comm.size())) == comm.rank()) mine.push_back(i);
  std::vector<std::vector<double>> results(mine.size());
  std::string error;
#pragma omp parallel for num_threads(s.threads) schedule(dynamic, 1)
  for (std::size_t k = 0; k < mine.size(); ++k) {
    try {
      const Task& t = tasks[mine[k]];
      switch (t.kind) {
        case TaskKind::fold:
          results[k] = fold_payload(run_fold(table, plans[static_cast<std::size_t>(t.fold)], s, t.fold));
          break;
        case TaskKind::fold_bootstrap:
          results[k] = run_fold_bootstrap(table, plans[static_cast<std::size_t>(t.fold)], s, t.fold,
                                          static_cast<std::uint64_t>(t.replicate));
          break;
        case TaskKind::model:
          results[k] = model_payload(run_model_replicate(table, fitting, encoder, learned, s, t.replicate));
          break;
        case TaskKind::sensitivity: {
          ActionTable lo{}, hi{};
          const auto rows = run_sensitivity(table, fitting, encoder, s, lo, hi);
          auto& v = results[k];
          v.push_back(static_cast<double>(rows.size()));
          for (const auto& r : rows) {
            v.insert(v.end(), {r.success_scale, r.reward_scale, r.reward_per_customer, r.subscriptions_per_1000});
            v.insert(v.end(), r.share.begin(), r.share.end());
          }
          for (const auto& row : lo) v.insert(v.end(), row.begin(), row.end());
          for (const auto& row : hi) v.insert(v.end(), row.begin(), row.end());
          break;
        }
      }
    } catch (const std::exception& e) {
#pragma omp critical
      error = e.what();
    }
  }
  if (!error.empty()) throw InputError(error);
  std::string bytes;
  for (std::size_t k = 0; k < mine.size(); ++k) {
    const double header[2] = {static_cast<double>(mine[k]), static_cast<double>(results[k].size())};
    bytes.append(reinterpret_cast<const char*>(header), sizeof header);
    bytes.append(reinterpret_cast<const char*>(results[k].data()), results[k].size() * sizeof(double));
  }
  return bytes;
}

std::vector<std::vector<double>> collect(const std::vector<std::string>& parts, std::size_t tasks) {
  std::vector<std::vector<double>> out(tasks);
  for (const std::string& b : parts) {
    std::size_t pos = 0;
    while (pos < b.size()) {
      double header[2];
      std::memcpy(header, b.data() + pos, sizeof header);
      pos += sizeof header;
      auto& v = out[static_cast<std::size_t>(header[0])];
      v.resize(static_cast<std::size_t>(header[1]));
      std::memcpy(v.data(), b.data() + pos, v.size() * sizeof(double));
      pos += v.size() * sizeof(double);
    }
  }
  return out;
}

const std::array<const char*, 4> kScorers = {"learned", "segment_rate", "cohort_rate", "random"};
const std::array<double, 4> kTops = {0.05, 0.10, 0.20, 0.30};

double scorer_value(const ScoreRow& r, std::size_t k) {
  return k == 0 ? r.learned : k == 1 ? r.segment_rate : k == 2 ? r.cohort_rate : r.random;
}

// The rows `idx` (repeats allowed) ranked by one scorer.
Ranking ranking_of(const std::vector<ScoreRow>& rows, const std::vector<std::uint32_t>& idx, std::size_t scorer) {
  std::vector<double> score;
  std::vector<std::uint8_t> label;
  for (std::uint32_t i : idx) score.push_back(scorer_value(rows[i], scorer)), label.push_back(static_cast<std::uint8_t>(rows[i].subscribed));
  return Ranking(score, label, "targeting");
}

// AUC, lift@ and captured@ for one scorer on a set of rows.
std::vector<double> targeting_metrics(const std::vector<ScoreRow>& rows, const std::vector<std::uint32_t>& idx,
                                      std::size_t scorer) {
  const Ranking ranking = ranking_of(rows, idx, scorer);  // ranked once for all nine metrics
  std::vector<double> m = {ranking.roc_auc()};
  for (double f : kTops) m.push_back(ranking.top_share(f).lift);
  for (double f : kTops) m.push_back(ranking.top_share(f).captured);
  return m;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> n = {"auc"};
  for (double f : kTops) n.push_back("lift@" + std::to_string(static_cast<int>(std::lround(100 * f))));
  for (double f : kTops) n.push_back("captured@" + std::to_string(static_cast<int>(std::lround(100 * f))));
  return n;
}

void build_targeting(EvaluationResult& r, const EvaluationSettings& s) {
  const auto names = metric_names();
  std::vector<std::uint8_t> stratum;
  for (const auto& row : r.scores) stratum.push_back(row.cohort == "inbound");
  for (const std::string cohort : {"all", "outbound", "inbound"}) {
    std::vector<std::uint32_t> idx;
    for (std::size_t i = 0; i < r.scores.size(); ++i)
      if (cohort == "all" || r.scores[i].cohort == cohort) idx.push_back(static_cast<std::uint32_t>(i));
    if (idx.empty()) continue;
    std::int64_t positives = 0;
    for (auto i : idx) positives += r.scores[i].subscribed;
    std::vector<std::uint8_t> sub_stratum;
    for (auto i : idx) sub_stratum.push_back(stratum[i]);
    for (std::size_t sc = 0; sc < kScorers.size(); ++sc) {
      const auto estimate = targeting_metrics(r.scores, idx, sc);
      // Bootstrap over customers (cohort sizes kept): the scores are fixed, the sample varies.
      std::vector<std::vector<double>> reps(static_cast<std::size_t>(s.bootstrap));
#pragma omp parallel for num_threads(s.threads) schedule(dynamic, 8)
      for (int b = 0; b < s.bootstrap; ++b) {
        std::vector<std::uint32_t> sample;
        for (std::uint32_t k : bootstrap_sample_stratified(sub_stratum, splitmix64(s.seed ^ 0x7A6E7ULL), static_cast<std::uint64_t>(b)))
          sample.push_back(idx[k]);
        reps[static_cast<std::size_t>(b)] = targeting_metrics(r.scores, sample, sc);
      }
      for (std::size_t m = 0; m < names.size(); ++m) {
        std::vector<double> values;
        for (const auto& rep : reps) values.push_back(rep[m]);
        const Interval ci = percentile_interval(values);
        r.targeting.push_back(TargetingRow{kScorers[sc], cohort, names[m], estimate[m], ci.low, ci.high,
                                           static_cast<std::int64_t>(idx.size()), positives});
      }
      if (positives > 0)
        for (const auto& [f, c] : ranking_of(r.scores, idx, sc).lift_curve(20))
          r.lift_curve.push_back(LiftPoint{kScorers[sc], cohort, f, c});
    }
  }
}

}  // namespace

std::string calibration_verdict(double expected, const Interval& o_e) {
  if (!(expected >= kCalibrationMinExpected)) return "few events (E < 10)";
  if (o_e.low > 1.0) return "under-predicts";
  if (o_e.high < 1.0) return "over-predicts";
  return "consistent";
}

std::vector<ScoreRow> score_held_out(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                     const std::vector<std::size_t>& held_out, const EvaluationSettings& settings,
                                     int fold) {
  std::vector<ScoreRow> rows;
  for (const auto& p : run_fold(table, FoldPlan{fitting, held_out}, settings, fold)) rows.push_back(p.score);
  return rows;
}

EvaluationResult evaluate(const CustomerTable& table, const TrainState& learned, const EvaluationSettings& s,
                          const Communicator& comm) {
  const std::vector<FoldPlan> plans = plan_folds(table, s.split);
  std::int64_t subscribers = 0;
  for (const auto& c : table.customers) subscribers += c.subscribed && c.cohort != Cohort::undated;
  if (plans.empty() || plans[0].held_out.empty())
    throw InputError("the run file's customers have no " + std::string(s.split == "cv" ? "folds" : s.split + " split"));
  if (s.split == "cv" && static_cast<std::int64_t>(plans.size()) > subscribers)
    throw UsageError(std::to_string(plans.size()) + " folds but only " + std::to_string(subscribers) +
                     " dated subscribers: every fold needs subscribers; prepare with fewer --folds");
  std::vector<std::size_t> fitting = select_fitting(table, s.fit_on);
  const SegmentEncoder encoder(table, fitting, s.features);
  // Task list: the heavy fold tasks first, then refits.
  std::vector<Task> tasks;
  const int folds = static_cast<int>(plans.size());
  const std::int64_t per_fold = (s.bootstrap + folds - 1) / folds;
  for (int f = 0; f < folds; ++f) tasks.push_back(Task{TaskKind::fold, f, -1});
  tasks.push_back(Task{TaskKind::sensitivity, 0, -1});
  tasks.push_back(Task{TaskKind::model, 0, -1});
  for (std::int64_t b = 0; b < s.bootstrap; ++b) tasks.push_back(Task{TaskKind::model, 0, b});
  for (int f = 0; f < folds; ++f)
    for (std::int64_t b = 0; b < per_fold; ++b) tasks.push_back(Task{TaskKind::fold_bootstrap, f, b});
  const std::string mine = run_tasks(tasks, table, plans, fitting, encoder, learned, s, comm);
  const std::vector<std::string> parts = comm.gather(mine, 0);
  EvaluationResult r;
  r.folds = folds;
  for (const auto& c : table.customers) r.undated_set_aside += c.cohort == Cohort::undated;
  if (!comm.is_root()) return r;
  const auto payload = collect(parts, tasks.size());

  // Out-of-fold predictions.
  struct Pred { double p_subscribe, expected_value; std::uint8_t next_action; std::vector<double> boot; };
  std::vector<Pred> pred(table.customers.size(), Pred{kNaN, kNaN, 0, {}});
  std::array<CalibrationSums, 3> calibration{};  // all, outbound, inbound
  for (int f = 0; f < folds; ++f) {
    const auto& v = payload[static_cast<std::size_t>(f)];
    for (std::size_t off = 0; off + kFoldFields <= v.size(); off += kFoldFields) {
      const auto i = static_cast<std::size_t>(v[off]);
      const Customer& c = table.customers[i];
      r.scores.push_back(ScoreRow{c.id, f, std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]),
                                  static_cast<std::int8_t>(c.subscribed), v[off + 1], v[off + 2], v[off + 3], v[off + 4]});
      pred[i] = Pred{v[off + 5], v[off + 6], static_cast<std::uint8_t>(v[off + 7]), {}};
      for (std::size_t g : {std::size_t{0}, 1 + static_cast<std::size_t>(c.cohort)}) calibration[g].add(&v[off]);
    }
  }
  std::size_t task = static_cast<std::size_t>(folds) + 2 + static_cast<std::size_t>(s.bootstrap);
  for (int f = 0; f < folds; ++f)
    for (std::int64_t b = 0; b < per_fold; ++b, ++task) {
      const auto& v = payload[task];
      const auto& held = plans[static_cast<std::size_t>(f)].held_out;
      for (std::size_t k = 0; k < held.size() && k < v.size(); ++k) pred[held[k]].boot.push_back(v[k]);
    }
  build_targeting(r, s);

  // Calibration of the simulator on the held-out customers.
  r.calibration = calibration_rows(calibration);

  // Policies: the fit on all fitting customers, and B refits on resamples (paired).
  const auto& main = payload[static_cast<std::size_t>(folds) + 1];
  auto refit = [&](std::int64_t b) -> const std::vector<double>& {
    return payload[static_cast<std::size_t>(folds) + 2 + static_cast<std::size_t>(b)];
  };
  // The refits' percentile interval of the value at position `at` of a model payload.
  auto refit_interval = [&](std::size_t at) {
    std::vector<double> reps;
    for (std::int64_t b = 0; b < s.bootstrap; ++b) reps.push_back(refit(b)[at]);
    return percentile_interval(reps);
  };
  auto policy_metric = [](const std::vector<double>& v, std::size_t p, std::size_t m) { return v[p * 4 + m]; };
  for (std::size_t p = 0; p < kPolicies.size(); ++p)
    for (std::size_t m = 0; m < kPolicyMetrics.size(); ++m) {
      std::vector<double> reps, diffs;
      for (std::int64_t b = 0; b < s.bootstrap; ++b) {
        const auto& v = refit(b);
        reps.push_back(policy_metric(v, p, m));
        diffs.push_back(policy_metric(v, 0, m) - policy_metric(v, p, m));
      }
      const Interval ci = percentile_interval(reps);
      r.policies.push_back(PolicyRow{kPolicies[p], kPolicyMetrics[m], policy_metric(main, p, m), ci.low, ci.high,
                                     static_cast<std::int64_t>(fitting.size())});
      if (p == 0) continue;
      const Interval d = percentile_interval(diffs);
      r.policy_differences.push_back(PolicyDifferenceRow{kPolicies[p], kPolicyMetrics[m],
                                                         policy_metric(main, 0, m) - policy_metric(main, p, m), d.low, d.high});
    }

  // Sensitivity, action impact and the optimal action mix.
  const auto& sens = payload[static_cast<std::size_t>(folds)];
  const auto rows = static_cast<std::size_t>(sens[0]);
  std::size_t off = 1;
  for (std::size_t k = 0; k < rows; ++k, off += 4 + kActions) {
    SensitivityRow row{sens[off], sens[off + 1], sens[off + 2], sens[off + 3], {}};
    for (std::size_t a = 0; a < kActions; ++a) row.share[a] = sens[off + 4 + a];
    r.sensitivity.push_back(row);
  }
  const std::size_t lo_off = off, hi_off = off + kProgressStates * kActions;
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t a = 0; a < kActions; ++a) {
      if (a == static_cast<std::size_t>(Action::wait)) continue;
      const std::size_t at = kImpactAt + p * kActions + a;
      const Interval ci = refit_interval(at);
      r.action_impact.push_back(ActionImpactRow{static_cast<std::int32_t>(p), milestones_text(static_cast<Progress>(p)),
                                                std::string(kActionNames[a]), main[at], ci.low, ci.high,
                                                sens[lo_off + p * kActions + a], sens[hi_off + p * kActions + a]});
    }
  // The optimal policy's weeks by (progress, action): the main fit, and the refits' spread.
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t a = 0; a < kActions; ++a) {
      const std::size_t at = kMixAt + p * kActions + a;
      if (!(main[at] > 0)) continue;  // never in this cell under the main fit's optimal policy
      const Interval ci = refit_interval(at);
      r.action_mix.push_back(ActionMixRow{static_cast<std::int32_t>(p), milestones_text(static_cast<Progress>(p)),
                                          std::string(kActionNames[a]), main[at], ci.low, ci.high});
    }

  // Break-even answers on the fit to all fitting customers, and the DP's share of acting over
  // grids of success probability and reward that span them.
  {
    const FoldModel all = fit_fold(table, fitting, s);
    std::vector<StartState> starts;
    std::vector<std::uint8_t> cohort;
    HazardOptions hopt = s.hazards;
    hopt.horizon_weeks = s.funnel.horizon_weeks;
    for (std::size_t i : fitting) {
      const Customer& c = table.customers[i];
      const std::int32_t node = all.encoder.node_of(c, table);
      starts.push_back(StartState{all.model.segment_of_node(node), history_of(c, node, hopt).start});
      cohort.push_back(static_cast<std::uint8_t>(c.cohort));
    }
    BreakEvenAnswers answers = break_even_answers(all.model, s.q.gamma, starts, cohort);
    r.break_even = std::move(answers.table);
    r.action_share = std::move(answers.action_share);
  }

  // Descriptive tables (observed data only).
  DescriptiveOptions d;
  d.min_segment_size = s.min_segment_size;
  d.export_date = s.hazards.export_date;
  r.descriptive = describe_customers(table, d);

  // The call list: open leads with an out-of-fold prediction.
  for (std::size_t i = 0; i < table.customers.size(); ++i) {
    const Customer& c = table.customers[i];
    if (std::isnan(pred[i].p_subscribe) || c.subscribed || c.stage == 5 /* do not contact */) continue;
    const Interval ci = percentile_interval(pred[i].boot);
    r.call_list.push_back(CallListRow{c.id, std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]),
                                      encoder.describe(encoder.node_of(c, table)), std::string(kStageValues[c.stage]),
                                      c.stage == 2 ? "not interested" : "", pred[i].p_subscribe, ci.low, ci.high,
                                      pred[i].expected_value, std::string(kActionNames[pred[i].next_action])});
  }
  std::stable_sort(r.call_list.begin(), r.call_list.end(),
                   [](const CallListRow& a, const CallListRow& b) { return a.p_subscribe > b.p_subscribe; });
  return r;
}

}  // namespace reinforcer
