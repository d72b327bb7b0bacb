#pragma once
// evaluated.h5: the run file's contents plus /evaluation (schema: docs/HDF5_SCHEMA.md).
#include <string>

#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/io/hdf5.hpp"
#include "reinforcer/io/provenance.hpp"

namespace reinforcer {

inline const std::string kEvaluatedFormat = "reinforcer-evaluated";
inline constexpr std::int64_t kEvaluatedFormatVersion = 2;  // 2: calibration as observed/expected; break-even tables

// The break-even table (run.h5 /quality/break_even, evaluated.h5 /evaluation/break_even).
void write_break_even_table(const h5::Group& g, const std::vector<BreakEvenRow>& rows);

void write_evaluated_file(const std::string& path, const std::string& run_path, const EvaluationResult& result,
                          const EvaluationSettings& settings, const Provenance& provenance);

}  // namespace reinforcer
