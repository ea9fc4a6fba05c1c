// Gram tile kernel, portable C++ (the reference path) (f32-rounding-syrk.h).
#define LAYERQ_SYRK_TILE_BODY
#include "kernels/f32-rounding/f32-rounding-syrk.h"

namespace layerq {
namespace f32 {

void SyrkTileScalar(const double* p, size_t rows, size_t k, size_t i0, double* s) { SyrkTileBody(p, rows, k, i0, s); }

}  // namespace f32
}  // namespace layerq
