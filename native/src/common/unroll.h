// Compile-time unrolling for microkernels that keep a tile of SIMD accumulators in an array.
// GCC's scalar replacement (which puts array elements in registers) gives up on arrays indexed
// by loop counters, and then stores every accumulator on every step of the k loop; indices from
// Unroll are constants after inlining, so the array lives in registers.
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

namespace layerq {

template <typename F, size_t... I>
__attribute__((always_inline)) inline void UnrollImpl(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<size_t, I>{}), ...);
}

// f(std::integral_constant<size_t, i>{}) for i = 0 .. N - 1, in order.
template <size_t N, typename F>
__attribute__((always_inline)) inline void Unroll(F&& f) {
  UnrollImpl(std::forward<F>(f), std::make_index_sequence<N>{});
}

}  // namespace layerq
