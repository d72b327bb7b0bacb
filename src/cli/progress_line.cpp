#include "reinforcer/cli/progress_line.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace reinforcer {

ProgressLine::ProgressLine(const std::string& mode, bool enabled)
    : live_(mode == "auto" && ::isatty(STDERR_FILENO)), enabled_(enabled && mode != "none"),
      last_(std::chrono::steady_clock::now()) {}

void ProgressLine::round(const LearningCurveRow& row, std::int64_t total_rounds, std::int64_t total_episodes) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last_round = row.round == total_rounds;
  if (!live_ && !last_round && now - last_ < std::chrono::seconds(5)) return;
  last_ = now;
  const double rate = row.wall_seconds > 0 ? static_cast<double>(row.episodes) / row.wall_seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(total_episodes - row.episodes) / rate : 0;
  char regret[48] = "";
  if (!std::isnan(row.regret)) std::snprintf(regret, sizeof regret, "  regret to DP %.2f%%", 100 * row.regret);
  std::fprintf(stderr, "%sround %lld/%lld  episodes %lld  %.0f episodes/s  ETA %.1f s  epsilon %.3f%s%s",
               live_ ? "\r" : "", static_cast<long long>(row.round), static_cast<long long>(total_rounds),
               static_cast<long long>(row.episodes), rate, eta, row.epsilon, regret, live_ ? "\033[K" : "\n");
  std::fflush(stderr);
  dirty_ = live_;
}

void ProgressLine::status(const std::string& line, bool last) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!live_ && !last && now - last_ < std::chrono::seconds(5)) return;
  last_ = now;
  std::fprintf(stderr, "%s%s%s", live_ ? "\r" : "", line.c_str(), live_ ? "\033[K" : "\n");
  std::fflush(stderr);
  dirty_ = live_;
}

void ProgressLine::note(const std::string& line) {
  if (dirty_) std::fputc('\n', stderr);
  dirty_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (dirty_) std::fputc('\n', stderr);
  dirty_ = false;
}

}  // namespace reinforcer
