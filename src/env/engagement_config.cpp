#include "reinforcer/env/engagement_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <vector>

#include "reinforcer/core/config_file.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {

extern const char* const kShippedEngagementIni;  // generated from configs/engagement.ini
namespace {

std::string number_text(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", x);
  return b;
}

// One key a file must give: where it goes and the range it must lie in.
struct Key {
  std::string section, key;
  double lo, hi;
  bool lo_open, integer;
  std::function<void(EngagementConfig&, double)> set;
};

std::vector<Key> keys() {
  std::vector<Key> k;
  auto add = [&k](std::string section, std::string key, double lo, double hi, bool lo_open, bool integer,
                  std::function<void(EngagementConfig&, double)> set) {
    k.push_back(Key{std::move(section), std::move(key), lo, hi, lo_open, integer, std::move(set)});
  };
  add("model", "gamma", 0, 1, true, false, [](EngagementConfig& c, double v) { c.gamma = v; });
  add("model", "horizon", 1, 255, false, true, [](EngagementConfig& c, double v) { c.horizon = static_cast<int>(v); });
  add("model", "grid", 3, 2001, false, true, [](EngagementConfig& c, double v) { c.grid = static_cast<int>(v); });
  add("model", "warm_at", 0, 1, true, false, [](EngagementConfig& c, double v) { c.warm_at = v; });
  add("model", "hot_at", 0, 1, true, false, [](EngagementConfig& c, double v) { c.hot_at = v; });
  add("model", "start_low", 0, 1, false, false, [](EngagementConfig& c, double v) { c.start_low = v; });
  add("model", "start_high", 0, 1, false, false, [](EngagementConfig& c, double v) { c.start_high = v; });
  for (std::size_t a = 0; a < kEngagementActions; ++a)
    add("cost", std::string(kEngagementActionNames[a]), 0, 1, false, false, [a](EngagementConfig& c, double v) { c.cost[a] = v; });
  for (std::size_t s = 0; s < kEngagementStages; ++s)
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      const std::string act(kEngagementActionNames[a]), stage(kEngagementStageNames[s]);
      add(stage, act + ".success", 0, 1, false, false, [s, a](EngagementConfig& c, double v) { c.effect[s][a].success = v; });
      add(stage, act + ".gain", -1, 1, false, false, [s, a](EngagementConfig& c, double v) { c.effect[s][a].gain = v; });
      add(stage, act + ".spread", 0, 1, false, false, [s, a](EngagementConfig& c, double v) { c.effect[s][a].spread = v; });
    }
  return k;
}

std::string section_list() {
  std::string s = "[model], [cost]";
  for (auto n : kEngagementStageNames) s += ", [" + std::string(n) + "]";
  return s;
}

std::string keys_of(const std::vector<Key>& all, const std::string& section) {
  std::string s;
  for (const Key& k : all)
    if (k.section == section) s += (s.empty() ? "" : ", ") + k.key;
  return s;
}

}  // namespace

