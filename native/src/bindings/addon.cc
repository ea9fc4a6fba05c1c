// The addon's entry point: each section registers its own functions.
#include "bindings/async.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  layerq::InitCommon(env, exports);
  layerq::InitF32(env, exports);
  layerq::InitInt8(env, exports);
  layerq::InitRounding(env, exports);
  layerq::InitStats(env, exports);
  layerq::InitBench(env, exports);
  return exports;
}

NODE_API_MODULE(layerq_native, InitAddon)
