#pragma once
// engagement.h5: one engagement-funnel run (schema: docs/ENGAGEMENT.md): the model echoed,
// the DP optimum per grid cell, the agent's greedy policy, its exact value and regret, the
// baselines and the learning curve. Written atomically by the caller (AtomicOutput).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/results/provenance.hpp"
#include "reinforcer/rl/engagement_agents.hpp"
#include "reinforcer/rl/engagement_dp.hpp"

namespace reinforcer {

inline const std::string kEngagementFormat = "reinforcer-engagement";
inline constexpr std::int64_t kEngagementFormatVersion = 1;

struct EngagementContents {
  const EngagementEnvironment* env = nullptr;
  const EngagementSolution* optimum = nullptr;
  const TrainedAgent* agent = nullptr;
  std::vector<double> agent_value;  // exact value of the agent's policy per cell
  const std::vector<EngagementBaseline>* baselines = nullptr;
  std::map<std::string, std::int64_t> int_attributes;  // run settings (seed, threads, episodes ...)
  std::map<std::string, std::string> text_attributes;
};

// Writes the file at `path` (truncating it); provenance.config_text should hold the model.
void write_engagement_file(const std::string& path, const EngagementContents& contents, const Provenance& provenance);

}  // namespace reinforcer
