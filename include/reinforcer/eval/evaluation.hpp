#pragma once
// `reinforcer evaluate`: cross-validated targeting on real outcomes, policies compared in the
// fitted funnel with bootstrap refits, calibration of the simulator, sensitivity to the
// action-effect assumptions, action impact, descriptive tables and the call list.
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/eval/descriptive.hpp"
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
};

struct TargetingRow { std::string scorer, cohort, metric; double estimate, low95, high95; std::int64_t customers, subscribers; };
struct LiftPoint { std::string scorer, cohort; double fraction, captured; };
struct ScoreRow { std::int64_t id; std::int32_t fold; std::string cohort; std::int8_t subscribed; double learned, segment_rate, cohort_rate, random; };
struct PolicyRow { std::string policy, metric; double estimate, low95, high95; std::int64_t customers; };
struct PolicyDifferenceRow { std::string policy, metric; double difference, low95, high95; };
struct CalibrationRow { std::string cohort, event; std::int64_t customers; double predicted, observed, observed_low95, observed_high95; };
struct SensitivityRow { double success_scale, reward_scale, reward_per_customer, subscriptions_per_1000; std::array<double, kActions> share; };
struct ActionImpactRow { std::int32_t progress; std::string milestones, action; double delta, low95, high95, sensitivity_low, sensitivity_high; };
struct ActionMixRow { std::int32_t progress; std::string milestones, action; double share, low95, high95; };
struct CallListRow { std::int64_t id; std::string cohort, segment, stage, flag; double p_subscribe, low95, high95, expected_value; std::string next_action; };

struct EvaluationResult {
  std::vector<ScoreRow> scores;
  std::vector<TargetingRow> targeting;
  std::vector<LiftPoint> lift_curve;
  std::vector<PolicyRow> policies;
  std::vector<PolicyDifferenceRow> policy_differences;
  std::vector<CalibrationRow> calibration;
  std::vector<SensitivityRow> sensitivity;
  std::vector<ActionImpactRow> action_impact;
  std::vector<ActionMixRow> action_mix;
  DescriptiveTables descriptive;
  std::vector<CallListRow> call_list;
  std::int64_t folds = 0;
  std::int64_t undated_set_aside = 0;
};

// The run's learned Q-table must be over the leaf states of the funnel fitted on `fit_on`.
// Every rank calls it; the result is complete on rank 0 only.
EvaluationResult evaluate(const CustomerTable& table, const TrainState& learned, const EvaluationSettings& settings,
                          const Communicator& comm);

// Out-of-fold targeting scores of the held-out customers (learned, segment_rate, cohort_rate,
// random), for one fitting/held-out split: exposed for the leakage test.
std::vector<ScoreRow> score_held_out(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                     const std::vector<std::size_t>& held_out, const EvaluationSettings& settings,
                                     int fold);

}  // namespace reinforcer
