#include "reinforcer/eval/learner_quality.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer {
namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (at - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::vector<std::uint8_t> constant_policy(const FunnelModel& m, Action a) {
  return std::vector<std::uint8_t>(m.states(), static_cast<std::uint8_t>(a));
}

}  // namespace

BestConstant best_constant_policy(const FunnelFit& fit) {
  BestConstant best{Action::wait, -1e300};
  for (std::size_t a = 0; a < kActions; ++a) {
    const double v = mean_start_value(
        fit.model, evaluate_policy(fit.model, fit.gamma, constant_policy(fit.model, static_cast<Action>(a))), fit.starts);
    if (v > best.value) best = BestConstant{static_cast<Action>(a), v};
  }
  return best;
}

LearnerQuality judge_learned_policy(const CustomerTable& table, const FunnelFit& fit, const HazardOptions& hazards,
                                    const std::vector<std::uint8_t>& policy, int refits, std::uint64_t seed,
                                    const Communicator& comm, int threads, const BestConstant* known) {
  const FunnelModel& m = fit.model;
  const double reward = m.config().subscription_reward;
  const std::vector<double> learned = evaluate_policy(m, fit.gamma, policy);
  LearnerQuality q;
  const std::array<const char*, 3> names = {"all", "outbound", "inbound"};
  for (std::size_t g = 0; g < names.size(); ++g) {
    RegretRow row;
    row.cohort = names[g];
    std::vector<double> per_start;
    for (std::size_t i = 0; i < fit.starts.size(); ++i) {
      if (g > 0 && static_cast<std::size_t>(fit.cohorts[i]) != g - 1) continue;
      const std::uint32_t s0 = m.state_index(fit.starts[i].segment, fit.starts[i].progress, 0);
      row.optimum += fit.dp.value[s0];
      row.learned += learned[s0];
      per_start.push_back(fit.dp.value[s0] - learned[s0]);
    }
    row.customers = static_cast<std::int64_t>(per_start.size());
    if (row.customers == 0) continue;
    row.optimum /= static_cast<double>(row.customers);
    row.learned /= static_cast<double>(row.customers);
    row.regret = regret_share(row.optimum, row.learned, reward);
    row.p95_start_regret = quantile(per_start, 0.95);
    q.regret.push_back(row);
  }
  // The best constant policy on the fit; the difference is then taken paired in each refit.
  const BestConstant found = known ? *known : best_constant_policy(fit);
  const Action best = found.action;
  q.best_constant_value = found.value;
  q.best_constant = std::string(kActionNames[static_cast<std::size_t>(best)]);
  q.learned_minus_best_constant = mean_start_value(m, learned, fit.starts) - q.best_constant_value;
  q.refits = refits;
  std::vector<std::uint8_t> cohort(fit.fitting.size());
  for (std::size_t k = 0; k < fit.fitting.size(); ++k) cohort[k] = static_cast<std::uint8_t>(fit.cohorts[k]);
  std::vector<double> diffs(static_cast<std::size_t>(std::max(0, refits)));
  // Per refit and cohort (all, outbound, inbound): the policy's regret to the refit's optimum.
  const std::size_t groups = names.size();
  std::vector<double> refit_regret(diffs.size() * groups, 0.0);
  const std::size_t segments = m.segments();
  const std::size_t block = static_cast<std::size_t>(m.horizon()) * kProgressStates;  // one segment's states
  if (policy.size() != segments * block) throw std::logic_error("judge_learned_policy: the policy is not the model's");
  const std::vector<std::uint8_t> constant_block(block, static_cast<std::uint8_t>(best));
#pragma omp parallel num_threads(std::max(1, threads))
  {
  FunnelModel one{0, {}, m.config()};
  DpSolution dp;
#pragma omp for schedule(dynamic)
  for (int b = 0; b < refits; ++b) {
    if (b % comm.size() != comm.rank()) continue;
    const std::vector<std::uint32_t> pick =
        bootstrap_sample_stratified(cohort, splitmix64(seed ^ 0x1EA54EDULL), static_cast<std::uint64_t>(b));
    std::vector<std::size_t> sample;
    std::vector<StartState> starts;
    for (std::uint32_t k : pick) sample.push_back(fit.fitting[k]), starts.push_back(fit.starts[k]);
    const HazardEstimates h = estimate_hazards(table, sample, fit.encoder, hazards);
    // The refit is judged segment by segment in one reused one-segment model (segments are
    // independent), so no table of the whole state space is built per refit: per (segment,
    // progress), the week-0 values of the learned policy, the best constant one and the
    // refit's optimum.
    std::vector<double> learned0(segments * kProgressStates), constant0(learned0.size()), optimum0(learned0.size());
    for (std::size_t sg = 0; sg < segments; ++sg) {
      one.assign_segment(h, static_cast<std::size_t>(m.segment_nodes()[sg]), m.config());
      const auto l = evaluate_segment_policy(one, fit.gamma, 0, policy.data() + sg * block);
      const auto c = evaluate_segment_policy(one, fit.gamma, 0, constant_block.data());
      solve_funnel_values(one, fit.gamma, dp);
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        learned0[sg * kProgressStates + p] = l[p], constant0[sg * kProgressStates + p] = c[p];
        optimum0[sg * kProgressStates + p] = dp.value[one.state_index(0, static_cast<Progress>(p), 0)];
      }
    }
    auto at = [](const std::vector<double>& v, const StartState& st) {
      return v[static_cast<std::size_t>(st.segment) * kProgressStates + st.progress];
    };
    // Means over the starts in draw order, as mean_start_value adds them.
    double learned_sum = 0, constant_sum = 0;
    for (const StartState& st : starts) learned_sum += at(learned0, st);
    for (const StartState& st : starts) constant_sum += at(constant0, st);
    const double n_starts = static_cast<double>(starts.size());
    diffs[static_cast<std::size_t>(b)] = starts.empty() ? 0.0 : learned_sum / n_starts - constant_sum / n_starts;
    for (std::size_t g = 0; g < groups; ++g) {
      double v_star = 0, v = 0, n = 0;
      for (std::size_t i = 0; i < pick.size(); ++i) {
        if (g > 0 && static_cast<std::size_t>(fit.cohorts[pick[i]]) != g - 1) continue;
        v_star += at(optimum0, starts[i]), v += at(learned0, starts[i]), n += 1;
      }
      refit_regret[static_cast<std::size_t>(b) * groups + g] = n > 0 ? regret_share(v_star / n, v / n, reward) : 0.0;
    }
  }
  }
  comm.sum_in_place(diffs);  // each refit was computed on one rank; the others hold 0
  comm.sum_in_place(refit_regret);
  for (RegretRow& row : q.regret) {
    if (refits <= 0) break;
    const auto g = static_cast<std::size_t>(std::find(names.begin(), names.end(), row.cohort) - names.begin());
    std::vector<double> r(diffs.size());
    for (std::size_t b = 0; b < r.size(); ++b) r[b] = refit_regret[b * groups + g];
    const Interval ci = percentile_interval(r);
    row.regret_low95 = ci.low, row.regret_high95 = ci.high;
  }
  if (refits > 0) {
    const Interval ci = percentile_interval(diffs);
    q.low95 = ci.low, q.high95 = ci.high;
  } else {
    q.low95 = q.high95 = std::nan("");
  }
  return q;
}

}  // namespace reinforcer
