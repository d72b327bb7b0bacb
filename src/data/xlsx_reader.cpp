// Streaming xlsx reader: the sheet part is inflated in 1 MiB chunks and scanned for the few
// tags a worksheet uses (<row>, <c>, <v>, <is>), so memory does not grow with the sheet.
#include <zip.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "xml_text.hpp"

namespace reinforcer {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipCloser>;
using ZipMember = std::unique_ptr<zip_file_t, ZipFileCloser>;

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string s = zip_error_strerror(&err);
  zip_error_fini(&err);
  return s;
}

bool has_member(zip_t* z, const std::string& name) { return zip_name_locate(z, name.c_str(), 0) >= 0; }

std::string read_member(zip_t* z, const std::string& path, const std::string& name) {
  ZipMember f(zip_fopen(z, name.c_str(), 0));
  if (!f) throw InputError(path + ": cannot open '" + name + "' inside the xlsx: " + zip_strerror(z));
  std::string out;
  char buf[1 << 16];
  zip_int64_t n;
  while ((n = zip_fread(f.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  if (n < 0)
    throw InputError(path + ": the xlsx is corrupt or truncated while reading '" + name +
                     "': " + zip_file_strerror(f.get()));
  return out;
}

// Excel's limits: columns A..XFD, rows 1..1,048,576. A reference beyond them is corrupt
// (and its digits would overflow an integer).
constexpr int kLastColumn = 16384;
constexpr std::int64_t kLastRow = 1048576;

// Column index (0-based) from a cell reference like "AB12"; -1 without letters, -2 beyond XFD.
int column_of(std::string_view ref) {
  int col = 0;
  std::size_t i = 0;
  for (; i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > kLastColumn) return -2;
  }
  return i == 0 ? -1 : col - 1;
}

// The row number of a reference like "AB12" or "12"; -1 beyond Excel's last row or without digits.
std::int64_t row_of(std::string_view ref) {
  std::int64_t r = 0;
  bool digits = false;
  for (char c : ref)
    if (c >= '0' && c <= '9') {
      r = r * 10 + (c - '0');
      digits = true;
      if (r > kLastRow) return -1;
    }
  return digits && r >= 1 ? r : -1;
}

std::string resolve_sheet_path(zip_t* z, const std::string& path) {
  if (has_member(z, "xl/workbook.xml") && has_member(z, "xl/_rels/workbook.xml.rels")) {
    const std::string wb = read_member(z, path, "xl/workbook.xml");
    const std::size_t s = wb.find("<sheet ");
    if (s != std::string::npos) {
      const std::string_view tag(wb.data() + s, wb.find('>', s) - s);
      const std::string rid(xml::attribute(tag, ":id"));
      const std::string rels = read_member(z, path, "xl/_rels/workbook.xml.rels");
      std::size_t p = 0;
      while ((p = rels.find("<Relationship ", p)) != std::string::npos) {
        const std::string_view rtag(rels.data() + p, rels.find('>', p) - p);
        if (xml::attribute(rtag, "Id") == rid) {
          std::string target(xml::attribute(rtag, "Target"));
          if (!target.empty() && target[0] == '/') return target.substr(1);
          return "xl/" + target;
        }
        p += 14;
      }
    }
  }
  if (has_member(z, "xl/worksheets/sheet1.xml")) return "xl/worksheets/sheet1.xml";
  throw InputError(path + ": the xlsx holds no worksheet (no sheet in xl/workbook.xml and no "
                   "xl/worksheets/sheet1.xml); is it a spreadsheet?");
}

std::vector<std::string> read_shared_strings(zip_t* z, const std::string& path) {
  std::vector<std::string> strings;
  if (!has_member(z, "xl/sharedStrings.xml")) return strings;
  const std::string x = read_member(z, path, "xl/sharedStrings.xml");
  std::size_t p = 0;
  while ((p = x.find("<si", p)) != std::string::npos) {
    const std::size_t gt = x.find('>', p);
    if (gt == std::string::npos) break;
    std::string s;
    if (x[gt - 1] != '/') {
      const std::size_t end = x.find("</si>", gt);
      if (end == std::string::npos) break;
      xml::append_text_runs(s, std::string_view(x).substr(gt + 1, end - gt - 1));
      p = end + 5;
    } else {
      p = gt + 1;
    }
    strings.push_back(std::move(s));
  }
  return strings;
}

class XlsxReader final : public RawTableReader {
 public:
  explicit XlsxReader(const std::string& path) : RawTableReader(path) {
    int err = 0;
    archive_.reset(zip_open(path.c_str(), ZIP_RDONLY, &err));
    if (!archive_) {
      if (err == ZIP_ER_NOZIP || err == ZIP_ER_INCONS)
        throw InputError(path + ": not a valid xlsx file (it is not a zip archive, or it is truncated): " +
                         zip_error_text(err));
      throw InputError(path + ": cannot read the xlsx: " + zip_error_text(err));
    }
    sheet_name_ = resolve_sheet_path(archive_.get(), path);
    strings_ = read_shared_strings(archive_.get(), path);
    sheet_.reset(zip_fopen(archive_.get(), sheet_name_.c_str(), 0));
    if (!sheet_) throw InputError(path + ": the workbook names sheet '" + sheet_name_ + "', which is missing");
    RawRow first;
    if (!next_row(first, /*width=*/-1))
      throw InputError(path + ": the first worksheet is empty (no header row)");
    for (auto& c : first.cells) header_.push_back(cell_as_text(c));
    while (!header_.empty() && header_.back().empty()) header_.pop_back();
  }

  bool next(RawRow& row) override { return next_row(row, static_cast<int>(header_.size())); }
  bool dates_are_text() const override { return false; }

 private:
  static std::string cell_as_text(const RawCell& c) { return c.text; }

  // Ensures buf_ holds the bytes up to and including `needle` after from; false at the end.
  bool fill_until(const char* needle, std::size_t from, std::size_t& found) {
    std::size_t search = from;
    const std::size_t nlen = std::strlen(needle);
    for (;;) {
      found = buf_.find(needle, search);
      if (found != std::string::npos) return true;
      if (eof_) return false;
      search = buf_.size() >= nlen ? buf_.size() - nlen + 1 : 0;
      if (search < from) search = from;
      refill();
    }
  }

  void refill() {
    const std::size_t old = buf_.size();
    buf_.resize(old + kChunk);
    const zip_int64_t n = zip_fread(sheet_.get(), buf_.data() + old, kChunk);
    if (n < 0)
      throw InputError(path_ + ": the xlsx is corrupt or truncated while reading '" + sheet_name_ +
                       "': " + zip_file_strerror(sheet_.get()));
    buf_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) eof_ = true;
  }

  // width < 0: keep every cell (the header row).
  bool next_row(RawRow& row, int width) {
    if (pos_ > (1u << 20) && pos_ > buf_.size() / 2) {  // drop what was consumed (offsets shift)
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    std::size_t start;
    for (;;) {
      if (!fill_until("<row", pos_, start)) return false;
      const char after = start + 4 < buf_.size() ? buf_[start + 4] : ' ';
      if (after == ' ' || after == '>' || after == '/') break;
      pos_ = start + 4;
    }
    // Offsets, not pointers: a refill may move the buffer.
    std::size_t tag_end;
    if (!fill_until(">", start, tag_end)) throw truncated();
    std::size_t row_end = tag_end + 1;
    const bool self_closing = buf_[tag_end - 1] == '/';
    if (!self_closing) {
      std::size_t close;
      if (!fill_until("</row>", tag_end, close)) throw truncated();
      row_end = close + 6;
    }
    const std::string_view all(buf_);
    const std::string_view row_tag = all.substr(start, tag_end - start);
    const std::string_view r = xml::attribute(row_tag, "r");
    row.sheet_row = r.empty() ? last_row_ + 1 : row_of(r);
    if (row.sheet_row < 1 || row.sheet_row > kLastRow)
      throw corrupt("a row numbered '" + std::string(r.empty() ? std::to_string(row.sheet_row) : std::string(r)) +
                    "', outside Excel's rows 1 to 1,048,576");
    last_row_ = row.sheet_row;
    for (auto& c : row.cells) {
      c.kind = RawKind::empty;
      c.text.clear();
    }
    if (width >= 0) row.cells.resize(static_cast<std::size_t>(width));
    if (!self_closing) parse_cells(all.substr(tag_end + 1, row_end - 6 - tag_end - 1), row, width);
    pos_ = row_end;
    return true;
  }

  void parse_cells(std::string_view x, RawRow& row, int width) {
    std::size_t p = 0;
    int next_col = 0;
    while ((p = x.find("<c", p)) != std::string_view::npos) {
      if (p + 2 >= x.size() || (x[p + 2] != ' ' && x[p + 2] != '>' && x[p + 2] != '/')) {
        p += 2;
        continue;
      }
      const std::size_t gt = x.find('>', p);
      if (gt == std::string_view::npos) throw corrupt("a cell tag without its '>' in sheet row " + std::to_string(row.sheet_row));
      const std::string_view tag = x.substr(p, gt - p);
      const std::string_view ref = xml::attribute(tag, "r");
      const int col = ref.empty() ? next_col : column_of(ref);
      if (col == -2 || (ref.empty() && col >= kLastColumn))
        throw corrupt("cell '" + std::string(ref) + "' in sheet row " + std::to_string(row.sheet_row) +
                      " that lies beyond Excel's last column XFD");
      next_col = col + 1;
      std::string_view body;
      if (x[gt - 1] == '/') {
        p = gt + 1;
      } else {
        const std::size_t close = x.find("</c>", gt);
        if (close == std::string_view::npos)
          throw corrupt("a cell without its '</c>' in sheet row " + std::to_string(row.sheet_row));
        body = x.substr(gt + 1, close - gt - 1);
        p = close + 4;
      }
      if (col < 0 || body.empty()) continue;
      if (width >= 0 && col >= width) continue;
      if (width < 0 && static_cast<std::size_t>(col) >= row.cells.size()) row.cells.resize(static_cast<std::size_t>(col) + 1);
      fill_cell(row.cells[static_cast<std::size_t>(col)], xml::attribute(tag, "t"), body, row.sheet_row);
    }
  }

  void fill_cell(RawCell& cell, std::string_view type, std::string_view body, std::int64_t sheet_row) {
    if (type == "inlineStr") {
      xml::append_text_runs(cell.text, body);
      cell.kind = RawKind::text;
      return;
    }
    const std::size_t v = body.find("<v>");
    if (v == std::string_view::npos) return;  // no value: an empty (styled) cell
    const std::size_t ve = body.find("</v>", v);
    const std::string_view value = body.substr(v + 3, ve - v - 3);
    if (type.empty() || type == "n") {
      cell.kind = RawKind::number;
      cell.text.assign(value);
      const auto res = std::from_chars(value.data(), value.data() + value.size(), cell.number);
      if (res.ec != std::errc())
        throw InputError(path_ + ": sheet row " + std::to_string(sheet_row) + ": numeric cell holds '" +
                         std::string(value) + "'");
    } else if (type == "s") {
      std::size_t idx = 0;
      std::from_chars(value.data(), value.data() + value.size(), idx);
      if (idx >= strings_.size())
        throw InputError(path_ + ": sheet row " + std::to_string(sheet_row) + ": shared string " +
                         std::to_string(idx) + " does not exist");
      cell.kind = RawKind::text;
      cell.text = strings_[idx];
    } else if (type == "e") {
      cell.kind = RawKind::error;
      xml::append_decoded(cell.text, value);
    } else if (type == "b") {
      cell.kind = RawKind::boolean;
      cell.text = value == "1" ? "TRUE" : "FALSE";
    } else {  // "str" (formula text), "d" (ISO date text)
      cell.kind = RawKind::text;
      xml::append_decoded(cell.text, value);
    }
  }

  InputError corrupt(const std::string& what) const {
    return InputError(path_ + ": the worksheet '" + sheet_name_ + "' holds " + what + ": the xlsx is corrupt; save it again from Excel");
  }
  InputError truncated() const {
    return InputError(path_ + ": the worksheet '" + sheet_name_ + "' ends inside a row: the xlsx is truncated");
  }

  static constexpr std::size_t kChunk = 1 << 20;
  ZipArchive archive_;
  ZipMember sheet_;
  std::string sheet_name_;
  std::vector<std::string> strings_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::int64_t last_row_ = 0;
};

}  // namespace

std::unique_ptr<RawTableReader> open_xlsx(const std::string& path) {
  return std::make_unique<XlsxReader>(path);
}

}  // namespace reinforcer
