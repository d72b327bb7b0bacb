#pragma once
// evaluated.h5: the run file's contents plus /evaluation (schema: docs/HDF5_SCHEMA.md).
#include <string>

#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/io/provenance.hpp"

namespace reinforcer {

inline const std::string kEvaluatedFormat = "reinforcer-evaluated";
inline constexpr std::int64_t kEvaluatedFormatVersion = 2;  // 2: calibration as observed/expected

void write_evaluated_file(const std::string& path, const std::string& run_path, const EvaluationResult& result,
                          const EvaluationSettings& settings, const Provenance& provenance);

}  // namespace reinforcer
