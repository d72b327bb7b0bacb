#pragma once
// `reinforcer evaluate`: cross-validated targeting on real outcomes, policies compared in the
// fitted funnel with bootstrap refits, calibration of the simulator, sensitivity to the
// assumed action success probabilities, action impact, descriptive tables and the call list.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/eval/break_even.hpp"
#include "reinforcer/stats/calibration.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"
#include "reinforcer/eval/call_list.hpp"
#include "reinforcer/eval/descriptive.hpp"
#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

struct EvaluationSettings {
  // How the run was trained (read back from run.h5).
  FeatureMask features;
  FunnelConfig funnel;
  HazardOptions hazards;         // export_date, horizon, shrinkage
  QLearningConfig q;
  std::int64_t episodes = 0;     // per fold: the run's episodes per worker x workers
  double oversample = 0.1;       // the run's share of episodes started at a subscriber's state
  std::string fit_on = "all";
  // Evaluation itself.
  int bootstrap = 200;
  std::uint64_t seed = 1;
  std::string split = "cv";      // cv | val | test
  int threads = 1;
  // Sensitivity: every success probability and the subscription reward times these factors.
  std::vector<double> grid_success = {0.25, 1.0, 4.0};
  std::vector<double> grid_reward = {0.5, 1.0, 2.0, 5.0};
  std::int64_t min_segment_size = 30;
  double segment_prior = 20;     // customers' worth of prior in the segment-rate baseline
  int stale_weeks = kDefaultStaleWeeks;  // the call list's stale section
  std::string source = "the run file";   // names the customers' file in messages
};

// Targeting metrics per scorer and cohort: auc (pooled over the folds' out-of-fold scores),
// auc_fold (the mean over folds of the AUC within each fold -- a score that is constant within
// a fold scores 0.5, where pooling could not), lift@ and captured@ the top 5/10/20/30%.
// folds: the folds with subscribers and non-subscribers of the cohort (auc_fold's terms).
struct TargetingRow { std::string scorer, cohort, metric; double estimate, low95, high95; std::int64_t customers, subscribers, folds; };
// A scorer minus a baseline on the same bootstrap resamples (paired).
struct TargetingDifferenceRow { std::string scorer, baseline, cohort, metric; double difference, low95, high95; };
struct LiftPoint { std::string scorer, cohort; double fraction, captured; };
// Out-of-fold scores of a held-out customer at its decision-time state. status_quo: P(subscribe
// within the horizon) under the fitted historical process, exact by DP -- the targeting score;
// call_list: the call list's own ranking applied at that state (1 + gain where an action pays,
// else P(subscribe within kCallListWeeks)); segment_rate, cohort_rate, random: baselines.
struct ScoreRow { std::int64_t id; std::int32_t fold; std::string cohort; std::int8_t subscribed; double status_quo, call_list, segment_rate, cohort_rate, random; };
inline constexpr std::array<const char*, 5> kScorers = {"status_quo", "call_list", "segment_rate", "cohort_rate", "random"};
inline constexpr std::size_t kFirstBaseline = 2;  // scorers from here on are baselines
struct PolicyRow { std::string policy, metric; double estimate, low95, high95; std::int64_t customers; };
struct PolicyDifferenceRow { std::string policy, metric; double difference, low95, high95; };
// Held-out customers at risk of an event after t0 (`customers`), the events they had within
// their follow-up (O, `observed`) and the sum of the model's probabilities for them (E,
// `expected`); O/E with the exact Poisson interval and the verdict on it.
struct CalibrationRow { std::string cohort, event; std::int64_t customers; double expected; std::int64_t observed; double o_e, o_e_low95, o_e_high95; std::string verdict; };
// Out-of-fold calibration of one event's probability within the follow-up: the logistic
// recalibration slope (1: as predicted), and O/E by decile of the prediction.
struct CalibrationSlopeRow { std::string cohort, event; CalibrationSlope fit; };
struct ReliabilityRow { std::string cohort, event; ReliabilityBin bin; };
struct SensitivityRow { double success_scale, reward_scale, reward_per_customer, subscriptions_per_1000; std::array<double, kActions> share; };
struct ActionImpactRow { std::int32_t progress; std::string milestones, action; double delta, low95, high95, sensitivity_low, sensitivity_high; };
struct ActionMixRow { std::int32_t progress; std::string milestones, action; double share, low95, high95; };

