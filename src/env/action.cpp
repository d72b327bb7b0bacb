#include "reinforcer/env/action.hpp"

namespace reinforcer {

std::optional<Action> action_named(std::string_view name) {
  for (std::size_t a = 0; a < kActions; ++a)
    if (kActionNames[a] == name) return static_cast<Action>(a);
  return std::nullopt;
}

std::string action_list() {
  std::string s;
  for (auto n : kActionNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::string milestones_text(Progress p) {
  std::string s;
  for (std::size_t m = 0; m < kStepMilestones; ++m)
    if (p >> m & 1u) s += (s.empty() ? "" : "+") + std::string(kMilestoneKeys[m]);
  return s.empty() ? "none" : s;
}

}  // namespace reinforcer
