// The evaluation as independent tasks (break-even, folds, model refits, sensitivity),
// spread over ranks and threads; rank 0 assembles the tables.
#include "reinforcer/eval/evaluation.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <chrono>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "evaluation_internal.hpp"
#include "reinforcer/core/bytes.hpp"
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
constexpr std::size_t kBreakEvenAt = 0, kFoldsAt = 1;  // task indices: break-even, the first fold
constexpr std::size_t kScoresAt = 1;  // per held-out customer: its index, its kScorers scores, calibration
constexpr std::size_t kAtRiskAt = kScoresAt + kScorers.size(), kPredictedAt = kAtRiskAt + kEvents,
                      kObservedAt = kPredictedAt + kEvents, kFoldFields = kObservedAt + kEvents;

enum class TaskKind { break_even, fold, model, sensitivity };
const std::vector<LeadKey> kNoLeads;
struct Task {
  TaskKind kind;
  int fold = 0;
  std::int64_t replicate = -1;
};

std::vector<double> fold_payload(const std::vector<HeldOutPrediction>& preds) {
  std::vector<double> v;
  for (const auto& p : preds) {
    v.insert(v.end(), {static_cast<double>(p.customer), p.score.status_quo, p.score.call_list, p.score.segment_rate,
                       p.score.cohort_rate, p.score.random});
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
// action mix (each kProgressStates x kActions, row-major), then the call list's leads'
// P(subscribe) and gain.
constexpr std::size_t kImpactAt = 7 * 4;
constexpr std::size_t kMixAt = kImpactAt + kProgressStates * kActions;
constexpr std::size_t kLeadsAt = kMixAt + kProgressStates * kActions;
std::vector<double> model_payload(const ModelReplicate& r) {
  std::vector<double> v;
  for (const auto& row : r.policy) v.insert(v.end(), row.begin(), row.end());
  for (const auto& row : r.impact) v.insert(v.end(), row.begin(), row.end());
  for (const auto& row : r.action_mix) v.insert(v.end(), row.begin(), row.end());
  v.insert(v.end(), r.lead_p_subscribe.begin(), r.lead_p_subscribe.end());
  v.insert(v.end(), r.lead_gain.begin(), r.lead_gain.end());
  return v;
}

// The break-even answers' payload: the number of table rows, each row's numbers (cohort and
// action by their index), then the action-share rows likewise.
constexpr std::size_t kBreakEvenFields = 13, kActionShareFields = 5;
double cohort_index(const std::string& name) {
  for (std::size_t i = 0; i < kCohortNames.size(); ++i)
    if (kCohortNames[i] == name) return static_cast<double>(i);
  throw std::logic_error("evaluate: '" + name + "' is not a cohort");
}
double action_index(const std::string& name) {
  const auto a = action_named(name);
  if (!a) throw std::logic_error("evaluate: '" + name + "' is not an action");
  return static_cast<double>(*a);
}
std::vector<double> break_even_payload(const BreakEvenAnswers& a) {
  std::vector<double> v = {static_cast<double>(a.table.size())};
  for (const BreakEvenRow& r : a.table)
    v.insert(v.end(), {cohort_index(r.cohort), static_cast<double>(r.progress), action_index(r.action),
                       static_cast<double>(r.customers), r.gain_per_success, r.configured_success, r.break_even_success,
                       r.break_even_reward, r.break_even_cost, r.milestone_base, r.subscription_base,
                       r.n_per_arm_milestone, r.n_per_arm_subscription});
  for (const ActionShareRow& r : a.action_share)
    v.insert(v.end(), {cohort_index(r.cohort), r.axis == "success" ? 0.0 : 1.0, r.value, r.share_acting,
                       static_cast<double>(r.customers)});
  return v;
}
BreakEvenAnswers break_even_of_payload(const std::vector<double>& v) {
  BreakEvenAnswers a;
  const auto rows = static_cast<std::size_t>(v.at(0));
  std::size_t at = 1;
  for (std::size_t k = 0; k < rows; ++k, at += kBreakEvenFields) {
    if (at + kBreakEvenFields > v.size()) throw std::logic_error("evaluate: a short break-even payload");
    const double* x = v.data() + at;
    BreakEvenRow r;
    r.cohort = std::string(kCohortNames[static_cast<std::size_t>(x[0])]);
    r.progress = static_cast<std::int32_t>(x[1]);
    r.stage = milestones_text(static_cast<Progress>(r.progress));
    r.action = std::string(kActionNames[static_cast<std::size_t>(x[2])]);
    r.customers = static_cast<std::int64_t>(x[3]);
    r.gain_per_success = x[4], r.configured_success = x[5], r.break_even_success = x[6], r.break_even_reward = x[7];
    r.break_even_cost = x[8], r.milestone_base = x[9], r.subscription_base = x[10];
    r.n_per_arm_milestone = x[11], r.n_per_arm_subscription = x[12];
    a.table.push_back(std::move(r));
  }
  for (; at + kActionShareFields <= v.size(); at += kActionShareFields)
    a.action_share.push_back(ActionShareRow{std::string(kCohortNames[static_cast<std::size_t>(v[at])]),
                                            v[at + 1] == 0 ? "success" : "reward", v[at + 2], v[at + 3],
                                            static_cast<std::int64_t>(v[at + 4])});
  return a;
}

// A task's cost in refits (measured at 1M customers, 2 ranks: a refit 1.34 s, the break-even
// answers 7.0 s (the DP at 19 grid points on 8 builds), the sensitivity grid 7.7 s (12 points),
// a fold 1.25 s, the main fit 1.1 s), so the ranks get equal work rather than equal counts.
double task_weight(const Task& t) {
  switch (t.kind) {
    case TaskKind::break_even: return 5.2;
    case TaskKind::sensitivity: return 5.7;
    case TaskKind::fold: return 0.9;
    case TaskKind::model: return t.replicate >= 0 ? 1.0 : 0.8;
  }
  return 1.0;
}

// This rank's share of the pending tasks: heaviest first, each to the rank with the least work
// so far (the lowest rank on ties), the same on every rank; the rank runs its share in task
// order (the long single tasks and the folds first, so a stop keeps them).
std::vector<std::size_t> deal_tasks(const std::vector<Task>& tasks, const std::vector<std::size_t>& pending, int ranks,
                                    int rank) {
  std::vector<std::size_t> order = pending;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return task_weight(tasks[a]) > task_weight(tasks[b]); });
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  std::vector<std::size_t> mine;
  for (std::size_t t : order) {
    const auto to = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[to] += task_weight(tasks[t]);
    if (static_cast<int>(to) == rank) mine.push_back(t);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

// Where the refits' lead scores go on rank 0: column `replicate` of the call list's [lead,
// refit] matrices, row row_of_key[k] for the k-th score (keys in node order).
struct RefitColumns {
  RefitScoreColumns* matrices = nullptr;  // null: the scores stay in the payloads
  const std::vector<std::uint32_t>* row_of_key = nullptr;
  std::size_t leads() const { return row_of_key->size(); }
  // A refit's scores (p_subscribe, then gain, in key order) into its columns.
  void put(std::size_t replicate, const double* scores) const {
    const std::size_t n = leads();
    std::vector<double> column(n);
    for (std::size_t half = 0; half < 2; ++half) {
      for (std::size_t k = 0; k < n; ++k) column[(*row_of_key)[k]] = scores[half * n + k];
      matrices->store.put_column(half * matrices->refits + replicate, column.data());
    }
  }
  // The same scores back out of the columns (a checkpoint keeps whole payloads).
  void get(std::size_t replicate, double* scores) const {
    const std::size_t n = leads();
    std::vector<double> column(n);
    for (std::size_t half = 0; half < 2; ++half) {
      matrices->store.get_column(half * matrices->refits + replicate, column.data());
      for (std::size_t k = 0; k < n; ++k) scores[half * n + k] = column[(*row_of_key)[k]];
    }
  }
};

// A finished task as the ranks send it: (task index, payload size) as doubles, then the payload.
void put_task(std::string& out, std::size_t task, const std::vector<double>& payload) {
  ByteWriter w(out);
  const double header[2] = {static_cast<double>(task), static_cast<double>(payload.size())};
  w.put_values(header, 2);
  w.put_values(payload);
}

// Runs this rank's share of the tasks not finished before (`pending`, dealt by deal_tasks);
// returns the (task index, payload) pairs it finished, serialised, and whether a stop request
// left some of its tasks undone.
// With `own` columns (rank 0), a refit's lead scores go into them at once and its payload
// keeps only what precedes them.
struct RankOutcome {
  std::string bytes;
  std::vector<std::size_t> ends;  // where each task's record in `bytes` ends
  bool stopped = false;
  std::int64_t finished = 0;
};
RankOutcome run_tasks(const std::vector<Task>& tasks, const std::vector<std::size_t>& pending, const CustomerTable& table,
                      const std::vector<FoldPlan>& plans, const std::vector<std::size_t>& fitting,
                      const SegmentEncoder& encoder, const RefitPlan& plan, const EvaluationSettings& s,
                      const std::vector<LeadKey>& leads, const RefitColumns& own, const Communicator& comm,
                      const EvaluationRun& run) {
  using Clock = std::chrono::steady_clock;
  const std::vector<std::size_t> mine = deal_tasks(tasks, pending, comm.size(), comm.rank());
  EvaluationProgress progress;
  progress.rank = comm.rank(), progress.ranks = comm.size();
  progress.tasks = static_cast<std::int64_t>(mine.size());
  progress.resumed = static_cast<std::int64_t>(run.finished.size());
  for (std::size_t t : mine) progress.refits += tasks[t].kind == TaskKind::model && tasks[t].replicate >= 0;
  const auto t0 = Clock::now();
  std::vector<RefitWorkspace> workspaces(static_cast<std::size_t>(std::max(1, s.threads)));
  // Each finished task is serialised at once into this rank's bytes, reserved for the large
  // payloads (folds, refits) up front: no second copy of them is held, and no doubling string.
  RankOutcome out;
  std::size_t expected = 0;
  // The break-even and sensitivity payloads are a few thousand numbers: a MiB each bounds them
  // (a string that outgrows its reserve doubles: at 1M customers 450 MB more on rank 0).
  constexpr std::size_t kSmallPayloadBytes = std::size_t{1} << 20;
  for (std::size_t t : mine) {
    expected += 2 * sizeof(double);
    if (tasks[t].kind == TaskKind::break_even || tasks[t].kind == TaskKind::sensitivity) expected += kSmallPayloadBytes;
    if (tasks[t].kind == TaskKind::fold) expected += plans[static_cast<std::size_t>(tasks[t].fold)].held_out.size() * kFoldFields * sizeof(double);
    if (tasks[t].kind == TaskKind::model)
      expected += (kLeadsAt + (tasks[t].replicate >= 0 && !own.matrices ? 2 * leads.size() : 0)) * sizeof(double);
  }
  out.bytes.reserve(expected);
  // The first task's exception, rethrown as it is once the threads are done: the project's
  // errors keep their exit code, and anything else stays an internal error.
  // Locks (below) rather than critical sections, which no exception may leave.
  std::exception_ptr failure;
  bool failed = false;
  std::mutex bytes_mutex, progress_mutex;
  bool stopped = false;
#pragma omp parallel for num_threads(s.threads) schedule(dynamic, 1)
  for (std::size_t k = 0; k < mine.size(); ++k) {
    bool give_up;
#pragma omp atomic read
    give_up = failed;
    if (give_up) continue;
    try {
      bool stop;
#pragma omp atomic read
      stop = stopped;
      if (!stop && run.stop_requested && run.stop_requested()) {
#pragma omp atomic write
        stopped = true;
        stop = true;
      }
      if (stop) continue;
      const Task& t = tasks[mine[k]];
      std::vector<double> payload;
      switch (t.kind) {
        case TaskKind::break_even: {
          // On the fit to all fitting customers; the DP's share of acting over grids of success
          // probability and reward that span the break-evens.
          const HazardEstimates h = estimate_hazards(table, fitting, encoder, s.hazards);
          payload = break_even_payload(
              break_even_answers(StreamedFunnel(h, plan.leaves, s.funnel), s.q.gamma, plan.starts, plan.cohort));
          break;
        }
        case TaskKind::fold:
          payload = fold_payload(run_fold(table, plans[static_cast<std::size_t>(t.fold)], s, t.fold));
          break;
        case TaskKind::model:
          // The refits score the call list's leads; the main fit (replicate -1) did so already.
          payload = model_payload(run_model_replicate(table, fitting, encoder, plan, s, t.replicate,
                                                         t.replicate >= 0 ? leads : kNoLeads,
                                                         workspaces[static_cast<std::size_t>(omp_get_thread_num())]));
          break;
        case TaskKind::sensitivity: {
          ActionTable lo{}, hi{};
          const auto rows = run_sensitivity(table, fitting, encoder, plan, s, lo, hi,
                                            workspaces[static_cast<std::size_t>(omp_get_thread_num())]);
          auto& v = payload;
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
      if (own.matrices && t.kind == TaskKind::model && t.replicate >= 0) {  // a column of its own: no other thread writes it
        if (payload.size() != kLeadsAt + 2 * own.leads()) throw std::logic_error("evaluate: a refit scored the wrong number of leads");
        own.put(static_cast<std::size_t>(t.replicate), payload.data() + kLeadsAt);
        payload.resize(kLeadsAt);
      }
      {
        const std::lock_guard<std::mutex> lock(bytes_mutex);
        put_task(out.bytes, mine[k], payload);
        out.ends.push_back(out.bytes.size());
      }
      {
        const std::lock_guard<std::mutex> lock(progress_mutex);
        ++progress.tasks_done;
        progress.refits_done += t.kind == TaskKind::model && t.replicate >= 0;
        progress.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        if (run.progress && comm.is_root()) run.progress(progress);
      }
    } catch (...) {
#pragma omp critical(evaluation_failure)
      if (!failure) failure = std::current_exception();
#pragma omp atomic write
      failed = true;
    }
  }
  if (failure) std::rethrow_exception(failure);
  out.stopped = stopped;
  out.finished = progress.tasks_done;
  return out;
}

// Adds one rank's (task index, payload) records to `into`. With columns, a refit's lead scores
// go into the matrices instead and its payload keeps what precedes them (rank 0's own refits
// arrive so already).
void add_part(std::string_view part, const std::vector<Task>& tasks, FinishedTasks& into, const RefitColumns& columns) {
  ByteReader in(part, "an evaluation task's payload");
  while (!in.done()) {
    double header[2];
    in.get_values(header, 2);
    const auto task = static_cast<std::int64_t>(header[0]);
    const auto values = static_cast<std::size_t>(header[1]);
    const Task& t = tasks.at(static_cast<std::size_t>(task));
    if (columns.matrices && t.kind == TaskKind::model && t.replicate >= 0 && values != kLeadsAt) {
      if (values != kLeadsAt + 2 * columns.leads()) throw std::logic_error("evaluate: a refit scored the wrong number of leads");
      into[task] = in.get_vector<double>(kLeadsAt);
      columns.put(static_cast<std::size_t>(t.replicate), in.get_vector<double>(2 * columns.leads()).data());
    } else {
      into[task] = in.get_vector<double>(values);
    }
  }
}

// A task's record (put_task) as it was made: a refit's lead scores, kept in `columns` while the
// record waited, put back behind its other values.
std::string with_refit_scores(const std::string& record, const std::vector<Task>& tasks, const RefitColumns& columns) {
  ByteReader in(record, "an evaluation task's payload");
  double header[2];
  in.get_values(header, 2);
  const Task& t = tasks.at(static_cast<std::size_t>(header[0]));
  const auto values = static_cast<std::size_t>(header[1]);
  if (t.kind != TaskKind::model || t.replicate < 0 || values != kLeadsAt) return record;
  std::vector<double> payload = in.get_vector<double>(values);
  payload.resize(kLeadsAt + 2 * columns.leads());
  columns.get(static_cast<std::size_t>(t.replicate), payload.data() + kLeadsAt);
  std::string out;
  put_task(out, static_cast<std::size_t>(header[0]), payload);
  return out;
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
  const std::vector<FoldPlan> plans = plan_folds(table, s.split);
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
  const RefitPlan refit_plan = plan_refits(table, fitting, encoder, s, learned);
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
    for (auto& [task, payload] : own) {
      const Task& t = tasks[static_cast<std::size_t>(task)];
      if (stopped && t.kind == TaskKind::model && t.replicate >= 0 && payload.size() == kLeadsAt) {
        payload.resize(kLeadsAt + 2 * columns.leads());
        columns.get(static_cast<std::size_t>(t.replicate), payload.data() + kLeadsAt);
      }
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
  release_freed_memory();
  if (stopped) {
    if (comm.is_root() && run.checkpoint) run.checkpoint(finished, static_cast<std::int64_t>(tasks.size()));
    comm.barrier();
    const std::int64_t done = static_cast<std::int64_t>(run.finished.size()) + comm.sum(mine.finished);
    throw Interrupted("stopped by a signal with " + std::to_string(done) + " of " + std::to_string(tasks.size()) +
                      " tasks finished" + (run.checkpoint ? "; a checkpoint was written; continue with --resume" : ""));
  }
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
        if (v[off + kAtRiskAt + kSubscriptionEvent] == 0) continue;
        sub_predicted[g].push_back(v[off + kPredictedAt + kSubscriptionEvent]);
        sub_observed[g].push_back(v[off + kObservedAt + kSubscriptionEvent] != 0);
      }
    }
    std::vector<double>().swap(payload[kFoldsAt + static_cast<std::size_t>(f)]);  // its last use (27 numbers a customer)
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
                                     static_cast<std::int64_t>(fitting.size())});
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
    for (const PlannedLead& lead : call_list.leads) r.call_list.add(call_list_row(lead, table, encoder, s));
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
