#pragma once
// Break-even answers that do not hang on the assumed success probabilities: for each cohort,
// stage (milestones reached) and action, the smallest chance of reaching its milestone at
// which acting this week beats waiting, the reward (and cost) at which it pays at the
// configured chance, and the size of a randomised test that would detect that lift.
// "Acting this week" is a one-week deviation from the status quo: act now, wait afterwards.
// Its gain over waiting is then linear in the success probability s,
//   Q(act) - Q(wait) = -cost + s * G,
//   G = sum_q D(q) [W(q + milestone) - W(q)],
// with D the status quo's distribution of the week's milestones and W(q) = P_sub(q) R +
// (1 - P_sub(q)) gamma V_wait(q, next week); so s* = cost / G exactly, R* = cost / (s g),
// cost* = s G, g = G / R (waiting costs nothing, so G is proportional to R).
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

// Stages with fewer fitting customers are listed but do not set the grids or the headline.
inline constexpr std::int64_t kBreakEvenMinCustomers = 20;

struct BreakEvenRow {
  std::string cohort, stage, action;
  std::int32_t progress = 0;
  std::int64_t customers = 0;       // fitting customers who start at this stage
  double gain_per_success = 0;      // G, reward units per customer (mean over them)
  double configured_success = 0;    // success.<action>
  double break_even_success = std::numeric_limits<double>::infinity();  // s*; inf: never pays
  double break_even_reward = std::numeric_limits<double>::infinity();   // R* at the configured s
  double break_even_cost = 0;       // cost* at the configured s and reward
  double milestone_base = 0;        // P(its milestone this week | status quo)
  double subscription_base = 0;     // P(subscribe within the horizon | status quo)
  double n_per_arm_milestone = std::numeric_limits<double>::infinity();     // to detect s*
  double n_per_arm_subscription = std::numeric_limits<double>::infinity();
  bool pays() const { return configured_success > break_even_success; }
};

// Customers per arm of a two-sided test of two proportions (alpha 0.05, power 80%).
double two_proportion_sample_size(double p0, double p1);

// A funnel's segments as the answers below visit them: one whole model, or one segment at a
// time refilled from estimated hazards (nothing the size of the whole state space is held).
class FunnelSegments {
 public:
  // `model`'s segment k is the funnel's segment first + k.
  using Visit = std::function<void(const FunnelModel& model, std::size_t first)>;
  virtual ~FunnelSegments() = default;
  virtual std::size_t segments() const = 0;
  virtual const FunnelConfig& config() const = 0;
  // Every segment once, in order, under `config` (null: the funnel's own).
  virtual void visit(const FunnelConfig* config, const Visit& f) const = 0;
};
class WholeFunnel final : public FunnelSegments {
 public:
  explicit WholeFunnel(const FunnelModel& model) : model_(model) {}
  std::size_t segments() const override { return model_.segments(); }
  const FunnelConfig& config() const override { return model_.config(); }
  void visit(const FunnelConfig* config, const Visit& f) const override;

 private:
  const FunnelModel& model_;
};
class StreamedFunnel final : public FunnelSegments {
 public:
  // Segment k is node nodes[k] of the hazards' tree (as FunnelModel::assign_segment fills it).
  StreamedFunnel(const HazardEstimates& hazards, const std::vector<std::int32_t>& nodes, FunnelConfig config)
      : hazards_(hazards), nodes_(nodes), config_(std::move(config)) {}
  std::size_t segments() const override { return nodes_.size(); }
  const FunnelConfig& config() const override { return config_; }
  void visit(const FunnelConfig* config, const Visit& f) const override;

 private:
  const HazardEstimates& hazards_;
  const std::vector<std::int32_t>& nodes_;
  FunnelConfig config_;
};

// Rows for every cohort (starts' cohort: 0 outbound, 1 inbound) x stage holding a start x
// action with a milestone not yet reached, at week 0.
std::vector<BreakEvenRow> break_even_table(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                           const std::vector<std::uint8_t>& cohort_of_start);
inline std::vector<BreakEvenRow> break_even_table(const FunnelModel& model, double gamma, const std::vector<StartState>& starts,
                                                  const std::vector<std::uint8_t>& cohort_of_start) {
  return break_even_table(WholeFunnel(model), gamma, starts, cohort_of_start);
}

// The optimal (DP) policy's share of each cohort's start states where it acts in week 0, as one
// assumption moves over a grid: every action's success probability ("success"), or the
// subscription reward ("reward"), the rest as configured. The DP is solved at each point.
struct ActionShareRow {
  std::string cohort, axis;
  double value = 0;             // the success probability or the reward at this point
  double share_acting = 0;      // of the cohort's start states
  std::int64_t customers = 0;
};
std::vector<ActionShareRow> action_share_grid(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                              const std::vector<std::uint8_t>& cohort_of_start, const std::string& axis,
                                              const std::vector<double>& values);

// A grid that spans [lo, hi] with room on both sides: lo/4 .. hi*4 by factors of 2, capped at
// `cap`; empty if lo is not positive and finite.
std::vector<double> spanning_grid(double lo, double hi, double cap);

// The break-even table and the DP's action share over a success grid and a reward grid that
// span its finite break-evens (stages of >= kBreakEvenMinCustomers; the reward grid also the
// configured reward), so a flip point is read inside a grid, never extrapolated.
struct BreakEvenAnswers {
  std::vector<BreakEvenRow> table;
  std::vector<ActionShareRow> action_share;
};
BreakEvenAnswers break_even_answers(const FunnelSegments& funnel, double gamma, const std::vector<StartState>& starts,
                                    const std::vector<std::uint8_t>& cohort_of_start);

}  // namespace reinforcer
