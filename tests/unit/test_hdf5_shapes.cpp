// The HDF5 readers on well-formed files of shapes their writers never make (found by the
// fuzz_hdf5_tables target): each is refused with a user error, never read past a buffer.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

// A new file at `path` whose root has one attribute of `values` values of `type`.
void write_attribute(const std::string& path, const std::string& name, hid_t type, hsize_t values) {
  const h5::File f = h5::File::create(path);
  const h5::Id space(H5Screate_simple(1, &values, nullptr));
  const h5::Id a(H5Acreate2(f.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  REQUIRE(a.valid());
  std::vector<char> bytes(values * H5Tget_size(type), 0);
  const char* text = "reinforcer-prepared";
  if (H5Tis_variable_str(type) > 0)
    for (hsize_t k = 0; k < values; ++k) std::memcpy(bytes.data() + k * sizeof text, &text, sizeof text);
  if (values > 0) REQUIRE(H5Awrite(a.get(), type, bytes.data()) >= 0);
}

}  // namespace

TEST_CASE("hdf5 shapes: an attribute of several values where one is expected is refused", "[hdf5][fuzz]") {
  test::TempDir dir;
  const std::string path = dir.file("a.h5");
  h5::Id text(H5Tcopy(H5T_C_S1));
  H5Tset_size(text.get(), H5T_VARIABLE);
  H5Tset_cset(text.get(), H5T_CSET_UTF8);
  h5::Id fixed(H5Tcopy(H5T_C_S1));
  H5Tset_size(fixed.get(), 4);

  write_attribute(path, "format", text.get(), 4);  // four pointers were written over one
  CHECK_THROWS_WITH(h5::File::open_read(path).string_attribute("format"),
                    "attribute 'format' holds 4 values where one is expected");
  write_attribute(path, "format", fixed.get(), 3);  // 12 bytes over a 4-byte string
  CHECK_THROWS_AS(h5::File::open_read(path).string_attribute("format"), InputError);
  write_attribute(path, "format_version", H5T_NATIVE_INT64, 2);
  CHECK_THROWS_AS(h5::File::open_read(path).int_attribute("format_version"), InputError);
  write_attribute(path, "seconds", H5T_NATIVE_DOUBLE, 5);
  CHECK_THROWS_AS(h5::File::open_read(path).double_attribute("seconds"), InputError);
  write_attribute(path, "seconds", H5T_NATIVE_DOUBLE, 0);  // an empty array: no value at all
  CHECK_THROWS_AS(h5::File::open_read(path).double_attribute("seconds"), InputError);
  // One value in a one-element array reads as the scalar it stands for.
  write_attribute(path, "format_version", H5T_NATIVE_INT64, 1);
  CHECK(h5::File::open_read(path).int_attribute("format_version") == 0);
}

TEST_CASE("hdf5 shapes: a compound dataset of two axes is not a table", "[hdf5][fuzz]") {
  test::TempDir dir;
  const std::string path = dir.file("t.h5");
  {
    const h5::File f = h5::File::create(path);
    const h5::Compound row({{"id", h5::MemberKind::int64}});
    const h5::Id type = row.h5_type();
    const hsize_t dims[2] = {3, 2};  // the row count's neighbour on the stack received the 2
    const h5::Id space(H5Screate_simple(2, dims, nullptr));
    const h5::Id ds(H5Dcreate2(f.get(), "customers", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(ds.valid());
  }
  const h5::File f = h5::File::open_read(path);
  CHECK_THROWS_WITH(f.table_rows("customers"), "'customers' is not a table (a 1-D dataset of rows)");
  CHECK_THROWS_AS(f.read_int_column("customers", "id"), InputError);
  CHECK_THROWS_AS(f.read_string_column("customers", "id"), InputError);
  CHECK_THROWS_AS(f.table_layout("customers", {{"id", h5::MemberKind::int64}}), InputError);
}

TEST_CASE("hdf5 shapes: a matrix that claims more rows than its file can hold is refused", "[hdf5][fuzz]") {
  test::TempDir dir;
  const std::string path = dir.file("m.h5");
  {
    const h5::File f = h5::File::create(path);
    const hsize_t dims[2] = {hsize_t{1} << 40, 7}, chunk[2] = {16, 7};  // chunks never written: no storage
    const h5::Id space(H5Screate_simple(2, dims, nullptr));
    const h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), 2, chunk);
    const h5::Id ds(H5Dcreate2(f.get(), "values", H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    REQUIRE(ds.valid());
  }
  // Callers size a buffer by the rows (read_run_file: a byte per state, a terabyte here).
  CHECK_THROWS_AS(h5::File::open_read(path).matrix_shape("values"), InputError);
}
