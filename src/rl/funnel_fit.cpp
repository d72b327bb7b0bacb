#include "reinforcer/rl/funnel_fit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/parallel/sharding.hpp"
#include "reinforcer/rl/q_learning.hpp"

namespace reinforcer {

std::vector<std::size_t> select_fitting(const CustomerTable& table, const std::string& fit_on) {
  std::vector<std::size_t> out;
  int fold = -1;
  if (fit_on.rfind("except-fold:", 0) == 0) {
    const std::string f = fit_on.substr(12);
    if (f.empty() || f.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("--fit-on: '" + fit_on + "': give except-fold:I with a fold number I");
    fold = std::stoi(f);
    int max_fold = -1;
    for (const auto& c : table.customers) max_fold = std::max<int>(max_fold, c.fold);
    if (fold > max_fold)
      throw UsageError("--fit-on: fold " + std::to_string(fold) + " does not exist (folds 0.." + std::to_string(max_fold) + ")");
  } else if (fit_on != "all" && fit_on != "train") {
    throw UsageError("--fit-on: '" + fit_on + "' is not all, train or except-fold:I");
  }
  for (std::size_t i = 0; i < table.customers.size(); ++i) {
    const Customer& c = table.customers[i];
    if (c.cohort == Cohort::undated) continue;
    if (fit_on == "train" && c.split != Split::train) continue;
    if (fold >= 0 && (c.fold == fold || c.fold < 0)) continue;
    out.push_back(i);
  }
  if (out.empty()) throw UsageError("--fit-on " + fit_on + " selects no dated customers");
  return out;
}

std::vector<std::uint8_t> learned_policy(const std::vector<double>& q, const std::vector<std::int64_t>& visits,
                                         std::size_t stride) {
  if (visits.size() != q.size()) throw std::logic_error("learned_policy: visits and Q-table differ in size");
  std::vector<std::uint8_t> policy(q.size() / stride, static_cast<std::uint8_t>(Action::wait));
  for (std::size_t s = 0; s < policy.size(); ++s) {
    int best = -1;
    for (std::size_t a = 0; a < kActions; ++a) {
      if (visits[s * stride + a] == 0) continue;
      if (best < 0 || q[s * stride + a] > q[s * stride + static_cast<std::size_t>(best)]) best = static_cast<int>(a);
    }
    if (best >= 0) policy[s] = static_cast<std::uint8_t>(best);
  }
  return policy;
}

double regret_share(double optimum, double value, double reward) {
  return (optimum - value) / std::max(std::fabs(optimum), 0.01 * reward);
}

double FunnelFit::regret_of(const std::vector<double>& q, const std::vector<std::int64_t>& visits) const {
  const double learned = mean_start_value(model, evaluate_policy(model, gamma, learned_policy(q, visits, kQStride)), starts);
  return regret_share(dp_start_value(), learned, model.config().subscription_reward);
}

std::vector<std::vector<std::uint32_t>> fitting_shards(const CustomerTable& table, const FunnelFit& fit,
                                                       int first_worker, int count, int workers,
                                                       bool replicate_subscribers) {
  return fitting_shards(table, fit.fitting, first_worker, count, workers, replicate_subscribers);
}

std::vector<std::vector<std::uint32_t>> fitting_shards(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                                                       int first_worker, int count, int workers,
                                                       bool replicate_subscribers) {
  std::vector<std::int64_t> ids;
  std::vector<bool> positive;
  for (std::size_t i : fitting)
    ids.push_back(table.customers[i].id), positive.push_back(replicate_subscribers && table.customers[i].subscribed);
  std::vector<std::vector<std::uint32_t>> out;
  for (int t = 0; t < count; ++t) {
    out.push_back({});
    for (std::uint32_t k : worker_shard(ids, positive, first_worker + t, workers))
      if (!subscribed_by_t0(table.customers[fitting[k]])) out.back().push_back(k);  // no prospect: no start
  }
  return out;
}

std::vector<FunnelShard> funnel_shards(const CustomerTable& table, const FunnelFit& fit,
                                       const std::vector<std::vector<std::uint32_t>>& own, double oversample) {
  std::vector<std::uint32_t> subscribers;
  for (std::size_t k = 0; k < fit.fitting.size(); ++k) {
    const Customer& c = table.customers[fit.fitting[k]];
    if (c.subscribed && !subscribed_by_t0(c)) subscribers.push_back(static_cast<std::uint32_t>(k));
  }
  std::vector<FunnelShard> out;
  for (const auto& o : own) out.push_back(FunnelShard{o, subscribers, FunnelShard::threshold_of(oversample)});
  return out;
}

FunnelPlan plan_funnel(const CustomerTable& table, std::vector<std::size_t> fitting, const FeatureMask& mask) {
  const SegmentEncoder encoder(table, fitting, mask);
  FunnelPlan plan;
  for (const SegmentNode& n : encoder.nodes()) plan.segments += n.leaf;  // as FunnelModel::from_estimates
  plan.fitting = std::move(fitting);
  return plan;
}

FunnelFit fit_funnel(const CustomerTable& table, std::vector<std::size_t> fitting, const FeatureMask& mask,
                     const HazardOptions& hazard_options, const FunnelConfig& config, double gamma) {
  SegmentEncoder encoder(table, fitting, mask);
  HazardEstimates hazards = estimate_hazards(table, fitting, encoder, hazard_options);
  FunnelModel model = FunnelModel::from_estimates(encoder, hazards, config);
  std::vector<StartState> starts;
  std::vector<CustomerHistory> histories;
  std::vector<Cohort> cohorts;
  starts.reserve(fitting.size());
  for (std::size_t i : fitting) {
    const Customer& c = table.customers[i];
    const std::int32_t node = encoder.node_of(c, table);
    CustomerHistory h = history_of(c, node, hazard_options);
    h.node = model.segment_of_node(node);
    starts.push_back(StartState{h.node, h.start});
    histories.push_back(h);
    cohorts.push_back(c.cohort);
  }
  DpSolution dp = solve_funnel_values(model, gamma);  // q only when written (optimal_q)
  return FunnelFit{std::move(fitting), std::move(encoder), std::move(hazards), std::move(model), std::move(starts),
                   std::move(histories), std::move(cohorts), std::move(dp), gamma};
}

}  // namespace reinforcer
