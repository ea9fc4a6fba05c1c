#include "bindings/async.h"
namespace layerq {
void InitF32(Napi::Env, Napi::Object) {}
}  // namespace layerq
