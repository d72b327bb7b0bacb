#pragma once
// A sweep's grid: trial options given as lists in a [grid] section of an INI file, one trial
// per combination (or a seeded random sample of them), numbered deterministically.
//
//   [grid]
//   omega = 0.5, 0.6, 0.8
//   features = "cohort", "cohort,country"   # quote a value that holds a comma
//   episodes = 100000                       # a single value: the same in every trial
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/core/config_file.hpp"
#include "reinforcer/pipeline/trial_config.hpp"

namespace reinforcer {

struct SweepParameter {
  std::string key;
  std::vector<std::string> values;
  int line = 0;
};

class SweepGrid {
 public:
  // Reads and checks the grid: every key a trial option, every list non-empty and every value
  // in range (UsageError naming the file, line and value). random > 0 samples that many
  // distinct combinations (seeded); random must not exceed the combinations.
  static SweepGrid read(const std::string& path, std::int64_t random = 0, std::uint64_t seed = 1);
  // From the [grid] section of an INI file already read (a sweep directory's sweep.ini).
  static SweepGrid from_section(const ConfigSection& section, const std::string& path, std::int64_t random,
                                std::uint64_t seed);
  // From parameters already in hand (tests, the subset search).
  static SweepGrid of(std::vector<SweepParameter> parameters, std::int64_t random = 0, std::uint64_t seed = 1,
                      const std::string& origin = "grid");

  std::int64_t trials() const { return static_cast<std::int64_t>(combination_.size()); }
  const std::vector<SweepParameter>& parameters() const { return parameters_; }
  // Keys with more than one value: the columns that tell trials apart.
  std::vector<std::string> varied() const;
  // Trial i's options (every grid key); i in [0, trials()).
  OptionValues values(std::int64_t trial) const;
  // The random sample's size (0: every combination) and its seed.
  std::int64_t random() const { return random_; }
  std::uint64_t seed() const { return seed_; }
  // The grid in canonical text (keys, values, sample): equal text, equal trials.
  const std::string& identity() const { return identity_; }

 private:
  std::vector<SweepParameter> parameters_;  // file order; the last varies fastest
  std::vector<std::int64_t> combination_;   // trial -> combination index
  std::string identity_;
  std::int64_t random_ = 0;
  std::uint64_t seed_ = 1;
};

// "3,7,12-15": sorted indices as SLURM's --array= accepts them; "" when empty.
std::string index_ranges(std::vector<std::int64_t> indices);

}  // namespace reinforcer
