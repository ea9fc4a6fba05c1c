#include "bindings/async.h"
namespace layerq {
void InitInt8(Napi::Env, Napi::Object) {}
}  // namespace layerq
