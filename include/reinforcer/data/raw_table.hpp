#pragma once
// A spreadsheet read row by row, before any interpretation: the xlsx and CSV readers both
// produce it, so the contract's rules are written once, in ingest.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reinforcer {

enum class RawKind : std::uint8_t { empty, number, text, error, boolean };

struct RawCell {
  RawKind kind = RawKind::empty;
  double number = 0.0;
  std::string text;  // text, error code (#VALUE!) or the number's literal
};

struct RawRow {
  std::int64_t sheet_row = 0;  // 1-based, as a spreadsheet shows it (header = 1)
  std::vector<RawCell> cells;  // one per header column
  bool padded = false;         // CSV: fewer fields than the header, the rest taken as empty
};

class RawTableReader {
 public:
  virtual ~RawTableReader() = default;
  const std::vector<std::string>& header() const { return header_; }
  // Fills the next row (cells sized to the header); false at the end.
  virtual bool next(RawRow& row) = 0;
  // CSV stores dates as text; xlsx as numeric serials.
  virtual bool dates_are_text() const = 0;
  // About how many rows follow (0 if unknown): lets callers reserve memory once.
  virtual std::size_t rows_hint() const { return 0; }
  const std::string& path() const { return path_; }

 protected:
  explicit RawTableReader(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::vector<std::string> header_;
};

// Opens .xlsx/.xlsm or .csv (by extension). Throws PathError if the file cannot be
// opened, InputError if its content is not a readable table.
std::unique_ptr<RawTableReader> open_raw_table(const std::string& path);

std::unique_ptr<RawTableReader> open_xlsx(const std::string& path);
std::unique_ptr<RawTableReader> open_csv(const std::string& path);
// CSV held in memory; `origin` names it in messages.
std::unique_ptr<RawTableReader> open_csv_text(std::string text, const std::string& origin);

// Throws PathError unless path is an existing, readable regular file.
void require_readable_file(const std::string& path);

}  // namespace reinforcer
