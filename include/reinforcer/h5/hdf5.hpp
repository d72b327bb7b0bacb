#pragma once
// Thin RAII wrappers over the HDF5 C API: files, groups, attributes, and tables as 1-D
// compound datasets (so pandas.DataFrame(h5py.File(p)["/x"][()]) loads them).
#include <hdf5.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

namespace reinforcer::h5 {

// Owns one HDF5 identifier; closes it with the matching H5?close.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id();
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {  // the caller closes it
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// One member of every row, as a table column: h5::column(rows, &Row::member).
template <typename Row, typename F>
std::vector<F> column(const std::vector<Row>& rows, F Row::*member) {
  std::vector<F> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.*member);
  return out;
}

// What one member of a compound row holds. Text is UTF-8: fixed-length and NUL-padded, or
// variable-length (`variable`), which a row holds as a `const char*` (nullptr: empty).
enum class MemberKind { int8, int32, int64, float64, text };
struct Member {
  std::string name;
  MemberKind kind = MemberKind::int64;
  std::size_t width = 0;  // bytes of a text member (numbers: their native size)
  bool variable = false;  // text only: variable-length (width is then sizeof(const char*))
  std::vector<std::string> labels = {};  // int8 only: an enum naming codes first_code, first_code + 1, ...
  std::int8_t first_code = 0;
};

// A row type declared once as its members, packed in order: it is the table's type when
// written and the memory type of a read, so the two cannot drift apart.
class Compound {
 public:
  explicit Compound(std::vector<Member> members);
  const std::vector<Member>& members() const { return members_; }
  std::size_t row_size() const { return row_size_; }
  std::size_t offset(std::size_t member) const { return offsets_[member]; }
  Id h5_type() const;  // the HDF5 compound type (native numbers)

 private:
  std::vector<Member> members_;
  std::vector<std::size_t> offsets_;
  std::size_t row_size_ = 0;
};

// Text columns whose values all fit in this many bytes are stored fixed-length (compact,
// compressed, read in one pass); a column holding a longer value is stored variable-length,
// so no value sizes the others beyond this (a 10 MB cell no longer makes every row 10 MB).
// 128 holds the call list's reasons (up to about 90 bytes): a variable-length column keeps a
// large table off the raw-chunk path and in HDF5's heap, which took most of the call list's
// write and read at a million leads.
inline constexpr std::size_t kFixedTextLimit = 128;

// The characters of a text member at `p` (a row's bytes at the member's offset), fixed or
// variable-length.
std::string_view text_member(const char* p, const Member& m);

// A table built column by column, written as one compound dataset. Strings are fixed
// length up to kFixedTextLimit, else variable-length; h5py reads both as bytes.
class Table {
 public:
  explicit Table(std::size_t rows) : rows_(rows) {}
  Table& add(const std::string& name, const std::vector<std::int8_t>& v);
  Table& add(const std::string& name, const std::vector<std::int32_t>& v);
  Table& add(const std::string& name, const std::vector<std::int64_t>& v);
  Table& add(const std::string& name, const std::vector<double>& v);
  Table& add(const std::string& name, const std::vector<std::string>& v);
  // A column of codes that names its values (an HDF5 enum: h5dump prints the names, h5py
  // reads the codes with the names in the dtype): labels[i] names code first_code + i.
  Table& add_enum(const std::string& name, const std::vector<std::int8_t>& codes, const std::vector<std::string>& labels,
                  std::int8_t first_code = 0);
  // A string column from a function of the row, without materialising the strings.
  Table& add_strings(const std::string& name, const std::function<std::string_view(std::size_t)>& value);
  // The same, its values copied only while the table is written, a chunk of rows at a time:
  // `value` (and the text its views show) must outlive write_table. For large tables whose
  // texts already exist elsewhere (the call list's codes).
  Table& add_text_view(const std::string& name, std::function<std::string_view(std::size_t)> value);
  // A number column read in place from one member of every row, copied only while the table is
  // written, a chunk of rows at a time (`rows` must outlive write_table): a large table's
  // columns are not copied whole (the call list's 15 number columns: 95 MB at 1M customers).
  template <typename Row, typename F>
  Table& add_member(const std::string& name, const std::vector<Row>& rows, F Row::*member) {
    static_assert(std::is_same_v<F, std::int8_t> || std::is_same_v<F, std::int32_t> || std::is_same_v<F, std::int64_t> ||
                      std::is_same_v<F, double>,
                  "a member column holds int8, int32, int64 or double");
    constexpr MemberKind kind = std::is_same_v<F, std::int8_t>    ? MemberKind::int8
                                : std::is_same_v<F, std::int32_t> ? MemberKind::int32
                                : std::is_same_v<F, std::int64_t> ? MemberKind::int64
                                                                  : MemberKind::float64;
    if (rows.size() != rows_) throw std::logic_error("table column " + name + ": wrong length");
    const char* first = rows.empty() ? nullptr : reinterpret_cast<const char*>(&(rows.front().*member));
    return add_strided(name, kind, sizeof(F), first, sizeof(Row));
  }
  std::size_t rows() const { return rows_; }

