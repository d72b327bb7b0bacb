#pragma once
// The evaluation's tasks (break-even, folds, model refits, sensitivity): their payloads as
// numbers, how the ranks share them out and run them, and how rank 0 takes the others'
// results in. Internal to src/eval; evaluation.cpp assembles the tables from the payloads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "evaluation_internal.hpp"
#include "reinforcer/eval/evaluation.hpp"

namespace reinforcer::evaluation {

inline constexpr std::size_t kBreakEvenAt = 0, kFoldsAt = 1;  // task indices: break-even, the first fold
// A fold's payload per held-out customer: its index, its kScorers scores, the events it was at
// risk of and those observed as bit masks (event e: bit e; as flags they had been 12 of 27
// numbers, 0.1 GB of the folds' 0.2 GB at 1M customers), and each event's predicted probability.
inline constexpr std::size_t kScoresAt = 1;
inline constexpr std::size_t kAtRiskAt = kScoresAt + kScorers.size(), kObservedAt = kAtRiskAt + 1,
                             kPredictedAt = kObservedAt + 1, kFoldFields = kPredictedAt + kEvents;
inline double event_mask(const std::array<std::uint8_t, kEvents>& flags) {
  unsigned mask = 0;
  for (std::size_t e = 0; e < kEvents; ++e) mask |= (flags[e] != 0 ? 1u : 0u) << e;
  return static_cast<double>(mask);
}
inline bool in_event_mask(double mask, std::size_t e) { return (static_cast<unsigned>(mask) >> e & 1u) != 0; }

enum class TaskKind { break_even, fold, model, sensitivity };
struct Task {
  TaskKind kind;
  int fold = 0;
  std::int64_t replicate = -1;
};

// A model replicate's payload: the 7 x 4 policy metrics, then the impact table, then the
// action mix (each kProgressStates x kActions, row-major), then the call list's leads'
// P(subscribe) and gain.
inline constexpr std::size_t kImpactAt = 7 * 4;
inline constexpr std::size_t kMixAt = kImpactAt + kProgressStates * kActions;
inline constexpr std::size_t kLeadsAt = kMixAt + kProgressStates * kActions;

// The break-even answers from their payload.
BreakEvenAnswers break_even_of_payload(const std::vector<double>& v);

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
  // A refit's payload whose lead scores went into the columns (kLeadsAt values left) made
  // whole again; false, and left as it is, for any other payload.
  bool restore(const Task& t, std::vector<double>& payload) const {
    if (t.kind != TaskKind::model || t.replicate < 0 || payload.size() != kLeadsAt) return false;
    payload.resize(kLeadsAt + 2 * leads());
    get(static_cast<std::size_t>(t.replicate), payload.data() + kLeadsAt);
    return true;
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
void put_task(std::string& out, std::size_t task, const std::vector<double>& payload);

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
                      const EvaluationRun& run);

// Adds one rank's (task index, payload) records to `into`. With columns, a refit's lead scores
// go into the matrices instead and its payload keeps what precedes them (rank 0's own refits
// arrive so already).
void add_part(std::string_view part, const std::vector<Task>& tasks, FinishedTasks& into, const RefitColumns& columns);

// A task's record (put_task) as it was made: a refit's lead scores, kept in `columns` while the
// record waited, put back behind its other values.
std::string with_refit_scores(const std::string& record, const std::vector<Task>& tasks, const RefitColumns& columns);

}  // namespace reinforcer::evaluation
