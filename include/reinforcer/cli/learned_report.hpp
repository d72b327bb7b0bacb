#pragma once
// The report's section "Learned policies against the DP optimum", from run files (train):
// each run's agent (tabular or DQN), its regret per cohort with refit intervals, and its
// difference to the best constant policy -- so agents trained on one funnel compare side by side.
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/results/run_file.hpp"

namespace reinforcer {

void write_learned_section(Writer& w, const std::vector<StoredQuality>& runs);

// A refit interval as printed: "[lo, hi]" (percent: "[lo%, hi%]"); "n/a" without refits; and
// no interval when the refits are too few for a 95% one (stats/bootstrap.hpp), but why.
std::string refit_interval_text(double lo, double hi, std::int64_t refits, bool percent);

}  // namespace reinforcer