 private:
  friend class Group;
  struct Column {
    Member member;
    std::vector<char> data;  // rows * size, packed; variable text: the values, each NUL-terminated
    std::vector<std::size_t> starts;  // variable text: where each row's value begins in data
    std::function<std::string_view(std::size_t)> view;  // add_text_view: the values, read at write time
    const char* strided = nullptr;  // add_member: row r's value at strided + r * stride, read at write time
    std::size_t stride = 0;
  };
  Table& add_raw(const std::string& name, MemberKind kind, std::size_t size, const void* data);
  Table& add_strided(const std::string& name, MemberKind kind, std::size_t size, const char* first, std::size_t stride);
  std::size_t rows_;
  std::vector<Column> columns_;
};

class Group {
 public:
  explicit Group(Id id) : id_(std::move(id)) {}
  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  bool exists(const std::string& name) const;

  void write_table(const std::string& name, const Table& table) const;
  // Row-major 2-D arrays (chunked and deflated when large).
  void write_matrix(const std::string& name, const std::vector<double>& v, std::size_t rows, std::size_t cols) const;
  // The same matrix with its rows from fill(first, count, out) a block at a time (out: count
  // x cols, row-major), never whole in memory.
  void write_matrix_rows(const std::string& name, std::size_t rows, std::size_t cols,
                         const std::function<void(std::size_t first, std::size_t count, double* out)>& fill) const;
  void write_matrix(const std::string& name, const std::vector<std::int64_t>& v, std::size_t rows, std::size_t cols) const;
  // The first `cols` of every `stride` values (rows padded in memory), written [rows, cols]
  // without a packed copy.
  void write_matrix_columns(const std::string& name, const std::vector<double>& v, std::size_t rows, std::size_t stride,
                            std::size_t cols) const;
  void write_matrix_columns(const std::string& name, const std::vector<std::int64_t>& v, std::size_t rows,
                            std::size_t stride, std::size_t cols) const;
  // Reads a 2-D array; rows and cols receive its shape.
  std::vector<double> read_matrix(const std::string& name, std::size_t& rows, std::size_t& cols) const;
  std::vector<std::int64_t> read_int_matrix(const std::string& name, std::size_t& rows, std::size_t& cols) const;
  // [rows, cols] of a 2-D dataset, and rows [first, first + count) of it (all `cols`) into
  // `out`: a large matrix read a block at a time.
  std::array<std::size_t, 2> matrix_shape(const std::string& name) const;
  void read_matrix_rows(const std::string& name, std::size_t first, std::size_t count, std::size_t cols,
                        std::vector<double>& out) const;
  void read_matrix_rows(const std::string& name, std::size_t first, std::size_t count, std::size_t cols,
                        std::vector<std::int64_t>& out) const;
  // 1-D datasets (hdf5_vectors.cpp): text as variable-length UTF-8 (h5py reads str, and no
  // value's length sizes the others), whole numbers as int32 (chunked and deflated when large).
  void write_strings(const std::string& name, const std::vector<std::string>& v) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  void write_vector(const std::string& name, const std::vector<std::int32_t>& v) const;
  std::vector<std::int32_t> read_int32_vector(const std::string& name) const;
  // Copies object `name` of `source` (a dataset or group, with attributes) into this group.
  void copy_from(const Group& source, const std::string& name) const;
  std::vector<std::string> attribute_names() const;
  // Copies every attribute of `source` onto this group (same types), replacing same names.
  void copy_attributes_from(const Group& source) const;
  void remove_attribute(const std::string& name) const;
  double double_attribute(const std::string& name) const;
  // Names of the objects (groups, datasets) directly in this group.
  std::vector<std::string> member_names() const;

