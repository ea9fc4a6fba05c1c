#include "kernels/q8-dwconv/q8-dwconv.h"

namespace layerq {

Q8DwRowFn Q8DwRowFor(Isa isa, size_t stride) {
#if defined(__x86_64__) || defined(_M_X64)
  // Whenever the GEMM runs its AVX2 microkernels, so do depthwise rows (one decision point).
  if (Q8GemmUkernelsFor(isa) == &kQ8GemmAvx2) return Q8DwRowAvx2(stride);
#endif
  (void)isa;
  (void)stride;
  return nullptr;
}

}  // namespace layerq
