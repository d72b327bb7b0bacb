#pragma once
// The pieces of `evaluate` that run as independent tasks (folds, bootstrap refits).
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/eval/policy_outcomes.hpp"
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer::evaluation {

struct FoldPlan {
  std::vector<std::size_t> fitting, held_out;
};
// The last week since t0 of a customer's follow-up (to the export date, within the horizon):
// the window in which an outcome counts as observed.
int follow_up_last_week(const Customer& c, const HazardOptions& o, int horizon);

// cv: one plan per fold; val: fit on train, hold out val; test: fit on train + val, hold out test.
std::vector<FoldPlan> plan_folds(const CustomerTable& table, const std::string& split);

struct HeldOutPrediction {
  std::size_t customer = 0;  // index into the table
  ScoreRow score;
  // Calibration, per event: whether the customer was at risk of it after t0; if so the
  // historical process's probability of it within the customer's follow-up, and whether it
  // happened there (both 0 when not at risk).
  std::array<std::uint8_t, kEvents> at_risk{};
  std::array<double, kEvents> predicted{};
  std::array<std::uint8_t, kEvents> observed{};
};
std::vector<HeldOutPrediction> run_fold(const CustomerTable& table, const FoldPlan& plan, const EvaluationSettings& s,
                                        int fold);

// Policies compared in the model fitted on the fitting customers (resampled when replicate >= 0).
inline const std::array<const char*, 7> kPolicies = {"learned", "optimal", "random", "always_wait",
                                                     "always_message", "textbook", "historical"};
inline const std::array<const char*, 4> kPolicyMetrics = {"subscriptions_per_1000", "first_calls_per_1000",
                                                          "reward_per_customer", "cost_per_acquisition"};
using ActionTable = std::array<std::array<double, kActions>, kProgressStates>;  // [progress][action]
// A call-list lead as a refit scores it: its segment node and state at the export date, and
// whether the main fit put it in the "act" section (only those need the refit's gain).
struct LeadKey {
  std::int32_t node = 0;
  Progress progress = 0;
  std::int32_t week = 0;
  bool act = false;
};
struct ModelReplicate {
  std::array<std::array<double, 4>, 7> policy{};  // [policy][metric]
  ActionTable impact{};      // change in P(subscribe) from acting this week rather than waiting
  ActionTable action_mix{};  // share of the weeks the optimal policy spends in each cell
  std::vector<double> lead_p_subscribe, lead_gain;  // per lead, as LeadScore
};
// What every model refit shares, computed once: the leaf segments (segment -> node, as
// FunnelModel::from_estimates numbers them), each fitting customer's start state and cohort,
// and the learned policy per state of the leaves' model (empty: only the optimum is evaluated).
struct RefitPlan {
  std::vector<std::int32_t> leaves;
  std::vector<StartState> starts;    // per position in `fitting`
  std::vector<std::uint8_t> cohort;  // per position in `fitting`: the bootstrap's strata
  std::vector<std::uint8_t> learned;
  bool compare_learned = true;  // false: only the optimum is evaluated (the sensitivity grid)
};
RefitPlan plan_refits(const CustomerTable& table, const std::vector<std::size_t>& fitting, const SegmentEncoder& encoder,
                      const EvaluationSettings& s, std::vector<std::uint8_t> learned);

// One thread's buffers, reused from refit to refit and segment to segment: a refit builds,
// solves and evaluates one segment at a time in `model`, so it holds nothing the size of the
// state space. Every buffer is overwritten before it is read.
struct RefitWorkspace {
  FunnelModel model{0, {}, FunnelConfig{}}, historical{0, {}, FunnelConfig{}}, lead_model{0, {}, FunnelConfig{}};
  DpSolution dp;
  SegmentOutcomes outcomes, optimal;  // a segment's start weeks under a policy; the optimum's
  std::vector<std::uint32_t> picks, multiplicity;
  std::vector<std::uint32_t> start_cell;  // per draw: segment * kProgressStates + progress
  std::vector<double> mix_weight, segment_weight, week0_subscribe;
  std::vector<PolicyOutcome> start_outcome;  // [policy][segment][progress] at week 0
  void clear();
};

// The policies in the model fitted on the fitting customers (a stratified bootstrap resample
// of them when replicate >= 0), and the leads' scores in the call list's model.
ModelReplicate run_model_replicate(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                   const SegmentEncoder& encoder, const RefitPlan& plan, const EvaluationSettings& s,
                                   std::int64_t replicate, const std::vector<LeadKey>& leads, RefitWorkspace& ws);
// The same from estimated hazards under `config`; the starts are plan.starts at `picks`
// (positions in the fitting customers, in draw order), or all of them once when null. The leads
// come in node order (each node's model is built once).
ModelReplicate replicate_from_hazards(const HazardEstimates& hazards, const RefitPlan& plan, const EvaluationSettings& s,
                                      const FunnelConfig& config, const std::vector<std::uint32_t>* picks,
                                      const std::vector<LeadKey>& leads, RefitWorkspace& ws);
// The call list from the fit on all fitting customers: every open lead at its state on the
// export date. Leads in customer order (a row each, made by CallListRowMaker once the refits are
// in: a row's text is about 500 bytes, a planned lead 80); keys in node order (each node's
// model is built once, here and in every refit), row_of_key[k] the row of key k. Only the rank
// that writes the list keeps its leads. The leads are scored a share per rank of `comm`, and
// every rank gets every score.
struct PlannedLead {
  const Customer* customer;
  std::int32_t node;
  LeadState state;
  LeadScore score;
};
struct CallListPlan {
  std::vector<PlannedLead> leads;
  std::vector<LeadKey> keys;
  std::vector<std::uint32_t> row_of_key;
};
// Targeting per cohort and scorer from the out-of-fold scores rank 0 holds in r.scores (rank 0
// fills r's targeting tables; every rank of `comm` computes a share of the replicates).
void build_targeting(EvaluationResult& r, const EvaluationSettings& s, const Communicator& comm);

CallListPlan plan_call_list(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                            const SegmentEncoder& encoder, const EvaluationSettings& s, const Communicator& comm,
                            bool keep_leads = true);
// Planned leads as the call list's rows (each interval at the point estimate until filled in);
// a node's segment text is made once (a million leads share a few thousand nodes).
class CallListRowMaker {
 public:
  CallListRowMaker(const CustomerTable& table, const SegmentEncoder& encoder, const EvaluationSettings& s)
      : table_(table), encoder_(encoder), s_(s) {}
  CallListRow operator()(const PlannedLead& lead);

 private:
  const CustomerTable& table_;
  const SegmentEncoder& encoder_;
  const EvaluationSettings& s_;
  std::unordered_map<std::int32_t, std::string> segment_of_node_;
};

// The funnel for the call list (horizon kCallListHorizon, every node of the tree a segment).
FunnelModel call_list_model(const SegmentEncoder& encoder, const HazardEstimates& hazards, const FunnelConfig& config);
// The optimal policy under each (success scale, reward scale) of the grid; and the action-impact range.
std::vector<SensitivityRow> run_sensitivity(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                            const SegmentEncoder& encoder, const RefitPlan& plan, const EvaluationSettings& s,
                                            ActionTable& impact_low, ActionTable& impact_high, RefitWorkspace& ws);
// Expected share of the weeks (over the starts, to the horizon) the optimal policy spends in
// each (progress, action); the shares sum to 1.
ActionTable optimal_action_mix(const FunnelModel& model, const DpSolution& dp, const std::vector<StartState>& starts);

}  // namespace reinforcer::evaluation