EngagementConfig parse_engagement_config(const std::string& text, const std::string& name) {
  const std::vector<Key> all = keys();
  EngagementConfig c;
  c.name = name;
  c.text = text;
  std::map<std::string, int> given;  // "section.key" -> line
  std::map<std::string, int> seen_sections;
  for (const ConfigSection& section : parse_config_text(text, name)) {
    const bool known = section.name == "model" || section.name == "cost" ||
                       std::find(kEngagementStageNames.begin(), kEngagementStageNames.end(), section.name) != kEngagementStageNames.end();
    if (!known)
      throw UsageError(name + " line " + std::to_string(section.line) + ": unknown section [" + section.name +
                       "]; the sections are " + section_list());
    for (const ConfigEntry& e : section.entries) {
      const std::string where = name + " line " + std::to_string(e.line) + ": [" + section.name + "] " + e.key;
      const auto key = std::find_if(all.begin(), all.end(), [&](const Key& k) { return k.section == section.name && k.key == e.key; });
      if (key == all.end())
        throw UsageError(where + ": unknown key; the keys of [" + section.name + "] are " + keys_of(all, section.name));
      const std::string id = section.name + "." + e.key;
      if (const auto g = given.find(id); g != given.end())
        throw UsageError(where + ": given twice (first on line " + std::to_string(g->second) + "); keep one");
      given[id] = e.line;
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(e.value.c_str(), &end);
      if (e.value.empty() || end != e.value.c_str() + e.value.size() || errno == ERANGE || !std::isfinite(v))
        throw UsageError(where + " = '" + e.value + "': not a number; give " +
                         (key->integer ? "a whole number" : "a decimal number such as 0.05"));
      const bool below = key->lo_open ? v <= key->lo : v < key->lo;
      if (below || v > key->hi || (key->integer && v != std::floor(v)))
        throw UsageError(where + " = " + e.value + " is out of range; give " + (key->integer ? "a whole number" : "a value") +
                         " in " + (key->lo_open ? "(" : "[") + number_text(key->lo) + ", " + number_text(key->hi) + "]");
      key->set(c, v);
    }
  }
  for (const Key& k : all)
    if (!given.count(k.section + "." + k.key))
      throw UsageError(name + ": [" + k.section + "] lacks " + k.key + "; every key must be given (see configs/engagement.ini)");
  auto line_of = [&](const std::string& id) { return name + " line " + std::to_string(given[id]) + ": "; };
  if (c.hot_at <= c.warm_at)
    throw UsageError(line_of("model.hot_at") + "[model] hot_at = " + number_text(c.hot_at) + " must be above warm_at = " +
                     number_text(c.warm_at));
  if (c.start_high < c.start_low)
    throw UsageError(line_of("model.start_high") + "[model] start_high = " + number_text(c.start_high) +
                     " is below start_low = " + number_text(c.start_low) + "; give start_low <= start_high");
  if (c.start_high >= 1)
    throw UsageError(line_of("model.start_high") + "[model] start_high = " + number_text(c.start_high) +
                     " must be below 1 (a score of 1 ends the episode)");
  const double step = 1.0 / (c.grid - 1);
  if (std::ceil(c.start_low / step - 1e-9) > std::floor(c.start_high / step + 1e-9))
    throw UsageError(line_of("model.start_low") + "[model] [start_low, start_high] holds no grid score (grid step " +
                     number_text(step) + "); widen it or raise grid");
  if (c.gamma >= 1)
    for (std::size_t a = 0; a < kEngagementActions; ++a)
      if (c.cost[a] <= 0)
        throw UsageError(line_of("cost." + std::string(kEngagementActionNames[a])) + "[cost] " +
                         std::string(kEngagementActionNames[a]) +
                         " = 0 with gamma = 1: a policy that never reaches 1.0 would cost nothing; give every action a "
                         "positive cost or gamma < 1");
  for (std::size_t s = 0; s < kEngagementStages; ++s)
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      const EngagementEffect& f = c.effect[s][a];
      const std::string id = std::string(kEngagementStageNames[s]) + "." + std::string(kEngagementActionNames[a]);
      if (f.gain - f.spread < -1 || f.gain + f.spread > 1)
        throw UsageError(line_of(id + ".spread") + "[" + std::string(kEngagementStageNames[s]) + "] " +
                         std::string(kEngagementActionNames[a]) + ".gain +- spread = [" + number_text(f.gain - f.spread) +
                         ", " + number_text(f.gain + f.spread) + "] leaves [-1, 1]; give a smaller spread");
    }
  return c;
}

EngagementConfig load_engagement_config(const std::string& path) {
  return parse_engagement_config(read_config_text(path), path);
}

const char* shipped_engagement_config_text() { return kShippedEngagementIni; }

EngagementConfig shipped_engagement_config() {
  return parse_engagement_config(kShippedEngagementIni, "shipped configs/engagement.ini");
}

}  // namespace reinforcer
