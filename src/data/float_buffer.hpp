// FloatBuffer: a dataset's feature values, either owned (a std::vector<float>) or a read-only
// view of values that something else keeps alive (the dataset cache's shared mapping, see
// data/cache.hpp). It exists so that a run reads the whole of MNIST from one copy in the page
// cache that every process of a sweep shares, instead of converting and holding its own.
// Copy-on-write keeps every transform correct on mapped data: reading never copies, and the
// first writing access (the non-const data(), operator[], begin(), resize(), ...) copies a view
// into owned memory first. So a transform that changes values pays for the rows it changes and
// nothing else changes; code that only reads must hold the buffer const to never copy (the
// trainer's data_ is a const reference for that reason).
// Deliberately left out: everything of std::vector's interface that no caller uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace initscope {

class FloatBuffer {
 public:
  using value_type = float;
  using iterator = float*;
  using const_iterator = const float*;
  using size_type = size_t;

  FloatBuffer() = default;
  FloatBuffer(std::initializer_list<float> v) : own_(v) {}
  // Implicit, so that `d.x = some_vector` and comparisons with a vector read naturally.
  FloatBuffer(std::vector<float> v) : own_(std::move(v)) {}  // NOLINT(google-explicit-constructor)

  /// A read-only view of n floats at p; `keep` holds whatever owns them (a mapping).
  static FloatBuffer view(const float* p, size_t n, std::shared_ptr<const void> keep) {
    FloatBuffer b;
    b.view_ = p;
    b.view_size_ = n;
    b.keep_ = std::move(keep);
    return b;
  }

  /// True while the values are someone else's (no write access has happened yet).
  bool is_view() const { return keep_ != nullptr; }
  size_t size() const { return is_view() ? view_size_ : own_.size(); }
  bool empty() const { return size() == 0; }

  const float* data() const { return is_view() ? view_ : own_.data(); }
  const float* begin() const { return data(); }
  const float* end() const { return data() + size(); }
  const float& operator[](size_t i) const { return data()[i]; }
  const float& front() const { return data()[0]; }
  const float& back() const { return data()[size() - 1]; }
  std::span<const float> span() const { return {data(), size()}; }

  // Writing access: a view becomes an owned copy first.
  float* data() { return own().data(); }
  float* begin() { return own().data(); }
  float* end() { return own().data() + own_.size(); }
  float& operator[](size_t i) { return own()[i]; }
  void resize(size_t n) { own().resize(n); }
  void assign(size_t n, float v) {
    drop_view();
    own_.assign(n, v);
  }
  void reserve(size_t n) { own().reserve(n); }
  void push_back(float v) { own().push_back(v); }
  void clear() {
    drop_view();
    own_.clear();
  }

  friend bool operator==(const FloatBuffer& a, const FloatBuffer& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::vector<float>& own() {
    if (is_view()) {
      own_.assign(view_, view_ + view_size_);
      drop_view();
    }
    return own_;
  }
  void drop_view() {
    view_ = nullptr;
    view_size_ = 0;
    keep_.reset();
  }

  std::vector<float> own_;
  const float* view_ = nullptr;
  size_t view_size_ = 0;
  std::shared_ptr<const void> keep_;
};

}  // namespace initscope
