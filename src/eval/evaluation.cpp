// The evaluation as independent tasks (break-even, folds, model refits, sensitivity; run and
// gathered by evaluation_tasks.cpp), spread over ranks and threads; rank 0 assembles the tables.
#include "reinforcer/eval/evaluation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "evaluation_internal.hpp"
#include "evaluation_tasks.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/memory.hpp"
#include "reinforcer/data/data_support.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"

namespace reinforcer {
using namespace evaluation;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Calibration sums of one cohort group: per event, customers at risk, expected and observed events.
struct CalibrationSums {
  std::int64_t customers = 0;  // held out, at risk or not
  std::array<std::int64_t, kEvents> at_risk{}, observed{};
  std::array<double, kEvents> expected{};
  void add(const double* fields) {
    ++customers;
    for (std::size_t e = 0; e < kEvents; ++e) {
      at_risk[e] += in_event_mask(fields[kAtRiskAt], e);
      expected[e] += fields[kPredictedAt + e];
      observed[e] += in_event_mask(fields[kObservedAt], e);
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

}  // namespace

std::string calibration_verdict(double expected, const Interval& o_e) {
  if (!(expected >= kCalibrationMinExpected)) return "few events (E < 10)";
  if (o_e.low > 1.0) return "miscalibrated (under-predicts)";
  if (o_e.high < 1.0) return "miscalibrated (over-predicts)";
  return "consistent";
}

std::vector<ScoreRow> score_held_out(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                     const std::vector<std::size_t>& held_out, const EvaluationSettings& settings,
                                     int fold) {
  std::vector<ScoreRow> rows;
  for (const auto& p : run_fold(table, FoldPlan{fitting, held_out}, settings, fold)) rows.push_back(p.score);
  return rows;
}

FoldAuc status_quo_auc(const CustomerTable& table, const EvaluationSettings& s) {
  std::vector<double> score;
  std::vector<std::uint8_t> label;
  std::vector<std::int32_t> fold;
  const std::vector<FoldPlan> plans = plan_folds(table, "cv");
  for (std::size_t f = 0; f < plans.size(); ++f) {
    if (plans[f].held_out.empty()) continue;
    for (const ScoreRow& r : score_held_out(table, plans[f].fitting, plans[f].held_out, s, static_cast<int>(f)))
      score.push_back(r.status_quo), label.push_back(static_cast<std::uint8_t>(r.subscribed)), fold.push_back(r.fold);
  }
  if (score.empty()) return FoldAuc{};
  return fold_stratified_auc(score, label, fold);
}

namespace {
// What cross-validation (or a split) needs of the customers: learnable data, and a subscriber
// held out in every fold.
void require_evaluable(const CustomerTable& table, const std::vector<FoldPlan>& plans, const EvaluationSettings& s) {
  require_learnable(table, s.source);
  if (plans.empty() || plans[0].held_out.empty())
    throw InputError(s.source + ": the customers have no " + std::string(s.split == "cv" ? "folds" : s.split + " split"));
  if (s.split == "cv") {
    require_fold_subscribers(table, s.source);
  } else {
    std::int64_t held_out = 0;
    for (std::size_t i : plans[0].held_out) held_out += table.customers[i].subscribed;
    if (held_out == 0)
      throw InputError(s.source + ": the " + s.split + " split holds out no subscriber among its " +
                       with_thousands(static_cast<std::int64_t>(plans[0].held_out.size())) +
                       " customers, so no targeting figure can be computed on it; use --split cv");
  }
}
}  // namespace

EvaluationResult evaluate(const CustomerTable& table, const std::vector<std::uint8_t>& learned, const EvaluationSettings& s,
                          const Communicator& comm, const EvaluationRun& run) {
  std::vector<FoldPlan> plans = plan_folds(table, s.split);
  // Every rank holds the same table and stops here alike: one message, no abort.
  try {
    require_evaluable(table, plans, s);
  } catch (const InputError& e) {
    throw CollectiveError(e.code(), e.what());
  }
  std::vector<std::size_t> fitting = select_fitting(table, s.fit_on);
  const SegmentEncoder encoder(table, fitting, s.features);
  // The call list's main fit, its leads scored a share per rank: the refits score the same leads
  // (rank 0 keeps the rows).
  CallListPlan call_list = plan_call_list(table, fitting, encoder, s, comm, comm.is_root());
  release_freed_memory();  // the plan's scoring buffers (a third of a GB at 1M customers)
  // Task list: the long single tasks first (break-even, sensitivity), then the folds and the refits.
  std::vector<Task> tasks;
  const int folds = static_cast<int>(plans.size());
  tasks.push_back(Task{TaskKind::break_even, 0, -1});
  for (int f = 0; f < folds; ++f) tasks.push_back(Task{TaskKind::fold, f, -1});
  tasks.push_back(Task{TaskKind::sensitivity, 0, -1});
  tasks.push_back(Task{TaskKind::model, 0, -1});
  for (std::int64_t b = 0; b < s.bootstrap; ++b) tasks.push_back(Task{TaskKind::model, 0, b});
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    if (!run.finished.count(static_cast<std::int64_t>(i))) pending.push_back(i);
  if (!run.finished.empty() && run.finished.rbegin()->first >= static_cast<std::int64_t>(tasks.size()))
    throw std::logic_error("evaluate: a finished task's index is beyond the task list");
  // Shared by the refits and the break-even answers: starts, strata, and the learned policy
  // (one byte per state).
  RefitPlan refit_plan = plan_refits(table, fitting, encoder, s, learned);
  EvaluationResult r;
  // Rank 0 puts the refits' lead scores into the call list's [lead, refit] matrices as they come
  // (its own as each refit ends), so no rank's scores are held twice.
  RefitColumns columns{nullptr, &call_list.row_of_key};
  if (comm.is_root()) {
    const std::size_t leads = call_list.leads.size(), B = static_cast<std::size_t>(s.bootstrap);
    r.call_list_refits.refits = B;
    r.call_list_refits.store = ColumnStore(leads, 2 * B, run.scratch_directory);
    columns.matrices = &r.call_list_refits;
  }
  // The other ranks keep their own refits' scores in a scratch file of their own until they send
  // them, rather than in their results (at 1M customers 15 MB a refit: 0.4 GB for 25).
  RefitScoreColumns kept;
  if (!comm.is_root() && !run.scratch_directory.empty()) {
    kept.refits = static_cast<std::size_t>(s.bootstrap);
    kept.store = ColumnStore(call_list.keys.size(), 2 * kept.refits, run.scratch_directory);
    columns.matrices = &kept;
  }
  RankOutcome mine = run_tasks(tasks, pending, table, plans, fitting, encoder, refit_plan, s, call_list.keys, columns, comm, run);
  release_freed_memory();  // the tasks' workspaces and buffers (a quarter of a GB at 1M), before the others' results come
  const bool stopped = comm.max(mine.stopped ? 1 : 0) > 0;  // one decision for every rank
  // Stopped, the checkpoint keeps whole payloads: the others' as they come, rank 0's own refits'
  // scores read back out of the matrices.
  const RefitColumns into = stopped ? RefitColumns{nullptr, &call_list.row_of_key} : columns;
  FinishedTasks finished;
  if (comm.is_root()) {
    for (const auto& [task, payload] : run.finished) {  // from a checkpoint
      std::string bytes;
      put_task(bytes, static_cast<std::size_t>(task), payload);
      add_part(bytes, tasks, finished, into);
    }
    FinishedTasks own;
    add_part(mine.bytes, tasks, own, columns);
    // Read: rank 0 sends nothing, so its bytes go before the others' come (its folds' payloads
    // held twice had made the gather the peak: 73 MB at 1M customers on 2 ranks).
    std::string().swap(mine.bytes);
    release_freed_memory();
    for (auto& [task, payload] : own) {
      if (stopped) columns.restore(tasks[static_cast<std::size_t>(task)], payload);
      finished[task] = std::move(payload);
    }
  }
  // The other ranks' tasks a round at a time, one task from each rank a round: rank 0 holds one
  // payload per rank beside the matrices, never a rank's whole part.
  const std::int64_t rounds = comm.max(comm.is_root() ? 0 : static_cast<std::int64_t>(mine.ends.size()));
  for (std::int64_t k = 0; k < rounds; ++k) {
    std::string piece;
    if (!comm.is_root() && static_cast<std::size_t>(k) < mine.ends.size()) {
      const std::size_t begin = k == 0 ? 0 : mine.ends[static_cast<std::size_t>(k) - 1];
      piece = mine.bytes.substr(begin, mine.ends[static_cast<std::size_t>(k)] - begin);
      if (columns.matrices) piece = with_refit_scores(piece, tasks, columns);
    }
    comm.gather_each(piece, 0, [&](int, std::string& part) { add_part(part, tasks, finished, into); });
    // A round's pieces are freed between the results kept (folds, summaries): hand their pages
    // back at once, or they add up to a quarter of a GB resident on rank 0 at 1M customers.
    if (comm.is_root()) release_freed_memory();
  }
  std::string().swap(mine.bytes);
  // The folds ran: their fitting customers are not needed again (4 of 5 of the customers' indices
  // a fold: 31 MB at 1M).
  for (FoldPlan& plan : plans) std::vector<std::size_t>().swap(plan.fitting);
  release_freed_memory();
  if (stopped) {
    if (comm.is_root() && run.checkpoint) run.checkpoint(finished, static_cast<std::int64_t>(tasks.size()));
    comm.barrier();
    const std::int64_t done = static_cast<std::int64_t>(run.finished.size()) + comm.sum(mine.finished);
    throw Interrupted("stopped by a signal with " + std::to_string(done) + " of " + std::to_string(tasks.size()) +
                      " tasks finished" + (run.checkpoint ? "; a checkpoint was written; continue with --resume" : ""));
  }
  // What only the tasks and their gathering read, freed before the tables are assembled (40 MB
  // at 1M customers): the refits' start states, the leads' keys, the fitting customers.
  const auto fitting_customers = static_cast<std::int64_t>(fitting.size());
  refit_plan = RefitPlan{};
  std::vector<LeadKey>().swap(call_list.keys);
  std::vector<std::uint32_t>().swap(call_list.row_of_key);
  std::vector<std::size_t>().swap(fitting);
  release_freed_memory();
  r.folds = folds;
  for (const auto& c : table.customers) r.undated_set_aside += c.cohort == Cohort::undated;
  if (!comm.is_root()) {
    build_targeting(r, s, comm);  // this rank's share of the targeting bootstrap
    return r;
  }
  if (finished.size() != tasks.size()) throw std::logic_error("evaluate: some tasks were not run");
  std::vector<std::vector<double>> payload(tasks.size());
  for (auto& [task, values] : finished) payload[static_cast<std::size_t>(task)] = std::move(values);
  FinishedTasks().swap(finished);

  // Out-of-fold predictions.
  std::array<CalibrationSums, 3> calibration{};  // all, outbound, inbound
  std::array<std::vector<double>, 3> sub_predicted;  // P(subscribing within the follow-up), per group
  std::array<std::vector<std::uint8_t>, 3> sub_observed;
  std::size_t held_out_rows = 0;  // the score rows reserved at their number: no doubling
  for (int f = 0; f < folds; ++f) held_out_rows += payload[kFoldsAt + static_cast<std::size_t>(f)].size() / kFoldFields;
  r.scores.reserve(held_out_rows);
  for (int f = 0; f < folds; ++f) {
    const auto& v = payload[kFoldsAt + static_cast<std::size_t>(f)];
    for (std::size_t off = 0; off + kFoldFields <= v.size(); off += kFoldFields) {
      const auto i = static_cast<std::size_t>(v[off]);
      const Customer& c = table.customers[i];
      const double* score = &v[off + kScoresAt];
      r.scores.push_back(ScoreRow{c.id, f, std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]),
                                  static_cast<std::int8_t>(c.subscribed), score[0], score[1], score[2], score[3], score[4]});
      for (std::size_t g : {std::size_t{0}, 1 + static_cast<std::size_t>(c.cohort)}) {
        calibration[g].add(&v[off]);
        if (!in_event_mask(v[off + kAtRiskAt], kSubscriptionEvent)) continue;
        sub_predicted[g].push_back(v[off + kPredictedAt + kSubscriptionEvent]);
        sub_observed[g].push_back(in_event_mask(v[off + kObservedAt], kSubscriptionEvent));
      }
    }
    std::vector<double>().swap(payload[kFoldsAt + static_cast<std::size_t>(f)]);  // its last use (kFoldFields numbers a customer)
    release_freed_memory();  // at once: the score rows grow as the folds' payloads go (40 MB a fold at 1M)
  }
  build_targeting(r, s, comm);
  release_freed_memory();  // the targeting's rankings and replicates (0.2 GB at 1M customers)

