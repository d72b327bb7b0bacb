#pragma once
// Reports for people: aligned text tables on a terminal, or Markdown.
#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace reinforcer {

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
  }

 private:
  std::ostream& out_;
  bool md_;
};

}  // namespace reinforcer
