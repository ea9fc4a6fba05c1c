// MobileNetV2 (224x224) conv layers through layerq's int8 Q8Conv2d (W8A8 per-channel, uint8
// output), one layer shape at a time, batch N: per layer the best of R runs, process CPU time and
// wall time, and the count-weighted total. Kernel-only figures (no engine, no N-API).
// Build and run (from the repository root; the static kernel library of a cmake build):
//   cmake -S . -B build/kernels -DCMAKE_BUILD_TYPE=Release && cmake --build build/kernels --target layerq_kernels
//   g++ -O2 -std=c++17 -Inative/src bench/q8-conv-layers.cc build/kernels/liblayerq_kernels.a -lpthread -o build/q8-conv-layers
//   build/q8-conv-layers [N=16] [threads=1] [pw|dw|stem|resnet|""] [R=3] [weight bits=8]
// Weight bits 4: weights in [-8, 7] (W4A8: the AVX2 vpmaddubsw kernels, q8-gemm-ubs-avx2.cc).
#include <memory>

#include "mobilenetv2-layers.h"
#include "kernels/q8-conv/q8-conv.h"

using namespace layerq;

int main(int argc, char** argv) {
  const int bits = argc > 5 ? atoi(argv[5]) : 8;
  // Weights in [-127, 127] (8 bits) or [-2^(bits-1), 2^(bits-1) - 1].
  const int levels = bits == 8 ? 255 : 1 << bits, low = bits == 8 ? -127 : -(1 << (bits - 1));
  layerq_bench::RunLayers(argc, argv, "GOPS", [=](const layerq_bench::Layer& l, size_t n) -> std::function<void()> {
    Q8ConvShape s;
    s.cin = l.cin; s.cout = l.cout; s.kh = s.kw = l.k; s.stride_h = s.stride_w = l.s;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = l.k / 2;
    s.group = l.group();
    std::vector<int8_t> wts(l.cout * l.cin / s.group * l.k * l.k);
    std::vector<int32_t> bias(l.cout);
    for (size_t i = 0; i < wts.size(); ++i) wts[i] = static_cast<int8_t>(static_cast<int>((i * 7919) % levels) + low);
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<int32_t>(i * 37) - 500;
    Q8QuantParams q;
    q.inputScale = 0.02f; q.inputZero = 3;
    q.weightScale.assign(l.cout, 0.0f);
    for (size_t c = 0; c < l.cout; ++c) q.weightScale[c] = 0.001f + 0.0001f * (c % 7);
    q.output.kind = Q8OutputKind::kUint8; q.output.zero = 0; q.output.qmin = 0; q.output.qmax = 255; q.output.outputScale = 0.03f;
    auto pc = std::make_shared<Q8PackedConv>(s, wts.data(), bias.data(), q);
    auto x = std::make_shared<std::vector<uint8_t>>(n * l.cin * l.hw * l.hw);
    for (size_t i = 0; i < x->size(); ++i) (*x)[i] = static_cast<uint8_t>((i * 31) % 97);
    auto y = std::make_shared<std::vector<uint8_t>>(n * l.cout * s.OutH(l.hw) * s.OutW(l.hw));
    return [=] { Q8Conv2d(*pc, x->data(), n, l.hw, l.hw, y->data()); };
  });
}
