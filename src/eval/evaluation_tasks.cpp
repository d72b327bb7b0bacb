// The evaluation's tasks: payloads, sharing out, running, and taking the results in.
#include "evaluation_tasks.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <stdexcept>

#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/memory.hpp"
#include "reinforcer/data/quality_report_text.hpp"

namespace reinforcer::evaluation {
namespace {

const std::vector<LeadKey> kNoLeads;

std::vector<double> fold_payload(const std::vector<HeldOutPrediction>& preds) {
  std::vector<double> v;
  v.reserve(preds.size() * kFoldFields);
  for (const auto& p : preds) {
    v.insert(v.end(), {static_cast<double>(p.customer), p.score.status_quo, p.score.call_list, p.score.segment_rate,
                       p.score.cohort_rate, p.score.random, event_mask(p.at_risk), event_mask(p.observed)});
    v.insert(v.end(), p.predicted.begin(), p.predicted.end());
  }
  return v;
}

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
// A task's cost in refits (measured at 1M customers, 2 ranks: a refit 2.15 s, the break-even
// answers 14.8 s (the DP at 19 grid points on 8 builds), the sensitivity grid 13.2 s (12
// points), a fold 2.5 s, the main fit 1.8 s), so the ranks get equal work rather than equal
// counts.
double task_weight(const Task& t) {
  switch (t.kind) {
    case TaskKind::break_even: return 6.9;
    case TaskKind::sensitivity: return 6.1;
    case TaskKind::fold: return 1.16;
    case TaskKind::model: return t.replicate >= 0 ? 1.0 : 0.84;
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

}  // namespace

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

void put_task(std::string& out, std::size_t task, const std::vector<double>& payload) {
  ByteWriter w(out);
  const double header[2] = {static_cast<double>(task), static_cast<double>(payload.size())};
  w.put_values(header, 2);
  w.put_values(payload);
}

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
    // The task's estimate and models, handed back before the next task when they are large:
    // freed pages the heap keeps add up (about 100 MB resident on rank 0 at 1M customers); a
    // trim after each of the small tasks cost the real export 4% of its wall time.
    release_freed_memory_over(std::size_t{32} << 20);
  }
  if (failure) std::rethrow_exception(failure);
  out.stopped = stopped;
  out.finished = progress.tasks_done;
  return out;
}

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

std::string with_refit_scores(const std::string& record, const std::vector<Task>& tasks, const RefitColumns& columns) {
  ByteReader in(record, "an evaluation task's payload");
  double header[2];
  in.get_values(header, 2);
  const Task& t = tasks.at(static_cast<std::size_t>(header[0]));
  const auto values = static_cast<std::size_t>(header[1]);
  if (values != kLeadsAt) return record;  // not a refit's cut payload: nothing to copy
  std::vector<double> payload = in.get_vector<double>(values);
  if (!columns.restore(t, payload)) return record;
  std::string out;
  put_task(out, static_cast<std::size_t>(header[0]), payload);
  return out;
}

}  // namespace reinforcer::evaluation
