// 1-D datasets: variable-length text and int32 columns that live outside compound tables.
#include <algorithm>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"

#include "hdf5_check.hpp"

namespace reinforcer::h5 {
namespace {


Id vlen_text_type() {
  Id t(check(H5Tcopy(H5T_C_S1), "copy the string type"));
  check_status(H5Tset_size(t.get(), H5T_VARIABLE), "set a variable string size");
  check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set a string character set");
  return t;
}

Id open_vector(hid_t group, const std::string& name, hsize_t& n) {
  if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0) throw InputError("the file has no dataset '" + name + "'");
  Id ds(check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), "open " + name));
  Id space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw InputError("dataset '" + name + "' is not a 1-D array");
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  require_plausible_size(ds.get(), n, sizeof(std::int32_t), "read " + name);  // a text value takes at least that
  return ds;
}

constexpr hsize_t kChunk = 1 << 14;

}  // namespace

void Group::write_strings(const std::string& name, const std::vector<std::string>& v) const {
  const hsize_t n = v.size();
  Id type = vlen_text_type();
  Id space(H5Screate_simple(1, &n, nullptr));
  Id ds(check(H5Dcreate2(get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              "create " + name));
  std::vector<const char*> p;
  for (const auto& s : v) p.push_back(s.c_str());
  if (n) check_status(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "write " + name);
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  hsize_t n = 0;
  Id ds = open_vector(get(), name, n);
  Id ftype(H5Dget_type(ds.get()));
  if (H5Tget_class(ftype.get()) != H5T_STRING || H5Tis_variable_str(ftype.get()) <= 0)
    throw InputError("dataset '" + name + "' is not variable-length text");
  Id type = vlen_text_type();
  H5Tset_cset(type.get(), H5Tget_cset(ftype.get()));
  std::vector<char*> p(n, nullptr);
  if (n) check_status(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "read " + name);
  std::vector<std::string> out;
  for (char* s : p) out.emplace_back(s ? s : "");
  if (n) {
    Id space(H5Dget_space(ds.get()));
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, p.data());
  }
  return out;
}

void Group::write_vector(const std::string& name, const std::vector<std::int32_t>& v) const {
  const hsize_t n = v.size();
  Id space(H5Screate_simple(1, &n, nullptr));
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (n >= kChunk) {
    const hsize_t chunk = kChunk;
    H5Pset_chunk(dcpl.get(), 1, &chunk);
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), 4);
  }
  Id ds(check(H5Dcreate2(get(), name.c_str(), H5T_NATIVE_INT32, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
              "create " + name));
  if (n) check_status(H5Dwrite(ds.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "write " + name);
}

std::vector<std::int32_t> Group::read_int32_vector(const std::string& name) const {
  hsize_t n = 0;
  Id ds = open_vector(get(), name, n);
  std::vector<std::int32_t> out(n);
  if (n) check_status(H5Dread(ds.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read " + name);
  return out;
}

}  // namespace reinforcer::h5
