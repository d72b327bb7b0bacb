#pragma once
// The report's section "Which attributes and actions matter", from selection.h5.
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/results/selection_file.hpp"

namespace reinforcer {

void write_selection_section(Writer& w, const SelectionSummary& selection);

}  // namespace reinforcer
