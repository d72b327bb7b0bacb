#include "reinforcer/pipeline/sweep_grid.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "reinforcer/core/config_file.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/rng.hpp"

namespace reinforcer {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// "a, b, \"c,d\"" -> {a, b, c,d}; where names the line in messages.
std::vector<std::string> split_list(const std::string& text, const std::string& where) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::string item;
    if (i < text.size() && text[i] == '"') {
      const auto close = text.find('"', i + 1);
      if (close == std::string::npos) throw UsageError(where + ": a quoted value needs its closing '\"'");
      item = text.substr(i + 1, close - i - 1);
      i = close + 1;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i < text.size() && text[i] != ',')
        throw UsageError(where + ": expected ',' after the quoted value \"" + item + "\"");
    } else {
      const auto comma = std::min(text.find(',', i), text.size());
      item = trim(text.substr(i, comma - i));
      i = comma;
    }
    if (item.empty()) throw UsageError(where + ": an empty value in the list; give values separated by commas");
    out.push_back(item);
    ++i;  // past the comma (or the end)
  }
  return out;
}

}  // namespace

SweepGrid SweepGrid::read(const std::string& path, std::int64_t random, std::uint64_t seed) {
  const std::vector<ConfigSection> sections = read_config_file(path);
  for (const ConfigSection& s : sections)
    if (s.name != "grid")
      throw UsageError(path + " line " + std::to_string(s.line) + ": unknown section [" + s.name +
                       "]; a grid file has one section, [grid]");
  if (sections.size() != 1)
    throw UsageError(path + ": " + (sections.empty() ? std::string("no [grid] section") : "[grid] given twice") +
                     "; see 'reinforcer sweep --help'");
  return from_section(sections.front(), path, random, seed);
}

SweepGrid SweepGrid::from_section(const ConfigSection& section, const std::string& path, std::int64_t random,
                                  std::uint64_t seed) {
  std::vector<SweepParameter> params;
  for (const ConfigEntry& e : section.entries) {
    const std::string where = path + " line " + std::to_string(e.line) + ": " + e.key;
    if (e.value.empty()) throw UsageError(where + ": the list is empty; give at least one value");
    params.push_back(SweepParameter{e.key, split_list(e.value, where), e.line});
  }
  if (params.empty()) throw UsageError(path + ": the [grid] section names no option; see 'reinforcer sweep --help'");
  return of(std::move(params), random, seed, path);
}

SweepGrid SweepGrid::of(std::vector<SweepParameter> parameters, std::int64_t random, std::uint64_t seed,
                        const std::string& origin) {
  SweepGrid g;
  std::set<std::string> seen;
  std::int64_t combinations = 1;
  for (const SweepParameter& p : parameters) {
    const std::string where = origin + " line " + std::to_string(p.line) + ": " + p.key;
    if (!seen.insert(p.key).second) throw UsageError(where + ": given twice; put every value in one list");
    if (p.values.empty()) throw UsageError(where + ": the list is empty; give at least one value");
    if (!is_trial_option(p.key)) {
      const std::string why = explain_unknown_trial_option(p.key);
      throw UsageError(where + ": " + (why.empty() ? "unknown option" : why) + "; a grid lists train options (see 'reinforcer train --help')");
    }
    std::set<std::string> distinct;
    for (const std::string& v : p.values) {
      if (!distinct.insert(v).second) throw UsageError(where + ": the value " + v + " is listed twice");
      // Each value on its own, so the message names the value that is wrong.
      parse_trial_config({{p.key, v}}, [&](const std::string& key) {
        return key == p.key ? where + " = " + v : where + " = " + v + " (with " + key + ")";
      });
    }
    if (combinations > std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(p.values.size()))
      throw UsageError(origin + ": the grid has too many combinations");
    combinations *= static_cast<std::int64_t>(p.values.size());
  }
  g.parameters_ = std::move(parameters);
  g.random_ = random;
  g.seed_ = seed;
  if (random < 0) throw UsageError("--random: " + std::to_string(random) + " is negative");
  if (random > combinations)
    throw UsageError("--random: " + std::to_string(random) + " samples but the grid has only " +
                     std::to_string(combinations) + " combinations");
  if (random == 0) {
    if (combinations > 10000000) throw UsageError(origin + ": the grid has " + std::to_string(combinations) +
                                                  " combinations; sample some with --random N");
    for (std::int64_t i = 0; i < combinations; ++i) g.combination_.push_back(i);
  } else {
    // Floyd's sample of distinct combinations, then in grid order: the same seed, the same trials.
    RandomStream rng(seed, 0x5eedULL);
    std::set<std::int64_t> chosen;
    for (std::int64_t j = combinations - random; j < combinations; ++j) {
      const auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j + 1)));
      if (!chosen.insert(t).second) chosen.insert(j);
    }
    g.combination_.assign(chosen.begin(), chosen.end());
  }
  for (const SweepParameter& p : g.parameters_) {
    g.identity_ += p.key + " =";
    for (std::size_t i = 0; i < p.values.size(); ++i) g.identity_ += (i ? ", \"" : " \"") + p.values[i] + "\"";
    g.identity_ += "\n";
  }
  if (random > 0) g.identity_ += "# random sample of " + std::to_string(random) + ", seed " + std::to_string(seed) + "\n";
  // Every trial must be a valid config as a whole (two-option checks such as epsilon-end <= epsilon-start).
  for (std::int64_t t = 0; t < g.trials(); ++t)
    parse_trial_config(g.values(t), [&](const std::string& key) {
      return origin + ": trial " + std::to_string(t) + ", " + key;
    });
  return g;
}

std::vector<std::string> SweepGrid::varied() const {
  std::vector<std::string> out;
  for (const SweepParameter& p : parameters_)
    if (p.values.size() > 1) out.push_back(p.key);
  return out;
}

OptionValues SweepGrid::values(std::int64_t trial) const {
  if (trial < 0 || trial >= trials())
    throw UsageError("trial " + std::to_string(trial) + " is out of range; this grid has trials 0.." +
                     std::to_string(trials() - 1));
  std::int64_t c = combination_[static_cast<std::size_t>(trial)];
  OptionValues v;
  for (auto p = parameters_.rbegin(); p != parameters_.rend(); ++p) {
    const auto n = static_cast<std::int64_t>(p->values.size());
    v[p->key] = p->values[static_cast<std::size_t>(c % n)];
    c /= n;
  }
  return v;
}

std::string index_ranges(std::vector<std::int64_t> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  std::string out;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace reinforcer
