#pragma once
// Reports for people: aligned text tables on a terminal, or Markdown.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "reinforcer/eval/break_even.hpp"

namespace reinforcer {

// A number with `digits` decimals; with a sign always ("+0.12").
inline std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
inline std::string signed_fixed(double v, int digits) { return (v >= 0 ? "+" : "") + fixed(v, digits); }

// Text on a terminal (aligned columns) or Markdown (pipe tables).
class Writer {
 public:
  Writer(std::ostream& out, bool markdown) : out_(out), md_(markdown) {}
  void heading(const std::string& h) { out_ << "\n" << (md_ ? "## " + h : h + "\n" + std::string(h.size(), '=')) << "\n\n"; }
  void line(const std::string& s) { out_ << s << "\n"; }
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> w(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
      w[c] = header[c].size();
      for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
    }
    auto emit = [&](const std::vector<std::string>& r) {
      for (std::size_t c = 0; c < r.size(); ++c)
        out_ << (md_ ? "| " : (c ? "  " : "")) << r[c] << std::string(w[c] - r[c].size(), ' ') << (md_ ? " " : "");
      out_ << (md_ ? "|" : "") << "\n";
    };
    emit(header);
    if (md_) {
      for (std::size_t c = 0; c < header.size(); ++c) out_ << "|" << std::string(w[c] + 2, '-');
      out_ << "|\n";
    }
    for (const auto& r : rows) emit(r);
    if (md_) out_ << "\n";  // a note right after a pipe table would render as one of its rows
  }

 private:
  std::ostream& out_;
  bool md_;
};

// The break-even table (train's summary and the report): stages holding at least
// kBreakEvenMinCustomers fitting customers.
inline void write_break_even_table(Writer& w, const std::vector<BreakEvenRow>& rows) {
  auto fixed = [](double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return std::string(buf);
  };
  auto bound = [&](double v, int digits) { return std::isinf(v) || v > 1e12 ? std::string("never") : fixed(v, digits); };
  std::vector<std::vector<std::string>> out;
  for (const BreakEvenRow& r : rows) {
    if (r.customers < kBreakEvenMinCustomers) continue;
    out.push_back({r.cohort, r.stage, r.action, std::to_string(r.customers),
                   r.break_even_success > 1 ? std::string("> 1 (never)") : fixed(r.break_even_success, 4),
                   fixed(r.configured_success, 2) + (r.pays() ? " (pays)" : ""), bound(r.break_even_reward, 0),
                   bound(r.n_per_arm_milestone, 0), bound(r.n_per_arm_subscription, 0)});
  }
  w.table({"cohort", "stage", "action", "customers", "s*", "assumed", "R*", "n/arm (milestone)", "n/arm (subscription)"}, out);
}

}  // namespace reinforcer