  // Calibration of the simulator on the held-out customers.
  r.calibration = calibration_rows(calibration);
  // The subscription's calibration slope and decile reliability table, per cohort group.
  for (std::size_t g = 0; g < 3; ++g) {
    if (sub_predicted[g].empty()) continue;
    const std::string cohort = g == 0 ? "all" : std::string(kCohortNames[g - 1]);
    r.calibration_slopes.push_back(CalibrationSlopeRow{cohort, "subscribed", calibration_slope(sub_predicted[g], sub_observed[g])});
    for (const ReliabilityBin& b : reliability_bins(sub_predicted[g], sub_observed[g], 10))
      r.reliability.push_back(ReliabilityRow{cohort, "subscribed", b});
  }

  // Policies: the fit on all fitting customers, and B refits on resamples (paired).
  const auto& main = payload[kFoldsAt + static_cast<std::size_t>(folds) + 1];
  auto refit = [&](std::int64_t b) -> const std::vector<double>& {
    return payload[kFoldsAt + static_cast<std::size_t>(folds) + 2 + static_cast<std::size_t>(b)];
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
                                     fitting_customers});
      if (p == 0) continue;
      const Interval d = percentile_interval(diffs);
      r.policy_differences.push_back(PolicyDifferenceRow{kPolicies[p], kPolicyMetrics[m],
                                                         policy_metric(main, 0, m) - policy_metric(main, p, m), d.low, d.high});
    }

  // Sensitivity, action impact and the optimal action mix.
  const auto& sens = payload[kFoldsAt + static_cast<std::size_t>(folds)];
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
    BreakEvenAnswers answers = break_even_of_payload(payload[kBreakEvenAt]);
    r.break_even = std::move(answers.table);
    r.action_share = std::move(answers.action_share);
  }

  // Descriptive tables (observed data only).
  DescriptiveOptions d;
  d.min_segment_size = s.min_segment_size;
  d.export_date = s.hazards.export_date;
  r.descriptive = describe_customers(table, d);

  // The call list: intervals and the refits' scores (for rank stability) from the same refits.
  {
    // The rows now, with the refits' payloads freed, their texts as codes.
    r.call_list.reserve(call_list.leads.size());
    CallListRowMaker row_of(table, encoder, s);
    for (const PlannedLead& lead : call_list.leads) r.call_list.add(row_of(lead));
    std::vector<PlannedLead>().swap(call_list.leads);
    release_freed_memory();  // the planned leads, and the rows' text while it was made
    const std::size_t leads = r.call_list.size(), B = static_cast<std::size_t>(s.bootstrap);
    constexpr std::size_t kBlockLeads = 1 << 14;  // the refits' scores read a block of leads at a time
    std::vector<double> block;
    for (std::size_t first = 0; first < leads; first += kBlockLeads) {
      const std::size_t count = std::min(kBlockLeads, leads - first);
      block.resize(count * B);
      r.call_list_refits.store.get_rows(first, count, 0, B, block.data());
      for (std::size_t i = 0; i < count; ++i) {
        CallListNumbers& row = r.call_list.numbers(first + i);
        const double* refits = block.data() + i * B;
        const PointInterval ci = interval_holding(row.p_subscribe, std::vector<double>(refits, refits + B));
        row.low95 = ci.low, row.high95 = ci.high;
        r.call_list_widened += ci.widened;
      }
    }
  }
  // A cohort whose held-out customers hold no subscriber has no AUC, lift or difference: the
  // report marks its rows n/a, and says why here.
  std::array<std::int64_t, 2> held_out{}, held_out_subscribers{};
  for (const FoldPlan& plan : plans)
    for (std::size_t i : plan.held_out) {
      const Customer& c = table.customers[i];
      if (c.cohort == Cohort::undated) continue;
      ++held_out[static_cast<std::size_t>(c.cohort)];
      held_out_subscribers[static_cast<std::size_t>(c.cohort)] += c.subscribed;
    }
  for (Cohort cohort : {Cohort::outbound, Cohort::inbound}) {
    const auto k = static_cast<std::size_t>(cohort);
    if (held_out[k] > 0 && held_out_subscribers[k] == 0)
      r.warnings.push_back(s.source + ": no subscriber in the " + std::string(kCohortNames[k]) + " cohort (" +
                           with_thousands(held_out[k]) + " held-out customers): its targeting figures are n/a");
  }
  if (!enough_replicates_for_95(s.bootstrap))
    r.warnings.push_back(std::to_string(s.bootstrap) + " bootstrap replicates are too few for 95% percentile intervals (" +
                         std::to_string(kMinReplicatesFor95) + " are needed, so that each 2.5% tail holds one): the intervals "
                         "are marked as rough ranges; rerun evaluate with --bootstrap " + std::to_string(kMinReplicatesFor95) +
                         " or more");
  return r;
}

}  // namespace reinforcer
