// Scratch memory aligned to a cache line: every 64-byte vector load from it stays within one line
// (a std::vector's 16-byte alignment makes every zmm load of a packed tile split two lines).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace layerq {

// n elements of T (uninitialised), 64-byte aligned; at least one cache line is allocated.
template <typename T>
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t n)
      : p_(static_cast<T*>(std::aligned_alloc(64, ((n * sizeof(T) + 63) / 64 + (n == 0)) * 64))) {
    if (!p_) throw std::bad_alloc();
  }
  ~AlignedBuffer() { std::free(p_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

}  // namespace layerq