  void set_attribute(const std::string& name, const std::string& value) const;
  void set_attribute(const std::string& name, std::int64_t value) const;
  void set_attribute(const std::string& name, double value) const;
  std::string string_attribute(const std::string& name) const;  // throws if absent
  std::int64_t int_attribute(const std::string& name) const;
  bool has_attribute(const std::string& name) const;

  // One column of a compound table (partial read by member name).
  std::vector<std::int64_t> read_int_column(const std::string& table, const std::string& column) const;
  std::vector<double> read_double_column(const std::string& table, const std::string& column) const;
  std::vector<std::string> read_string_column(const std::string& table, const std::string& column) const;
  std::size_t table_rows(const std::string& table) const;
  // The declared members of `table` with the text widths the file stores (so no value is
  // cut); InputError naming the first member the table lacks or holds as another class.
  Compound table_layout(const std::string& table, std::vector<Member> declared) const;
  // Every row of `table` as packed `layout` rows, in one H5Dread: each compressed chunk is
  // read and inflated once, whatever the number of members. Variable-length text members
  // point into the buffer itself, past the rows (read them with text_member).
  std::vector<char> read_rows(const std::string& table, const Compound& layout) const;
  // Rows [first, first + count) of `table` into `rows` (count packed rows, then the
  // variable-length texts they point to), in one H5Dread; a block that starts and ends on
  // chunk boundaries inflates each of its chunks once.
  void read_rows(const std::string& table, const Compound& layout, std::size_t first, std::size_t count,
                 std::vector<char>& rows) const;
  struct ColumnInfo {
    std::string name;
    bool text = false;     // a string column
    bool integer = false;  // an integer column (else floating point)
  };
  std::vector<ColumnInfo> table_columns(const std::string& table) const;

  hid_t get() const { return id_.get(); }

 protected:
  hid_t release_id() { return id_.release(); }

 private:
  Id id_;
};

// Files this tool writes are sealed: a 512-byte user block ahead of the HDF5 data (h5py and
// h5dump skip it) holds the length and CRC-32 of everything after it, so a truncated or
// altered file is refused with one line before libhdf5 parses it (its parsers are not robust
// against damaged bytes). Files without a seal (written before it) are read unchecked.
inline constexpr std::size_t kSealBytes = 512;

class File : public Group {
 public:
  static File create(const std::string& path);     // truncates
  // InputError if not HDF5, or sealed and no longer what was written.
  static File open_read(const std::string& path);
  void flush() const;
  // Closes a created file (every object in it too) and seals it; PathError if the close or
  // the seal fails. A created file that is not closed is not sealed: readers then take it
  // for an unsealed one, so every writer closes.
  void close();

 private:
  File(Id id, std::string path, bool created) : Group(std::move(id)), path_(std::move(path)), created_(created) {}
  std::string path_;
  bool created_ = false;
};

// The seal of a closed file: writes it (PathError on failure); checks it (InputError naming
// the file when its length or checksum differs; nothing for an unsealed file).
void seal_file(const std::string& path);
void check_seal(const std::string& path);

}  // namespace reinforcer::h5
