#pragma once
// The sales actions the agent chooses among, their costs and the milestone each targets.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reinforcer/data/crm_schema.hpp"

namespace reinforcer {

enum class Action : std::uint8_t { message, call, demo, survey, signup_nudge, account_manager, wait };
inline constexpr std::size_t kActions = 7;
inline constexpr std::array<std::string_view, kActions> kActionNames = {
    "message", "call", "demo", "survey", "signup", "account_manager", "wait"};

// Milestones before subscription, as bits of a progress mask (5 bits: 32 progress states).
inline constexpr std::size_t kStepMilestones = 5;
inline constexpr std::size_t kProgressStates = 1u << kStepMilestones;
using Progress = std::uint8_t;

// The milestone an action targets; none for wait. A message raises the first call's hazard
// (success.message: the chance of a first call).
inline constexpr std::optional<Milestone> target_of(Action a) {
  switch (a) {
    case Action::message:
    case Action::call: return Milestone::first_call;
    case Action::demo: return Milestone::demo;
    case Action::survey: return Milestone::survey;
    case Action::signup_nudge: return Milestone::platform_signup;
    case Action::account_manager: return Milestone::account_manager;
    default: return std::nullopt;
  }
}

struct ActionCosts {
  std::array<double, kActions> cost{1, 5, 10, 2, 3, 20, 0};
};

// Index of an action by name; nullopt if unknown.
std::optional<Action> action_named(std::string_view name);
std::string action_list();  // "message, call, ..." for messages
std::string milestones_text(Progress p);  // "first_call+demo"; "none"

}  // namespace reinforcer
