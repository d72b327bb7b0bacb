#pragma once
// Plain values as bytes and back: what the ranks broadcast and gather (strings of bytes), and
// the customer table's flat form. Written once here, with the empty case (no pointer to copy
// from or to) and the short read handled in one place.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace reinforcer {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <typename T>
  void put(const T& v) {
    put_values(&v, 1);
  }
  // `count` values from `data` (which may be null when count is 0).
  template <typename T>
  void put_values(const T* data, std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain values travel as bytes");
    if (count != 0) out_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }
  template <typename T>
  void put_values(const std::vector<T>& v) {
    put_values(v.data(), v.size());
  }
  // A length (uint32) and the text.
  void put_text(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }

 private:
  std::string& out_;
};

// Reads what a ByteWriter wrote, in the same order; a read past the end throws
// std::invalid_argument naming `what` (the bytes' meaning, e.g. "customer table bytes").
class ByteReader {
 public:
  ByteReader(std::string_view in, const char* what) : in_(in), what_(what) {}
  template <typename T>
  T get() {
    T v;
    get_values(&v, 1);
    return v;
  }
  template <typename T>
  void get_values(T* out, std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain values travel as bytes");
    need(count * sizeof(T));
    if (count != 0) std::memcpy(out, in_.data() + at_, count * sizeof(T));
    at_ += count * sizeof(T);
  }
  template <typename T>
  std::vector<T> get_vector(std::size_t count) {
    need(count * sizeof(T));  // before allocating: a corrupt count fails here
    std::vector<T> v(count);
    get_values(v.data(), count);
    return v;
  }
  // The next n bytes as they are (a view into the bytes read).
  std::string_view get_bytes(std::size_t n) {
    need(n);
    const std::string_view v = in_.substr(at_, n);
    at_ += n;
    return v;
  }
  std::string get_text() {
    return std::string(get_bytes(get<std::uint32_t>()));
  }
  std::size_t left() const { return in_.size() - at_; }
  bool done() const { return at_ == in_.size(); }

 private:
  void need(std::size_t n) const {
    if (in_.size() - at_ < n)
      throw std::invalid_argument(std::string(what_) + ": truncated (" + std::to_string(n) + " bytes wanted at byte " +
                                  std::to_string(at_) + " of " + std::to_string(in_.size()) + ")");
  }
  std::string_view in_;
  const char* what_;
  std::size_t at_ = 0;
};

// A vector's values as bytes, and the bytes (a whole number of values) back.
template <typename T>
std::string bytes_of(const std::vector<T>& v) {
  std::string out;
  ByteWriter(out).put_values(v);
  return out;
}
template <typename T>
std::vector<T> values_of(std::string_view bytes, const char* what) {
  if (bytes.size() % sizeof(T) != 0)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(bytes.size()) + " bytes are no whole number of " +
                                std::to_string(sizeof(T)) + "-byte values");
  return ByteReader(bytes, what).get_vector<T>(bytes.size() / sizeof(T));
}

}  // namespace reinforcer
