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

}  // namespace reinforcer
