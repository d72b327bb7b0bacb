#pragma once
// The engagement-score funnel's model, read from an INI file (configs/engagement.ini, compiled
// in; docs/ENGAGEMENT.md): per stage (Cold, Warm, Hot) and action (email, webinar, call) the
// chance the action moves the score and the gain when it does, the actions' costs, the
// discount, the stage thresholds, the start scores and the grid the score lives on.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "reinforcer/env/action.hpp"

namespace reinforcer {

enum class EngagementStage : std::uint8_t { cold, warm, hot };
inline constexpr std::size_t kEngagementStages = 3;
inline constexpr std::array<std::string_view, kEngagementStages> kEngagementStageNames = {"cold", "warm", "hot"};

// The funnel's three actions, and the sales actions (env/action.hpp) they are taken as, so the
// tabular trainer runs on this environment unchanged: email = message, webinar = demo (a
// webinar or demo invitation), call = call. The other sales actions are unavailable here.
inline constexpr std::size_t kEngagementActions = 3;
inline constexpr std::array<std::string_view, kEngagementActions> kEngagementActionNames = {"email", "webinar", "call"};
inline constexpr std::array<Action, kEngagementActions> kEngagementActionOf = {Action::message, Action::demo, Action::call};
// The engagement action (0..2) a sales action is; -1 for an unavailable one.
inline constexpr int engagement_action_of(Action a) {
  switch (a) {
    case Action::message: return 0;
    case Action::demo: return 1;
    case Action::call: return 2;
    default: return -1;
  }
}

struct EngagementEffect {
  double success = 0;  // P(the action moves the score at all)
  double gain = 0;     // mean move when it does
  double spread = 0;   // half-width: the move is uniform on [gain - spread, gain + spread]
};

struct EngagementConfig {
  double gamma = 0.95;
  int horizon = 200;  // most actions per simulated episode
  int grid = 201;     // score grid points
  double warm_at = 0.33, hot_at = 0.66;
  double start_low = 0.0, start_high = 0.3;
  std::array<double, kEngagementActions> cost{};
  std::array<std::array<EngagementEffect, kEngagementActions>, kEngagementStages> effect{};  // [stage][action]
  std::string name;  // where it was read from
  std::string text;  // the text it was parsed from, echoed into results
};

// Parses INI text; every key must be given once. UsageError, one line, naming `name`, the line
// (or section and key) and the fix, for a malformed line, an unknown section or key, a missing
// or repeated key, or a value that is not a number or out of range.
EngagementConfig parse_engagement_config(const std::string& text, const std::string& name);
// The same from a file (PathError if it cannot be read).
EngagementConfig load_engagement_config(const std::string& path);
// configs/engagement.ini as shipped (compiled in).
const char* shipped_engagement_config_text();
EngagementConfig shipped_engagement_config();

}  // namespace reinforcer
