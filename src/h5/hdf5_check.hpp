#pragma once
// Every HDF5 C call's result checked in one place: a failure becomes an InputError (reading:
// the file is damaged) or a PathError (writing: the disk), naming the files open at the time.
#include <hdf5.h>

#include <cstdint>
#include <string>

namespace reinforcer::h5 {

[[noreturn]] void fail(const std::string& what);
hid_t check(hid_t id, const std::string& what);
void check_status(herr_t s, const std::string& what);
// For calls whose non-negative result is an answer (htri_t: true/false).
int check_status_value(htri_t s, const std::string& what);

// Before a buffer is sized by a damaged file's claims: `elements` of `element_size` bytes must
// fit in what the file could hold inflated (deflate expands at most ~1,032-fold), else a clear
// error instead of an allocation of petabytes (std::length_error, std::bad_alloc).
void require_plausible_size(hid_t object, std::uint64_t elements, std::uint64_t element_size, const std::string& what);

}  // namespace reinforcer::h5
