// The HDF5 results readers on WELL-FORMED files of any shape. The input is decoded into a
// description of a file -- its groups, tables, matrices and attributes, under the names the
// readers expect or near them; each table member's type (integers of every width and sign,
// float, double, fixed and variable-length text, enums with odd codes, bitfields, arrays),
// ranks and shapes, chunked or contiguous storage, and values (NaN, inf, huge, negative,
// empty or non-UTF-8 text) -- which the HDF5 C API writes. libhdf5 thus always parses a valid
// file (its own defects on damaged bytes are the byte-level target's business), and every
// reader must either succeed or refuse with a user error (InputError, PathError); any other
// exception, a crash, a leak or undefined behaviour is a finding.
//
// Each decision reads one choice from the input; an exhausted input answers 0, and choice 0 is
// always the well-formed file's answer, so a one-byte input (the file's kind) decodes to a
// file its reader accepts (the seeds; REINFORCER_FUZZ_EXPECT_VALID=1 checks that).
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_file.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/checkpoint.hpp"
#include "reinforcer/results/evaluation_checkpoint.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/results/selection_file.hpp"
#include "reinforcer/results/trial_file.hpp"

namespace {

// The input as a sequence of choices.
class Choices {
 public:
  Choices(const std::uint8_t* data, std::size_t size) : fdp_(data, size) {}
  // 0 .. n-1, uniformly (0 when the input is exhausted).
  unsigned pick(unsigned n) { return n <= 1 ? 0 : fdp_.ConsumeIntegralInRange<unsigned>(0, n - 1); }
  // 0 (as written: three in four random bytes) or one of the n - 1 variants of a decision.
  unsigned variant(unsigned n) {
    const unsigned b = pick(256);
    return b < 192 || n <= 1 ? 0 : 1 + (b - 192) % (n - 1);
  }
  std::string bytes(std::size_t max) { return fdp_.ConsumeRandomLengthString(max); }

