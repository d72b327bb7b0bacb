#pragma once
// The synthetic CRM generator's parts, shared by its files: the clean model (one customer
// record from (seed, row) alone), the dirt plan, the row stream and the two writers.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reinforcer/data/civil_date.hpp"
#include "reinforcer/data/crm_schema.hpp"
#include "reinforcer/data/synth.hpp"

namespace reinforcer::synth {

// The export date the generator simulates (what ingest infers from the file) and the first
// First Contact.
inline Day export_day() { return days_from_civil(2022, 4, 28); }
inline Day campaign_start() { return days_from_civil(2020, 6, 1); }
inline Day demo_survey_recorded_from() { return days_from_civil(2021, 8, 31); }

// A customer as the model makes it, before any dirt. Country -1 and education 0 are missing;
// status and stage index kStatusValues / kStageValues.
struct Record {
  Cohort cohort = Cohort::undated;
  int country = -1;
  int education = 0;
  int status = 0;
  int stage = 0;
  Day first_contact = kNoDay;
  Day last_contact = kNoDay;
  std::array<Day, kMilestones> step{kNoDay, kNoDay, kNoDay, kNoDay, kNoDay, kNoDay};
  std::vector<std::uint8_t> attributes;  // level 0..3 per extra attribute
};

// Names of the model's value tables; every one is a NUL-terminated literal.
std::string_view country_name(int index);
int country_index(std::string_view name);  // -1 if not in the table
std::string_view education_name_of(int code);
std::string_view attribute_level_name(int level);

class Model {
 public:
  explicit Model(const SynthOptions& options);
  // A pure function of (seed, index, force_subscriber): rows can be made in any order, on
  // any thread. force_subscriber makes an outbound customer with a dated subscription and
  // Stage "subscribed already" (see RowStream::next).
  void make(std::int64_t index, Record& out, bool force_subscriber = false) const;

 private:
  std::uint64_t seed_;
  std::int64_t customers_;
  int extra_;
  int informative_;
};

// A cell as written. Text is NUL-terminated (literals or Row::scratch), `size` bytes long.
enum class CellKind : std::uint8_t { empty, date, text, number };
struct Cell {
  CellKind kind = CellKind::empty;
  Day day = 0;
  double number = 0;
  const char* text = "";
  std::uint32_t size = 0;
};

struct Row {
  std::int64_t id = 0;      // 0 for a blank row
  std::vector<Cell> cells;  // one per column; cells[0] is the ID (written from `id`)
  std::array<std::array<char, 24>, 2> scratch{};
};

// Every dirt kind's first instance falls due before this row (DirtPlan's offsets).
inline constexpr std::int64_t kDirtFirstDueBy = 300;
// From this many customers on, every dirt kind is promised at least once.
inline constexpr std::int64_t kDirtPromisedFrom = 2000;

// The dates ingest will take as valid, per date column (First Contact, Last Contact, the six
// steps), kept beside the cells so the truth follows the dirt.
struct Valid {
  std::array<Day, 8> day{};
  int stage = 0;
};

// Schedules the dirt: each kind has a quota (scaled with the customer count, at least one)
// whose instances fall due at evenly spaced rows, the first before row kDirtFirstDueBy, and
// are applied to the next eligible row (kinds still waiting for their first instance go
// first). One pass, deterministic, the same for both formats except the xlsx-only huge
// serial. The last row (the export-date anchor) is never dirtied.
class DirtPlan {
 public:
  DirtPlan(const SynthOptions& options, bool xlsx);
  ~DirtPlan();
  void apply(std::int64_t index, const Record& rec, Row& row, Valid& valid);
  static std::int64_t blank_rows(const SynthOptions& options, bool xlsx);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Customers 1..N in order, then the blank rows; accumulates the truth as it goes.
class RowStream {
 public:
  RowStream(const SynthOptions& options, bool xlsx);
  ~RowStream();
  std::vector<std::string> header() const;
  std::size_t columns() const { return kCrmColumns + static_cast<std::size_t>(extra_); }
  bool next(Row& row);
  const SynthTruth& truth() const { return truth_; }
  std::int64_t total_rows() const { return truth_.customers + blank_total_; }

 private:
  void fill(const Record& rec, Row& row, Valid& valid) const;
  void count(const Valid& valid);

  Model model_;
  std::unique_ptr<DirtPlan> dirt_;
  std::int64_t customers_;
  int extra_;
  std::int64_t blank_total_;
  std::int64_t index_ = 0;
  std::int64_t blanks_done_ = 0;
  std::int64_t showcase_ = 0;  // dated, Stage-labelled subscribers from row kDirtFirstDueBy on
  Record rec_;
  SynthTruth truth_;
};

// Both throw PathError when the file cannot be written.
void write_csv(RowStream& rows, const std::string& path);
void write_xlsx(RowStream& rows, const SynthOptions& options, const std::string& path);

}  // namespace reinforcer::synth
