#include "kernels/q8-dwconv/q8-dwconv.h"

namespace layerq {

Q8DwRowFn Q8DwRowFor(Isa isa, size_t stride) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return Q8DwRowAvx2(stride);  // AVX-512 CPUs run the AVX2 rows
#endif
  (void)isa;
  (void)stride;
  return nullptr;
}

}  // namespace layerq
