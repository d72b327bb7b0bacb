#pragma once
// The HDF5 types and dataset layouts the h5 layer's parts share (hdf5.cpp defines them).
#include <hdf5.h>

#include <cstddef>

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer::h5 {

// Fixed-length (NUL-padded) and variable-length UTF-8 strings; h5py reads bytes (str in
// attributes), h5dump prints the text.
Id string_type(std::size_t size);
Id variable_string_type();
hid_t native_type(MemberKind kind);
std::size_t native_size(MemberKind kind);

// Chunked + deflate above this many rows; small tables stay contiguous (h5dump-friendly).
constexpr std::size_t kChunkRows = 1 << 14;
// Matrices of at least a chunk's values are chunked by rows, shuffled and deflated.
inline bool matrix_chunked(std::size_t rows, std::size_t cols) { return rows * cols >= kChunkRows; }
Id dataset_create_props(std::size_t rows, std::size_t cols);

}  // namespace reinforcer::h5
