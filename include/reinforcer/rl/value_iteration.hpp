#pragma once
// The fitted funnel is small and known, so dynamic programming solves it exactly (backward
// induction over the finite horizon): the referee for Q-learning, and exact policy values.
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

struct DpSolution {
  std::vector<double> q;              // states x kActions, row-major (empty from solve_funnel_values)
  std::vector<double> value;          // per state: max_a q
  std::vector<std::uint8_t> policy;   // per state: argmax (lowest action on ties)
};

// Actions as bits (bit a = Action a) for an optimum over some of them; wait is always allowed.
inline constexpr unsigned kAllActions = (1u << kActions) - 1;

DpSolution solve_funnel(const FunnelModel& model, double gamma);
// The same into `out`, reusing its buffers (every element is overwritten). With `allowed`,
// the optimum over those actions and wait (q of any other action is -infinity): the best a
// sales team can do that uses only these actions.
void solve_funnel(const FunnelModel& model, double gamma, DpSolution& out, unsigned allowed = kAllActions);
// Values and policy only (q left empty): what training holds while it runs, without the
// 56 bytes a state of q (32 MB on the real export); optimal_q gives q back when it is written.
DpSolution solve_funnel_values(const FunnelModel& model, double gamma);
// The same into `out`, reusing its buffers (what a caller that needs only the policy or the
// values runs per segment), optionally over `allowed` as solve_funnel.
void solve_funnel_values(const FunnelModel& model, double gamma, DpSolution& out, unsigned allowed = kAllActions);
// Q* of every state and action from the optimal values, bit-identical to solve_funnel's q:
// each action's value depends only on the next week's final values.
std::vector<double> optimal_q(const FunnelModel& model, double gamma, const std::vector<double>& value);

// Exact value of a deterministic policy (one action per state).
std::vector<double> evaluate_policy(const FunnelModel& model, double gamma, const std::vector<std::uint8_t>& policy);

// Exact values at week 0, per progress, of one segment under a deterministic policy given for
// that segment alone as policy[week * kProgressStates + progress] (the layout of a segment's
// block of DpSolution::policy): another model's policy judged in this one.
std::array<double, kProgressStates> evaluate_segment_policy(const FunnelModel& model, double gamma, std::int32_t segment,
                                                            const std::uint8_t* policy);

// Mean of value[state at week 0] over start states.
double mean_start_value(const FunnelModel& model, const std::vector<double>& value, const std::vector<StartState>& starts);

// The same backward induction over a window of weeks [from_week, from_week + weeks) of one
// segment (the model's horizon must reach its end): the decision for a lead at an arbitrary
// week since t0, valuing only what happens within the window. It equals solve_funnel on the
// model cut at horizon from_week + weeks, at from_week.
struct WindowSolution {
  using PerAction = std::array<std::array<double, kActions>, kProgressStates>;
  std::array<double, kProgressStates> value{};          // max_a q
  std::array<std::uint8_t, kProgressStates> policy{};   // argmax (lowest action on ties)
  PerAction q{};
  // P(subscribing within the window): acting a this week then following the policy; under
  // the policy; under the status quo throughout (wait every week).
  PerAction subscribe_after{};
  std::array<double, kProgressStates> subscribe{}, subscribe_status_quo{};
  // Q(a) - Q(wait) = -cost(a) + s * gain_per_success[p][a] for a success probability s of a
  // this week (the later weeks as the policy): the break-even success is cost / gain.
  PerAction gain_per_success{};
};
WindowSolution solve_window(const FunnelModel& model, double gamma, std::int32_t segment, int from_week, int weeks);
// One week of that induction, backward: from next week's values to the window's end (zero past
// it), this week's. solve_window is these weeks from the window's last (last = true) to its
// first, which is recorded into `first` -- so a caller may share the weeks two windows have
// alike (the same band's rows from the same values give the same bits).
struct WindowWeek {
  std::array<double, kProgressStates> value{}, subscribe{}, subscribe_status_quo{};
};
WindowWeek solve_window_week(const FunnelModel& model, double gamma, std::int32_t segment, int week, bool last,
                             const WindowWeek& next, WindowSolution* first = nullptr);

// P(subscribing within the window) under the status quo, per progress at from_week: the
// status-quo part of solve_window alone (cheap enough for every bootstrap refit).
std::array<double, kProgressStates> status_quo_subscription(const FunnelModel& model, std::int32_t segment,
                                                            int from_week, int weeks);
// One week of that window, backward: from P(subscribing from next week to the window's end) per
// progress (zero past the end), the same from `week`. status_quo_subscription is these weeks
// from the window's last to its first, so a caller may share the weeks two windows have alike
// (the same band's rows from the same values give the same bits).
std::array<double, kProgressStates> status_quo_subscription_week(const FunnelModel& model, std::int32_t segment, int week,
                                                                 const std::array<double, kProgressStates>& next);

}  // namespace reinforcer