 private:
  FuzzedDataProvider fdp_;
};

// One HDF5 identifier, closed with its kind's call.
struct Handle {
  hid_t id = H5I_INVALID_HID;
  explicit Handle(hid_t i = H5I_INVALID_HID) : id(i) {}
  Handle(Handle&& o) noexcept : id(o.id) { o.id = H5I_INVALID_HID; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&& o) noexcept {
    std::swap(id, o.id);
    return *this;
  }
  ~Handle() {
    if (id < 0) return;
    switch (H5Iget_type(id)) {
      case H5I_FILE: H5Fclose(id); break;
      case H5I_GROUP: H5Gclose(id); break;
      case H5I_DATASET: H5Dclose(id); break;
      case H5I_DATASPACE: H5Sclose(id); break;
      case H5I_DATATYPE: H5Tclose(id); break;
      case H5I_ATTR: H5Aclose(id); break;
      case H5I_GENPROP_LST: H5Pclose(id); break;
      default: break;
    }
  }
  bool ok() const { return id >= 0; }
};

// A value every representation can take: the integer, the real and the text of it.
struct Value {
  std::int64_t i = 0;
  double d = 0;
  std::string s;
};
Value number(std::int64_t i) { return Value{i, static_cast<double>(i), std::to_string(i)}; }
Value real(double d) {
  const bool fits = std::isfinite(d) && std::fabs(d) < 9.2e18;
  return Value{fits ? static_cast<std::int64_t>(d) : std::numeric_limits<std::int64_t>::min(), d, std::to_string(d)};
}
Value text(std::string s) {
  Value v;
  v.i = static_cast<std::int64_t>(s.size()), v.d = static_cast<double>(s.size()), v.s = std::move(s);
  return v;
}

// What a reader expects a value to be.
enum class Expect { i8, i32, i64, f64, text };

// A value a writer would not write: the edges of every representation.
Value odd_value(Choices& in) {
  const double inf = std::numeric_limits<double>::infinity();
  switch (in.pick(24)) {
    case 0: return real(std::nan(""));
    case 1: return real(inf);
    case 2: return real(-inf);
    case 3: return real(1e308);
    case 4: return real(-1e308);
    case 5: return number(-1);
    case 6: return number(0);
    case 7: return number(std::int64_t{1} << 31);
    case 8: return number(std::int64_t{1} << 32);
    case 9: return number(std::numeric_limits<std::int64_t>::max());
    case 10: return number(std::numeric_limits<std::int64_t>::min());
    case 11: return real(4.9e-324);
    case 12: return real(-0.0);
    case 13: return number(127);
    case 14: return number(-129);
    case 15: return text("");
    case 16: return text("\xff\xfe\xc3(");
    case 17: return text(std::string(300, 'x'));
    case 18: return text(std::string("a\0b", 3));
    case 19: return text("B0");
    case 20: return text("B31");
    case 21: return text("2024-02-30");
    case 22: return number(std::numeric_limits<std::int32_t>::min());
    default: return text(in.bytes(40));
  }
}

// The values a writer writes: a few from a domain, or numbers in a range.
struct Domain {
  Expect kind = Expect::i64;
  std::vector<std::string> texts;  // text: the values
  std::int64_t low = 0, high = 3;  // numbers: the range (f64: hundredths of it)
  Value draw(Choices& in) const {
    if (in.variant(2) != 0) return odd_value(in);
    if (kind == Expect::text) return text(texts.empty() ? std::string() : texts[in.pick(static_cast<unsigned>(texts.size()))]);
    const std::int64_t n = low + static_cast<std::int64_t>(in.pick(static_cast<unsigned>(high - low + 1)));
    return kind == Expect::f64 ? real(static_cast<double>(n) / 100.0) : number(n);
  }
};
Domain texts(std::vector<std::string> v) { return Domain{Expect::text, std::move(v)}; }
Domain ints(Expect k, std::int64_t low, std::int64_t high) { return Domain{k, {}, low, high}; }
Domain reals(std::int64_t low = -100, std::int64_t high = 100) { return Domain{Expect::f64, {}, low, high}; }

// How a value is stored: the HDF5 type of a member, a matrix or an attribute.
enum class Stored {
  i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, i32be, text_fixed, text_vlen, enum8, bitfield8, array_i32x2, opaque4,
  count
};

Stored expected_storage(Expect e) {
  switch (e) {
    case Expect::i8: return Stored::i8;
    case Expect::i32: return Stored::i32;
    case Expect::i64: return Stored::i64;
    case Expect::f64: return Stored::f64;
    case Expect::text: break;
  }
  return Stored::text_fixed;
}

// The HDF5 type for `s` (text of `width` bytes), the same in memory and in the file.
Handle make_type(Stored s, std::size_t width, Choices& in) {
  switch (s) {
    case Stored::i8: return Handle(H5Tcopy(H5T_NATIVE_INT8));
    case Stored::u8: return Handle(H5Tcopy(H5T_NATIVE_UINT8));
    case Stored::i16: return Handle(H5Tcopy(H5T_NATIVE_INT16));
    case Stored::u16: return Handle(H5Tcopy(H5T_NATIVE_UINT16));
    case Stored::i32: return Handle(H5Tcopy(H5T_NATIVE_INT32));
    case Stored::u32: return Handle(H5Tcopy(H5T_NATIVE_UINT32));
    case Stored::i64: return Handle(H5Tcopy(H5T_NATIVE_INT64));
    case Stored::u64: return Handle(H5Tcopy(H5T_NATIVE_UINT64));
    case Stored::f32: return Handle(H5Tcopy(H5T_NATIVE_FLOAT));
    case Stored::f64: return Handle(H5Tcopy(H5T_NATIVE_DOUBLE));
    case Stored::i32be: return Handle(H5Tcopy(H5T_STD_I32BE));
    case Stored::text_fixed:
    case Stored::text_vlen: {
      Handle t(H5Tcopy(H5T_C_S1));
      H5Tset_size(t.id, s == Stored::text_vlen ? H5T_VARIABLE : width);
      const H5T_str_t pads[] = {H5T_STR_NULLPAD, H5T_STR_NULLTERM, H5T_STR_SPACEPAD};
      if (s == Stored::text_fixed) H5Tset_strpad(t.id, pads[in.variant(3)]);
      H5Tset_cset(t.id, in.variant(2) == 0 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
      return t;
    }
    case Stored::enum8: {
      Handle t(H5Tenum_create(H5T_NATIVE_INT8));
      const std::int8_t first = in.variant(3) == 0 ? 0 : static_cast<std::int8_t>(in.pick(2) ? -128 : 120);
      const char* labels[] = {"outbound", "inbound", "undated", "x"};
      const unsigned n = 1 + in.pick(4);
      for (unsigned k = 0; k < n; ++k) {
        const auto code = static_cast<std::int8_t>(first + static_cast<int>(k));
        H5Tenum_insert(t.id, labels[k], &code);
      }
      return t;
    }
    case Stored::bitfield8: return Handle(H5Tcopy(H5T_NATIVE_B8));
    case Stored::array_i32x2: {
      const hsize_t dims[1] = {2};
      return Handle(H5Tarray_create2(H5T_NATIVE_INT32, 1, dims));
    }
    case Stored::opaque4: {
      Handle t(H5Tcreate(H5T_OPAQUE, 4));
      H5Tset_tag(t.id, "bytes");
      return t;
    }
    case Stored::count: break;
  }
  return Handle(H5Tcopy(H5T_NATIVE_INT64));
}

// `v` as `s` into `out` (the type's size; text_vlen: a pointer to v.s, which must outlive it).
void encode(const Value& v, Stored s, std::size_t width, char* out) {
  auto put = [out](auto x) { std::memcpy(out, &x, sizeof x); };
  const auto u = static_cast<std::uint64_t>(v.i);
  switch (s) {
    case Stored::i8: case Stored::enum8: put(static_cast<std::int8_t>(static_cast<std::uint8_t>(u))); break;
    case Stored::u8: case Stored::bitfield8: put(static_cast<std::uint8_t>(u)); break;
    case Stored::i16: case Stored::u16: put(static_cast<std::uint16_t>(u)); break;
    case Stored::i32: case Stored::u32: case Stored::i32be: case Stored::opaque4: put(static_cast<std::uint32_t>(u)); break;
    case Stored::i64: case Stored::u64: put(u); break;
    case Stored::f32: {
      const double d = v.d;
      put(std::isfinite(d) && std::fabs(d) > FLT_MAX ? (d > 0 ? HUGE_VALF : -HUGE_VALF) : static_cast<float>(d));
      break;
    }
    case Stored::f64: put(v.d); break;
    case Stored::text_fixed:
      std::memset(out, 0, width);
      std::memcpy(out, v.s.data(), std::min(width, v.s.size()));
      break;
    case Stored::text_vlen: put(v.s.c_str()); break;
    case Stored::array_i32x2: put(static_cast<std::uint32_t>(u)), std::memcpy(out + 4, out, 4); break;
    case Stored::count: break;
  }
}

std::size_t stored_size(Stored s, std::size_t width) {
  switch (s) {
    case Stored::i8: case Stored::u8: case Stored::enum8: case Stored::bitfield8: return 1;
    case Stored::i16: case Stored::u16: return 2;
    case Stored::i32: case Stored::u32: case Stored::i32be: case Stored::f32: case Stored::opaque4: return 4;
    case Stored::i64: case Stored::u64: case Stored::f64: case Stored::array_i32x2: return 8;
    case Stored::text_fixed: return width;
    case Stored::text_vlen: return sizeof(const char*);
    case Stored::count: break;
  }
  return 8;
}

// The storage a reader expects for `e`, or (one time in four) any other.
Stored choose_storage(Choices& in, Expect e) {
  const Stored expected = expected_storage(e);
  if (in.variant(2) == 0) {
    // Text as the writer stores it: fixed length today, variable length after the tables' change.
    if (e == Expect::text && in.pick(2) == 1) return Stored::text_vlen;
    return expected;
  }
  return static_cast<Stored>(in.pick(static_cast<unsigned>(Stored::count)));
}

// A name as expected, or near it: another case, a space, another expected name, empty.
std::string choose_name(Choices& in, const std::string& name) {
  switch (in.variant(6)) {
    case 0: return name;
    case 1: { std::string n = name; if (!n.empty()) n[0] = static_cast<char>(n[0] ^ 0x20); return n; }
    case 2: return name + " ";
    case 3: return name.substr(0, name.size() / 2);
    case 4: return "values";
    default: return in.bytes(12);
  }
}

class Writer {
 public:
  explicit Writer(Choices& in) : in_(in) {}

  // The object's fate: written as asked (0), left out (1), a group or dataset of the other
  // kind (2), or a link that leads nowhere (3).
  enum Fate { as_asked, left_out, other_kind, dangling_link };
  Fate fate() { return static_cast<Fate>(in_.variant(4)); }

  Handle group(hid_t parent, const std::string& name) {
    const Fate f = fate();
    const std::string n = choose_name(in_, name);
    if (f == left_out) return Handle();
    if (f == dangling_link) {
      H5Lcreate_soft(in_.pick(2) ? "/nowhere" : "/customers", parent, n.c_str(), H5P_DEFAULT, H5P_DEFAULT);
      return Handle();
    }
    if (f == other_kind) {
      scalar_dataset(parent, n);
      return Handle();
    }
    return Handle(H5Gcreate2(parent, n.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }

  // An attribute on `object` holding `value` (of `domain` kind), or not quite.
  void attribute(hid_t object, const std::string& name, const Domain& domain, Value value) {
    if (in_.variant(2) != 0) {
      if (in_.pick(2) == 0) return;  // absent
      value = odd_value(in_);
    }
    const Stored s = choose_storage(in_, domain.kind);
    std::size_t width = std::max<std::size_t>(1, value.s.size());
    if (s == Stored::text_fixed && in_.variant(2) != 0) width = 1 + in_.pick(8);
    Handle type = make_type(s, width, in_);
    // Scalar, or an array of values where one is expected, or none at all.
    Handle space;
    const unsigned shape = in_.variant(4);
    const hsize_t n = shape == 2 ? 1 + in_.pick(5) : 1;
    if (shape == 0) space = Handle(H5Screate(H5S_SCALAR));
    else if (shape == 3) space = Handle(H5Screate(H5S_NULL));
    else space = Handle(H5Screate_simple(1, &n, nullptr));
    const std::string attribute_name = choose_name(in_, name);
    if (H5Aexists(object, attribute_name.c_str()) > 0) return;
    Handle a(H5Acreate2(object, attribute_name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT));
    if (!a.ok() || shape == 3) return;
    const std::size_t size = stored_size(s, width);
    std::vector<char> buf(size * n);
    for (hsize_t k = 0; k < n; ++k) encode(value, s, width, buf.data() + k * size);
    H5Awrite(a.id, type.id, buf.data());
  }
  void text_attribute(hid_t object, const std::string& name, const std::string& value) {
    attribute(object, name, texts({value}), text(value));
  }
  void int_attribute(hid_t object, const std::string& name, std::int64_t value) {
    attribute(object, name, ints(Expect::i64, value, value), number(value));
  }
  void real_attribute(hid_t object, const std::string& name, double value) {
    attribute(object, name, reals(), real(value));
  }

  // A column of a table: its name, what the reader expects, the values a writer writes.
  struct Column {
    std::string name;
    Domain domain;
  };

  // How many rows: `rows`, or another count.
  std::size_t rows(std::size_t rows) {
    const std::size_t counts[] = {0, 1, 2, 5, 17, 64, 300};
    return in_.variant(2) == 0 ? rows : counts[in_.pick(7)];
  }

  // A 1-D compound dataset of `columns` (any of which may be missing, renamed, of another
  // type or reordered) with `n` rows.
  void table(hid_t parent, const std::string& name, std::vector<Column> columns, std::size_t n) {
    const Fate f = fate();
    const std::string table_name = choose_name(in_, name);
    if (f == left_out) return;
    if (f == dangling_link) {
      H5Lcreate_soft("/nowhere", parent, table_name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
      return;
    }
    if (f == other_kind) {
      H5Gclose(H5Gcreate2(parent, table_name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      return;
    }
    if (in_.variant(2) != 0) {  // members reversed, or one more of any name
      if (in_.pick(2)) std::reverse(columns.begin(), columns.end());
      else columns.push_back(Column{in_.bytes(10), ints(Expect::i64, 0, 3)});
    }
    struct Member {
      std::string name;
      Stored stored;
      std::size_t width, offset;
      Handle type;
      std::vector<Value> values;
    };
    std::vector<Member> members;
    std::size_t row_size = 0;
    for (const Column& c : columns) {
      if (in_.variant(2) != 0 && in_.pick(2) == 0) continue;  // a member left out
      Member m{choose_name(in_, c.name), choose_storage(in_, c.domain.kind), 1, 0, Handle(), {}};
      for (std::size_t r = 0; r < n; ++r) m.values.push_back(c.domain.draw(in_));
      for (const Value& v : m.values) m.width = std::max(m.width, v.s.size());
      if (m.stored == Stored::text_fixed && in_.variant(2) != 0) m.width = 1 + in_.pick(8);  // values cut
      m.type = make_type(m.stored, m.width, in_);
      m.offset = row_size;
      row_size += stored_size(m.stored, m.width);
      members.push_back(std::move(m));
    }
    Handle type(H5Tcreate(H5T_COMPOUND, std::max<std::size_t>(row_size, 1)));
    for (const Member& m : members) H5Tinsert(type.id, m.name.c_str(), m.offset, m.type.id);  // a repeated name fails: left out
    std::vector<char> buf(std::max<std::size_t>(n * row_size, 1));
    for (const Member& m : members)
      for (std::size_t r = 0; r < n; ++r) encode(m.values[r], m.stored, m.width, buf.data() + r * row_size + m.offset);
    dataset(parent, table_name, type.id, n, 0, false, buf.data());
  }

  // A 2-D dataset [rows, cols] (or of another rank) of `domain` values; value(r, c) is the
  // valid one.
  void matrix(hid_t parent, const std::string& name, const Domain& domain, std::size_t rows, std::size_t cols,
              const std::function<Value(std::size_t, std::size_t)>& value = {}) {
    const Fate f = fate();
    const std::string n = choose_name(in_, name);
    if (f == left_out) return;
    if (f == dangling_link || f == other_kind) {
      if (f == other_kind) H5Gclose(H5Gcreate2(parent, n.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      else H5Lcreate_soft("/nowhere", parent, n.c_str(), H5P_DEFAULT, H5P_DEFAULT);
      return;
    }
    if (in_.variant(2) != 0) rows = this->rows(rows + 1);
    if (in_.variant(2) != 0) cols = in_.pick(9);
    const Stored s = choose_storage(in_, domain.kind);
    std::vector<Value> values;
    std::size_t width = 1;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        values.push_back(value && in_.variant(2) == 0 ? value(r, c) : domain.draw(in_));
        width = std::max(width, values.back().s.size());
      }
    Handle type = make_type(s, width, in_);
    const std::size_t size = stored_size(s, width);
    std::vector<char> buf(std::max<std::size_t>(values.size() * size, 1));
    for (std::size_t k = 0; k < values.size(); ++k) encode(values[k], s, width, buf.data() + k * size);
    dataset(parent, n, type.id, rows, cols, true, buf.data());
  }

  // A 1-D dataset of `domain` values (attribute levels and codes).
  void vector(hid_t parent, const std::string& name, const Domain& domain, const std::vector<Value>& valid) {
    const std::string n = choose_name(in_, name);
    if (in_.variant(3) == 1) return;
    const Stored s = domain.kind == Expect::text && in_.variant(2) == 0 ? Stored::text_vlen : choose_storage(in_, domain.kind);
    std::vector<Value> values;
    for (const Value& v : valid) values.push_back(in_.variant(2) == 0 ? v : domain.draw(in_));
    if (in_.variant(2) != 0) values.resize(rows(values.size()), text("B2"));
    std::size_t width = 1;
    for (const Value& v : values) width = std::max(width, v.s.size());
    Handle type = make_type(s, width, in_);
    const std::size_t size = stored_size(s, width);
    std::vector<char> buf(std::max<std::size_t>(values.size() * size, 1));
    for (std::size_t k = 0; k < values.size(); ++k) encode(values[k], s, width, buf.data() + k * size);
    dataset(parent, n, type.id, values.size(), 0, false, buf.data());
  }

 private:
  // Writes `buf` ([rows], or [rows, cols] when two_d) in a dataspace of that shape or
  // another rank, contiguous, compact or chunked (deflated or not), or never written (fill values).
  void dataset(hid_t parent, const std::string& name, hid_t type, std::size_t rows, std::size_t cols, bool two_d,
               const char* buf) {
    hsize_t dims[3] = {rows, cols, 1};
    int rank = two_d ? 2 : 1;
    bool claims = false;
    switch (in_.variant(6)) {
      case 1: rank = 0; break;                                           // scalar
      case 2: rank = rank == 1 ? 2 : 1, dims[1] = 1; break;              // [rows, 1] or [rows * cols]
      case 3: rank = 3, dims[1] = two_d ? cols : 1; break;               // one more axis
      case 4: dims[0] = 0; break;                                        // no rows
      case 5: claims = true; break;                                      // rows it never stores
      default: break;
    }
    if (rank == 1 && two_d) dims[0] = rows * cols;
    if (claims) dims[0] = hsize_t{1} << (20 + in_.pick(24));
    hsize_t max[3] = {dims[0], dims[1], dims[2]};
    hsize_t total = 1;
    for (int k = 0; k < rank; ++k) total *= dims[k];
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    const unsigned layout = rank == 0 ? 0 : claims ? 1 : in_.variant(4);
    if (layout == 1 || layout == 2) {  // chunked, with (2) or without (1) deflate, maybe growable
      hsize_t chunk[3] = {1 + in_.pick(20), 1 + in_.pick(8), 1};
      for (int k = 0; k < rank; ++k) chunk[k] = std::min<hsize_t>(chunk[k], std::max<hsize_t>(dims[k], 1));
      H5Pset_chunk(dcpl.id, rank, chunk);
      if (layout == 2) {
        if (in_.pick(2)) H5Pset_shuffle(dcpl.id);
        H5Pset_deflate(dcpl.id, 1 + in_.pick(9));
      }
      if (in_.variant(2) != 0) max[0] = H5S_UNLIMITED;
    } else if (layout == 3 && total * H5Tget_size(type) < 30000) {
      H5Pset_layout(dcpl.id, H5D_COMPACT);
    }
    Handle space(rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, max));
    Handle ds(H5Dcreate2(parent, name.c_str(), type, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT));
    const bool unwritten = claims || in_.variant(8) != 0;  // fill values only
    const std::size_t have = two_d ? rows * cols : rows;
    if (!ds.ok() || unwritten || total == 0 || have == 0) return;
    // As many values as the dataset holds: the buffer's, repeated when the shape holds more.
    const std::size_t size = H5Tget_size(type);
    std::vector<char> all(static_cast<std::size_t>(total) * size);
    for (std::size_t k = 0; k < total; ++k) std::memcpy(all.data() + k * size, buf + (k % have) * size, size);
    H5Dwrite(ds.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data());
  }

  void scalar_dataset(hid_t parent, const std::string& name) {
    Handle space(H5Screate(H5S_SCALAR));
    Handle ds(H5Dcreate2(parent, name.c_str(), H5T_NATIVE_INT64, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }

  Choices& in_;
};

// ---- The files the readers read, as their writers lay them out -------------------------

const std::vector<std::string> kFormats = {
    "reinforcer-prepared", "reinforcer-run", "reinforcer-evaluated", "reinforcer-engagement", "reinforcer-checkpoint",
    "reinforcer-evaluation-checkpoint", "reinforcer-trial", "reinforcer-selection"};

void identity(Writer& w, Choices& in, hid_t file, const std::string& format, std::int64_t version) {
  std::string f = format;
  std::int64_t v = version;
  if (in.variant(2) != 0) f = kFormats[in.pick(static_cast<unsigned>(kFormats.size()))];
  if (in.variant(2) != 0) v = static_cast<std::int64_t>(in.pick(5));
  w.text_attribute(file, "format", f);
  w.int_attribute(file, "format_version", v);
}

const Domain kCohorts = texts({"outbound", "inbound", "undated"});
const Domain kCohortsAll = texts({"all", "outbound", "inbound", "undated"});

void customers(Writer& w, Choices& in, hid_t file) {
  const std::size_t n = w.rows(3);
  std::vector<Writer::Column> c = {
      {"id", ints(Expect::i64, 1, 1000)},
      {"sheet_row", ints(Expect::i64, 2, 1000)},
      {"country", texts({"Spain", "Mexico", "", "Ghana"})},
      {"education", texts({"", "B1", "B12", "B30"})},
      {"status", texts({"", "1st message", "2nd message", "3rd message"})},
      {"stage", texts({"", "interested", "not interested", "declined/canceled call", "did not join the call",
                       "do not contact", "subscribed already"})},
      {"first_contact_day", ints(Expect::i32, 19000, 19500)},
      {"last_contact_day", ints(Expect::i32, 19000, 19500)}};
  for (const char* d : {"first_call_day", "demo_day", "survey_day", "platform_signup_day", "account_manager_day",
                        "subscribed_day"})
    c.push_back({d, ints(Expect::i32, 19000, 19500)});
  for (Writer::Column x : std::vector<Writer::Column>{
           {"platform_signup_declined", ints(Expect::i8, 0, 1)}, {"subscribed", ints(Expect::i8, 0, 1)},
           {"cohort", kCohorts}, {"t0_day", ints(Expect::i32, 19000, 19500)}, {"t0_month", ints(Expect::i8, 1, 12)},
           {"split", texts({"train", "val", "test", "none"})}, {"fold", ints(Expect::i8, 0, 4)}})
    c.push_back(x);
  w.table(file, "customers", c, n);
  // Customer attributes: `count` groups "0", "1", ... each with a name, levels and a code per customer.
  if (in.pick(2) == 0) return;
  Handle g = w.group(file, "customer_attributes");
  if (!g.ok()) return;
  const std::int64_t count = 1 + in.pick(2);
  w.int_attribute(g.id, "count", count);
  for (std::int64_t k = 0; k < count; ++k) {
    Handle a = w.group(g.id, std::to_string(k));
    if (!a.ok()) continue;
    w.text_attribute(a.id, "name", k == 0 ? "industry" : "region");
    const std::vector<Value> levels = {text("retail"), text("other")};
    w.vector(a.id, "levels", texts({"retail", "other", ""}), levels);
    std::vector<Value> code;
    for (std::size_t i = 0; i < n; ++i) code.push_back(number(static_cast<std::int64_t>(i % 3) - 1));
    w.vector(a.id, "code", ints(Expect::i32, -1, 1), code);
  }
}

void prepared_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-prepared", 1);
  customers(w, in, file);
  Handle q = w.group(file, "quality");
  if (q.ok()) w.text_attribute(q.id, "export_date", "2024-03-31");
}

void regret_table(Writer& w, hid_t g) {
  w.table(g, "regret",
          {{"cohort", kCohortsAll}, {"customers", ints(Expect::i64, 0, 50)}, {"optimum", reals()}, {"learned", reals()},
           {"regret", reals()}, {"regret_low95", reals()}, {"regret_high95", reals()}, {"p95_start_regret", reals()}},
          w.rows(2));
}

// Which run file: 0 format version 3, 1 version 2 (read as a run, not by the report), 2 evaluated.
unsigned run_file(Writer& w, Choices& in, hid_t file) {
  const unsigned kind = in.pick(3);
  identity(w, in, file, kind == 2 ? "reinforcer-evaluated" : "reinforcer-run", kind == 1 ? 2 : 3);
  w.text_attribute(file, in.pick(2) ? "config" : "train_config", "episodes = 10\n");
  w.text_attribute(file, "export_date", "2024-03-31");
  w.int_attribute(file, "workers", 2);
  w.int_attribute(file, "episodes_per_worker", 10);
  w.text_attribute(file, "agent", in.pick(2) ? "dqn" : "tabular");
  w.text_attribute(file, "environment", in.pick(2) ? "replay" : "funnel");
  w.text_attribute(file, "features", "cohort,call");
  w.int_attribute(file, "dqn_steps_per_worker", 100);
  customers(w, in, file);
  Handle q = w.group(file, "q");
  const std::size_t states = w.rows(4);
  if (q.ok()) {
    w.matrix(q.id, "values", reals(), states, reinforcer::kActions);
    w.matrix(q.id, "visits", ints(Expect::i64, 0, 9), states, reinforcer::kActions);
  }
  if (in.pick(4) != 0) {
    Handle g = w.group(file, "quality");
    if (g.ok()) {
      regret_table(w, g.id);
      w.text_attribute(g.id, "best_constant_policy", "call");
      w.real_attribute(g.id, "best_constant_value", 0.25);
      w.real_attribute(g.id, "learned_minus_best_constant", 0.01);
      w.real_attribute(g.id, "learned_minus_best_constant_low95", -0.02);
      w.real_attribute(g.id, "learned_minus_best_constant_high95", 0.03);
      w.int_attribute(g.id, "refits", 20);
    }
  }
  if (kind != 2 && in.variant(2) == 0) return kind;
  // The call list of an evaluated file.
  Handle e = w.group(file, "evaluation");
  if (!e.ok()) return kind;
  w.int_attribute(e.id, "bootstrap", 3);
  const std::size_t leads = w.rows(3);
  std::vector<Writer::Column> c = {{"id", ints(Expect::i64, 1, 1000)}};
  // The section is one the list is arranged by (an unknown one is the reader's user error).
  c.push_back({"section", texts({"act", "wait", "stale", "negative stage", "beyond capacity"})});
  for (const char* t : {"cohort", "country", "education", "stage", "milestones", "next_action", "break_even_action",
                        "segment", "reason"})
    c.push_back({t, texts({"call", "outbound", "Spain", "B3", ""})});
  for (const char* t : {"weeks_since_t0", "weeks_since_activity", "scored_week", "band", "progress"})
    c.push_back({t, ints(Expect::i32, 0, 52)});
  for (const char* t : {"p_subscribe", "low95", "high95", "extra_subscriptions", "gain", "assumed_success",
                        "break_even_success", "p_subscribe_acting", "expected_value"})
    c.push_back({t, reals(0, 100)});
  w.table(e.id, "call_list", c, leads);
  Handle r = w.group(e.id, "call_list_refits");
  if (!r.ok()) return kind;
  const std::int64_t refits = in.pick(3);
  w.int_attribute(r.id, "refits", refits);
  w.int_attribute(r.id, "widened_intervals", 0);
  w.matrix(r.id, "p_subscribe", reals(0, 100), refits ? leads : 0, static_cast<std::size_t>(refits));
  w.matrix(r.id, "gain", reals(), refits ? leads : 0, static_cast<std::size_t>(refits));
  return kind;
}

void engagement_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-engagement", 1);
  w.text_attribute(file, "agent", in.pick(2) ? "dqn" : "tabular");
  w.int_attribute(file, "workers", 1);
  w.int_attribute(file, "episodes_per_worker", 100);
  w.int_attribute(file, "dqn_steps_per_worker", 1000);
  w.real_attribute(file, "agent_start_value", 1.5);
  w.int_attribute(file, "start_cells", 12);
  w.real_attribute(file, "optimum_start_value", 1.75);
  w.real_attribute(file, "agent_regret", 0.14);
  w.table(file, "baselines",
          {{"policy", texts({"random", "always_call", "always_wait", "nothing_", "_"})}, {"start_value", reals()}},
          w.rows(3));
}

const reinforcer::Fingerprint kFingerprint = {{"config", "episodes = 10"}, {"input_sha256", "ab12"}};

void fingerprint(Writer& w, hid_t file) {
  Handle g = w.group(file, "fingerprint");
  if (!g.ok()) return;
  for (const auto& [k, v] : kFingerprint) w.text_attribute(g.id, k, v);
}

void checkpoint_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-checkpoint", 3);
  fingerprint(w, file);
  w.int_attribute(file, "rounds_done", 4);
  const std::size_t states = w.rows(3);
  w.matrix(file, "q", reals(), states, 8);
  w.matrix(file, "visits", ints(Expect::i64, 0, 9), states, 8);
  std::vector<Writer::Column> c = {{"round", ints(Expect::i64, 0, 9)}, {"episodes", ints(Expect::i64, 0, 999)}};
  for (const char* t : {"mean_reward", "subscription_rate", "epsilon", "mean_abs_dq", "regret", "wall_seconds",
                        "wait_seconds", "sync_seconds"})
    c.push_back({t, reals()});
  c.push_back({"steps", ints(Expect::i64, 0, 999)});
  c.push_back({"episode_seconds", reals()});
  c.push_back({"synced_rows", ints(Expect::i64, 0, 99)});
  w.table(file, "learning_curve", c, w.rows(3));
}

void evaluation_checkpoint_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-evaluation-checkpoint", reinforcer::kEvaluationCheckpointFormatVersion);
  fingerprint(w, file);
  const std::size_t done = 1 + in.pick(3);
  w.int_attribute(file, "tasks", 5);
  w.int_attribute(file, "tasks_finished", static_cast<std::int64_t>(done));
  // Task k finished with 2 values: [offset[k], offset[k + 1]) of values.
  const Domain task = ints(Expect::i64, 0, 6);
  w.matrix(file, "task", task, done, 1, [](std::size_t r, std::size_t) { return number(static_cast<std::int64_t>(r)); });
  w.matrix(file, "offset", ints(Expect::i64, -1, 9), done + 1, 1,
           [](std::size_t r, std::size_t) { return number(2 * static_cast<std::int64_t>(r)); });
  w.matrix(file, "values", reals(), 2 * done, 1);
}

void trial_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-trial", 1);
  const std::int64_t i = 3;
  const double x = 0.5;
  const std::string t = "complete";
  for (const char* k : {"index", "rung", "episodes", "workers", "steps", "slurm_restart_count"}) w.int_attribute(file, k, i);
  for (const char* k : {"regret", "regret_p95", "optimum", "learned", "auc_fold", "wall_seconds", "fit_seconds",
                        "train_seconds", "judge_seconds"})
    w.real_attribute(file, k, x);
  for (const char* k : {"status", "error", "grid_sha256", "prepared_sha256", "config", "host", "started_at",
                        "finished_at", "slurm_job_id", "slurm_array_job_id", "slurm_array_task_id"})
    w.text_attribute(file, k, t);
  Handle p = w.group(file, "parameters");
  if (p.ok())
    for (unsigned k = 0, n = in.pick(3); k < n; ++k) w.text_attribute(p.id, k ? "alpha" : "episodes", "0.1");
  regret_table(w, file);
}

void selection_file(Writer& w, Choices& in, hid_t file) {
  identity(w, in, file, "reinforcer-selection", 1);
  w.text_attribute(file, "objective", "predictive");
  for (const char* k : {"customers", "bootstrap", "exhaustive", "lattice", "best_bits", "rl_ran", "rl_best_bits",
                        "rl_evaluations", "rl_episodes", "ranks", "threads"})
    w.int_attribute(file, k, 1);
  for (const char* k : {"element_cost", "score_empty", "score_all", "rl_best_net", "rl_regret", "seconds"})
    w.real_attribute(file, k, 0.5);
  w.text_attribute(file, "rl_stop_reason", "budget");
  std::vector<Writer::Column> e = {{"name", texts({"cohort", "call", ""})}, {"kind", texts({"feature", "action"})}};
  for (const char* k : {"shapley", "shapley_low95", "shapley_high95", "marginal", "marginal_low95", "marginal_high95"})
    e.push_back({k, reals()});
  e.push_back({"in_best", ints(Expect::i8, 0, 1)});
  w.table(file, "elements", e, w.rows(2));
  w.table(file, "subsets",
          {{"bits", ints(Expect::i64, 0, 3)}, {"elements", texts({"(none)", "cohort", "cohort,call"})},
           {"size", ints(Expect::i32, 0, 2)}, {"score", reals()}, {"net", reals()}, {"log_likelihood", reals()},
           {"auc", reals(0, 100)}, {"rl_evaluated", ints(Expect::i8, 0, 1)}},
          w.rows(4));
  w.table(file, "rl_curve", {{"batch", ints(Expect::i64, 0, 9)}, {"evaluations", ints(Expect::i64, 0, 99)}, {"best_net", reals()}},
          w.rows(3));
}

enum Kind { prepared, run, engagement, checkpoint, evaluation_checkpoint, trial, selection, kinds };

// What was written: the kind of file and (run) which run file.
struct Written {
  Kind kind;
  unsigned run = 0;
};

// Writes the file the input describes.
Written write_file(Choices& in, const std::string& path) {
  const auto kind = static_cast<Kind>(in.pick(kinds));
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (in.variant(2) != 0) H5Pset_libver_bounds(fapl.id, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);  // newer object headers
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id));
  if (!file.ok()) std::abort();
  Writer w(in);
  unsigned which_run = 0;
  switch (kind) {
    case prepared: prepared_file(w, in, file.id); break;
    case run: which_run = run_file(w, in, file.id); break;
    case engagement: engagement_file(w, in, file.id); break;
    case checkpoint: checkpoint_file(w, in, file.id); break;
    case evaluation_checkpoint: evaluation_checkpoint_file(w, in, file.id); break;
    case trial: trial_file(w, in, file.id); break;
    case selection: selection_file(w, in, file.id); break;
    case kinds: break;
  }
  return Written{kind, which_run};
}

// One reader on the file: success or a user error; anything else ends the run.
template <typename Read>
void expect_user_error(const char* reader, Read&& read, bool must_succeed) {
  try {
    read();
  } catch (const reinforcer::Error& e) {
    const bool user = e.code() == reinforcer::ExitCode::bad_input || e.code() == reinforcer::ExitCode::path;
    if (!user || must_succeed) {
      std::fprintf(stderr, "%s: %s error: %s\n", reader, user ? "unexpected" : "not a user", e.what());
      std::abort();
    }
  }
}


void configure_hdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // libhdf5 keeps the fixed-size structures it frees on its own free lists without limit:
  // every file it opens allocates about a megabyte (the metadata cache), which the sanitizer's
  // allocator would otherwise map, fault in and unmap each time (most of an execution's time).
  // Blocks of other sizes keep bounded lists: kept without limit, every new size would stay
  // allocated (memory growing, and each execution that allocates more than it frees makes
  // libFuzzer search the whole heap for leaks). Only libhdf5's own blocks are recycled this
  // way; ours are still checked.
  H5set_free_list_limits(-1, -1, 4 << 20, 1 << 20, 16 << 20, 4 << 20);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  configure_hdf5();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reinforcer;
  static const std::string path = fuzz::scratch_path(".h5");
  static const bool expect_valid = std::getenv("REINFORCER_FUZZ_EXPECT_VALID") != nullptr;
  // libhdf5 keeps every type conversion it has done (each new compound pair) for the life of
  // the library: a run of millions of different tables grows without bound. Closing the
  // library now and then frees them; the next call opens it again.
  static long executions = 0;
  if (++executions % 1000 == 0) {
    H5close();
    configure_hdf5();
  }
  Choices in(data, size);
  const Written file = write_file(in, path);
  const Kind kind = file.kind;
  const std::int64_t tasks = in.pick(2) ? -1 : 5;
  const bool with_values = in.pick(2) == 0;
  struct Reader {
    const char* name;
    std::vector<Kind> reads;  // the kinds of file it is for
    std::function<void()> read;
    bool must_succeed;        // on a seed
  };
  const bool seed = expect_valid;
  const std::vector<Reader> readers = {
      {"read_prepared_customers", {prepared}, [&] { read_prepared_customers(path); }, seed},
      {"read_prepared_export_date", {prepared}, [&] { read_prepared_export_date(path); }, seed},
      {"read_run_file", {Kind::run}, [&] { read_run_file(path); }, seed},
      {"read_run_quality", {Kind::run, engagement}, [&] { read_run_quality(path); }, seed && file.run != 1},
      {"read_call_list",
       {Kind::run},
       [&] {  // arranged too: the refits' matrices are read then, a block of leads at a time
         const CallList list = read_call_list(h5::File::open_read(path), path);
         arrange_call_list(list.rows, list.refits, RankBy::gain, 0, 100);
       },
       seed && file.run == 2},
      {"read_checkpoint", {checkpoint}, [&] { read_checkpoint(path, kFingerprint); }, seed},
      {"read_evaluation_checkpoint", {evaluation_checkpoint},
       [&] { read_evaluation_checkpoint(path, kFingerprint, tasks, with_values); }, seed},
      {"read_trial_file", {trial}, [&] { read_trial_file(path); }, seed},
      {"read_selection_file", {selection}, [&] { read_selection_file(path); }, seed}};
  std::vector<const Reader*> own;
  for (const Reader& r : readers)
    if (std::find(r.reads.begin(), r.reads.end(), kind) != r.reads.end()) own.push_back(&r);
  if (seed) {  // every reader of the kind accepts its seed
    for (const Reader* r : own) expect_user_error(r->name, r->read, r->must_succeed);
    return 0;
  }
  // One reader per execution (opening a file costs as much as writing it): three times in
  // four one of the file's kind, else any (a file of one kind may carry another's format).
  const Reader* r = in.pick(4) < 3 ? own[in.pick(static_cast<unsigned>(own.size()))]
                                   : &readers[in.pick(static_cast<unsigned>(readers.size()))];
  expect_user_error(r->name, r->read, false);
  return 0;
}
