#include "reinforcer/data/quality_report_text.hpp"

#include <cstdio>
#include <ostream>

#include "reinforcer/stats/proportion.hpp"

namespace reinforcer {

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {
std::string pad(const std::string& s, std::size_t w, bool right = true) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}
std::string quoted(const std::string& s) {
  std::string t = s.size() > 40 ? s.substr(0, 37) + "..." : s;
  return "\"" + t + "\"";
}
}  // namespace

void print_quality_report(std::ostream& out, const QualityReport& q) {
  out << "Quality report for " << q.input_path << " (" << (q.csv ? "CSV" : "xlsx") << ")\n";
  out << "  customers: " << with_thousands(q.customers) << "; blank rows skipped: " << with_thousands(q.blank_rows)
      << "\n";
  out << "  export date: " << format_day(q.export_date)
      << (q.export_date_inferred ? " (inferred: latest pipeline date within a year of the latest First Contact)"
                                 : " (given)")
      << "; earliest date: " << format_day(q.earliest_date) << "\n";
  if (!q.extra_columns.empty()) {
    out << "  extra columns (not used):";
    for (const auto& e : q.extra_columns) out << " '" << e << "'";
    out << "\n";
  }
  for (const auto& a : q.attributes)
    out << "  attribute '" << a.column << "': " << a.levels_kept << " levels kept; " << a.levels_pooled
        << " rarer levels (" << with_thousands(a.customers_pooled) << " dated customers) pooled into 'other'"
        << " (a level needs " << a.threshold << " dated customers)\n";
  out << "\nCells per column and class\n" << pad("column", 28, false);
  for (const char* c : kCellClassNames) out << pad(c, 11);
  out << "\n";
  for (const auto& c : q.columns) {
    out << pad(c.column, 28, false);
    for (auto n : c.counts) out << pad(with_thousands(n), 11);
    out << "\n";
  }
  out << "\nRejected cells by reason\n";
  for (const auto& c : q.columns)
    for (const auto& [reason, n] : c.rejected_by_reason) out << "  " << c.column << ": " << reason << ": " << n << "\n";
  out << "\nExamples (first five per class, in sheet order: row, raw text -> outcome)\n";
  for (const auto& c : q.columns)
    for (std::size_t k = 0; k < kCellClasses; ++k) {
      const auto cls = static_cast<CellClass>(k);
      if (c.examples[k].empty() || cls == CellClass::empty || cls == CellClass::ok) continue;
      out << "  " << c.column << ", " << kCellClassNames[k] << ":";
      for (const auto& e : c.examples[k]) out << "  row " << e.sheet_row << " " << quoted(e.raw) << " -> " << e.outcome << ";";
      out << "\n";
    }
  out << "\nRow warnings (rows kept)\n";
  for (const auto& w : q.warnings) {
    out << "  " << w.kind << ": " << w.count << "\n";
    for (const auto& e : w.examples) out << "      row " << e.sheet_row << ": " << e.raw << " (" << e.outcome << ")\n";
  }
  out << "\nCountries after cleaning: " << q.distinct_countries << " distinct\n";
}

void print_split_summary(std::ostream& out, const CustomerTable& table, const SplitOptions& options,
                         const TemporalCutoffs& cutoffs) {
  out << "\nSplits and cohorts (base rate = subscribed / customers, Wilson 95% interval)\n";
  out << "  temporal cut-offs: train to " << format_day(cutoffs.train_end) << ", val to " << format_day(cutoffs.val_end)
      << "; " << options.folds << " cross-validation folds, seed " << options.seed << "\n";
  out << pad("split", 10, false) << pad("cohort", 10, false) << pad("customers", 11) << pad("subscribed", 12)
      << pad("base rate", 11) << "  95% interval\n";
  for (const auto& r : summarize_splits(table, options.folds)) {
    const Interval w = wilson_interval(r.subscribed, r.customers);
    const double rate = r.customers ? 100.0 * static_cast<double>(r.subscribed) / static_cast<double>(r.customers) : 0.0;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%9.2f%%  [%.2f%%, %.2f%%]", rate, 100 * w.low, 100 * w.high);
    out << pad(r.split, 10, false) << pad(r.cohort, 10, false) << pad(with_thousands(r.customers), 11)
        << pad(with_thousands(r.subscribed), 12) << "  " << buf << "\n";
  }
  for (const auto& r : summarize_splits(table, options.folds))
    if (r.split == "test" && r.cohort == "outbound" && r.subscribed < 5)
      out << "  note: the temporal test split holds " << r.subscribed << " outbound subscriber"
          << (r.subscribed == 1 ? "" : "s") << ": it cannot measure outbound targeting; use the folds.\n";
}

}  // namespace reinforcer
