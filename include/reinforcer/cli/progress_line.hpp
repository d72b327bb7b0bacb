#pragma once
// Progress of a long run on rank 0: a live line on a terminal; in a batch job (output not a
// terminal) a plain line every few seconds, so job logs stay readable.
#include <chrono>
#include <string>

#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

class ProgressLine {
 public:
  // mode: auto | plain | none
  ProgressLine(const std::string& mode, bool enabled);
  void round(const LearningCurveRow& row, std::int64_t total_rounds, std::int64_t total_episodes);
  // A status line other than a training round's (e.g. evaluate's tasks): shown live on a
  // terminal, else every few seconds; `last` always shows.
  void status(const std::string& line, bool last);
  void note(const std::string& line);  // a whole line (e.g. "checkpoint written ...")
  void finish();

 private:
  bool live_ = false;
  bool enabled_ = true;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace reinforcer
