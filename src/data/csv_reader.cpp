// RFC 4180 CSV: quoted fields with embedded commas, quotes and newlines; optional UTF-8 BOM.
// The file is mapped into memory whole (a million rows is ~80 MB; no copy) and checked to be
// UTF-8 first.
#include <utility>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string_view>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

// Index of the first byte that breaks UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Fast path over ASCII, 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    std::size_t len;
    std::uint32_t min;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) len = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000;
    else return i;
    if (i + len > n) return i;
    std::uint32_t cp = c & (0xFF >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

// A read-only mapping of the input, unmapped when its owner goes, also when the reader's
// constructor throws (a non-UTF-8 file or an empty header left it mapped: the fuzzer found
// 35,000 mappings of its input in one process).
struct FileMapping {
  void* data = nullptr;
  std::size_t size = 0;
  FileMapping(void* d, std::size_t n) : data(d), size(n) {}
  FileMapping(FileMapping&& o) noexcept : data(std::exchange(o.data, nullptr)), size(o.size) {}
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  FileMapping& operator=(FileMapping&&) = delete;
  ~FileMapping() {
    if (data) ::munmap(data, size);
  }
};

class CsvReader final : public RawTableReader {
 public:
  // The bytes are either owned (text given in memory) or a read-only mapping of the file.
  CsvReader(const std::string& path, std::string owned, FileMapping mapping = {nullptr, 0})
      : RawTableReader(path), owned_(std::move(owned)), mapping_(std::move(mapping)),
        data_(mapping_.data ? std::string_view(static_cast<const char*>(mapping_.data), mapping_.size)
                            : std::string_view(owned_)) {
    if (data_.size() >= 3 && data_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    if (const std::size_t bad = first_invalid_utf8(data_); bad != std::string_view::npos) {
      const long line = 1 + static_cast<long>(std::count(data_.begin(), data_.begin() + static_cast<long>(bad), '\n'));
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(data_[bad]));
      throw InputError(path + ": line " + std::to_string(line) + ": byte " + hex +
                       " is not UTF-8; save the CSV as UTF-8");
    }
    std::vector<std::string> fields;
    if (!read_record(fields) || (fields.size() == 1 && fields[0].empty()))
      throw InputError(path + ": the file is empty (no header row)");
    header_ = std::move(fields);
  }

  bool next(RawRow& row) override {
    if (!read_record(fields_)) return false;
    row.sheet_row = record_;
    row.cells.resize(header_.size());
    const bool blank_line = fields_.size() == 1 && fields_[0].empty();
    // More fields than the header would shift or lose values: refused. Fewer fields are
    // what spreadsheet exporters write for a row whose last cells are empty (xlsx2csv
    // does): padded with empty cells and reported as a row warning.
    if (!blank_line && fields_.size() > header_.size())
      throw InputError(path_ + ": row " + std::to_string(record_) + " (line " + std::to_string(record_line_) +
                       ") has " + std::to_string(fields_.size()) + " fields, the header has " +
                       std::to_string(header_.size()) + "; quote fields that contain commas");
    row.padded = !blank_line && fields_.size() < header_.size();
    for (std::size_t i = 0; i < header_.size(); ++i) {
      RawCell& c = row.cells[i];
      if (blank_line || i >= fields_.size() || fields_[i].empty()) {
        c.kind = RawKind::empty;
        c.text.clear();
      } else {
        c.kind = RawKind::text;
        c.text.swap(fields_[i]);
      }
    }
    return true;
  }
  bool dates_are_text() const override { return true; }
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  std::size_t rows_hint() const override {  // for reserving: one row per line, roughly
    std::size_t lines = 0;
    for (const char* p = data_.data(), *end = p + data_.size();
         (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)))) != nullptr; ++p)
      ++lines;
    return lines;
  }


 private:
  // One record into out; false at end of data. Counts records and lines.
  bool read_record(std::vector<std::string>& out) {
    if (pos_ >= data_.size()) return false;
    ++record_;
    record_line_ = line_;
    std::size_t nf = 0;
    auto field = [&]() -> std::string& {
      if (nf == out.size()) out.emplace_back();
      std::string& f = out[nf++];
      f.clear();
      return f;
    };
    const char* d = data_.data();
    const std::size_t n = data_.size();
    for (;;) {
      std::string& f = field();
      if (pos_ < n && d[pos_] == '"') {
        const std::size_t open_line = line_;
        ++pos_;
        for (;;) {
          const void* q = std::memchr(d + pos_, '"', n - pos_);
          if (!q)
            throw InputError(path_ + ": line " + std::to_string(open_line) +
                             ": a quoted field is never closed");
          const std::size_t qi = static_cast<std::size_t>(static_cast<const char*>(q) - d);
          line_ += static_cast<std::size_t>(std::count(d + pos_, d + qi, '\n'));
          f.append(d + pos_, qi - pos_);
          pos_ = qi + 1;
          if (pos_ < n && d[pos_] == '"') {
            f += '"';
            ++pos_;
          } else {
            break;
          }
        }
        // Text after the closing quote is kept, as most readers do.
        while (pos_ < n && d[pos_] != ',' && d[pos_] != '\n' && d[pos_] != '\r') f += d[pos_++];
      } else {
        std::size_t e = pos_;
        while (e < n && d[e] != ',' && d[e] != '\n' && d[e] != '\r') ++e;
        f.assign(d + pos_, e - pos_);
        pos_ = e;
      }
      if (pos_ >= n) break;
      if (d[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (d[pos_] == '\r') ++pos_;
      if (pos_ < n && d[pos_] == '\n') ++pos_;
      ++line_;
      break;
    }
    out.resize(nf);
    return true;
  }

  std::string owned_;
  FileMapping mapping_;
  std::string_view data_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
  std::int64_t record_ = 0;
  std::vector<std::string> fields_;
};

}  // namespace

std::unique_ptr<RawTableReader> open_csv(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw PathError(path + ": cannot open input: " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = size > 0 ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  ::close(fd);
  if (size > 0 && map == MAP_FAILED) throw PathError(path + ": cannot read input: " + std::strerror(errno));
  FileMapping mapping(map, size);
  if (map) ::madvise(map, size, MADV_SEQUENTIAL);
  return std::make_unique<CsvReader>(path, std::string(), std::move(mapping));
}

std::unique_ptr<RawTableReader> open_csv_text(std::string text, const std::string& origin) {
  return std::make_unique<CsvReader>(origin, std::move(text));
}

}  // namespace reinforcer