struct EvaluationResult {
  // What actions pay, whatever their assumed success: break-evens per cohort x stage x action,
  // and the DP's share of acting over grids that span them (the fit on all fitting customers).
  std::vector<BreakEvenRow> break_even;
  std::vector<ActionShareRow> action_share;
  std::vector<ScoreRow> scores;
  std::vector<TargetingRow> targeting;
  std::vector<TargetingDifferenceRow> targeting_differences;
  std::vector<LiftPoint> lift_curve;
  std::vector<PolicyRow> policies;
  std::vector<PolicyDifferenceRow> policy_differences;
  std::vector<CalibrationRow> calibration;
  std::vector<CalibrationSlopeRow> calibration_slopes;
  std::vector<ReliabilityRow> reliability;
  std::vector<SensitivityRow> sensitivity;
  std::vector<ActionImpactRow> action_impact;
  std::vector<ActionMixRow> action_mix;
  DescriptiveTables descriptive;
  // The call list: open leads at the export date, scored by the fit on all fitting customers,
  // intervals and rank stability from the policies' refits (same resamples).
  CallListColumns call_list;
  RefitScoreColumns call_list_refits;
  std::int64_t call_list_widened = 0;  // rows whose refit interval was widened to hold the estimate
  std::int64_t folds = 0;
  std::int64_t undated_set_aside = 0;
  // What the data or the options cannot support while the rest stands (a cohort without a
  // subscriber, too few bootstrap replicates for 95% intervals): printed and kept in the file.
  std::vector<std::string> warnings;
};

// Below this many expected events an O/E interval is too wide to say much: such a row keeps
// its interval but gets the verdict "few events (E < 10)" instead of a judgement.
inline constexpr double kCalibrationMinExpected = 10.0;
// "consistent" when the O/E interval contains 1, "miscalibrated (under-predicts)" when it lies
// above 1 (more events than the model expects), "miscalibrated (over-predicts)" when below.
std::string calibration_verdict(double expected, const Interval& o_e);

// The evaluation's independent tasks (folds, the sensitivity grid, the main fit, the refits)
// each give a vector of numbers that depends on the task's index alone, so a finished task
// can be saved and a later run can skip it with the same result.
using FinishedTasks = std::map<std::int64_t, std::vector<double>>;

// Where an evaluation stands: this rank's tasks (rank 0 reports its own share; tasks are
// dealt to ranks by their expected cost, so every rank's share takes about as long).
struct EvaluationProgress {
  std::int64_t refits_done = 0, refits = 0;  // bootstrap refits of the model
  std::int64_t tasks_done = 0, tasks = 0;    // every kind, refits included
  std::int64_t resumed = 0;                  // of all ranks' tasks, finished by an earlier run
  int rank = 0, ranks = 1;
  double seconds = 0;                        // since this run's tasks began
};

// How a long evaluation reports, stops and resumes; every member may be left empty.
struct EvaluationRun {
  // Polled before each task starts: true stops the run after the tasks already running.
  std::function<bool()> stop_requested;
  // Rank 0, after each of its tasks (from the thread that ran it, one call at a time).
  std::function<void(const EvaluationProgress&)> progress;
  // Tasks an earlier run finished (from its checkpoint); every rank needs their indices, rank
  // 0 their values too.
  FinishedTasks finished;
  // Rank 0, after a stop on any rank: every task finished so far (earlier runs' included) and
  // the number of tasks; after it returns, every rank throws Interrupted.
  std::function<void(const FinishedTasks&, std::int64_t tasks)> checkpoint;
  // Where rank 0 keeps the call list's refit scores until they are written (a scratch file,
  // unlinked at once): 2 x 8 bytes per lead and refit. Empty: in memory.
  std::string scratch_directory;
};

// The run's learned policy (learned_policy() of its Q-table, one action per state) must be
// over the leaf states of the funnel fitted on `fit_on`. Every rank calls it; the result is
// complete on rank 0 only.
EvaluationResult evaluate(const CustomerTable& table, const std::vector<std::uint8_t>& learned_policy,
                          const EvaluationSettings& settings,
                          const Communicator& comm, const EvaluationRun& run = {});

// Out-of-fold targeting scores of the held-out customers (kScorers), for one fitting/held-out
// split: exposed for the leakage test.
std::vector<ScoreRow> score_held_out(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                     const std::vector<std::size_t>& held_out, const EvaluationSettings& settings,
                                     int fold);

// The status-quo score's fold-stratified AUC over the cross-validation folds alone (no refits,
// no policies): what a sweep trial records when its options change the model. folds 0 when
// the customers have no folds.
FoldAuc status_quo_auc(const CustomerTable& table, const EvaluationSettings& settings);

// The call list from the fit on the fitting customers (settings.fit_on) alone: every open lead
// at its state on the export date, before the refits (low95 = high95 = the estimate).
std::vector<CallListRow> call_list_at_export(const CustomerTable& table, const EvaluationSettings& settings);

}  // namespace reinforcer
