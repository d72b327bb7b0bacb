#pragma once
// sweep.h5: a sweep directory merged into one file: /trials (a row per trial of the grid,
// every varied parameter a column, every metric, status, error, where and when), the best
// trial, /failed and /missing, and /regret_by_cohort. Schema in docs/HDF5_SCHEMA.md.
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/results/provenance.hpp"
#include "reinforcer/results/trial_file.hpp"

namespace reinforcer {

inline const std::string kSweepFormat = "reinforcer-sweep";
inline constexpr std::int64_t kSweepFormatVersion = 1;

struct SweepSummary {
  std::string grid_text;  // the grid as sweep.ini holds it
  std::string grid_sha256, prepared_sha256;
  std::vector<std::string> varied;  // parameter columns, grid order
  // One per trial of the grid, by index; a missing trial has status "missing" and its
  // parameters only.
  std::vector<TrialRecord> trials;
  std::string objective;
  std::int64_t best = -1;  // -1: no complete trial
};

// Written atomically; the tables depend only on the trial files (merging twice gives the same
// tables; the provenance attributes say when).
void write_sweep_file(const std::string& path, const SweepSummary& summary, const Provenance& provenance);

}  // namespace reinforcer
