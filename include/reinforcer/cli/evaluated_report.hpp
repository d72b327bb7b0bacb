#pragma once
// The report of an evaluated file (evaluate -o), in text or markdown: the answers first (base
// rates, targeting, best segments, policies against baselines, break-even, calibration, call list).
#include <ostream>
#include <string>

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

void write_evaluated_report(const h5::File& f, const std::string& path, std::ostream& out, bool markdown);

}  // namespace reinforcer
