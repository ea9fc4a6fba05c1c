// MobileNetV2 (224x224) conv layers through layerq's f32 Conv2d, one layer shape at a time, batch
// N: per layer the best of R runs, process CPU time and wall time, and the count-weighted total.
// Kernel-only figures (no engine, no N-API); the README's ImageNet-speed section quotes them.
// Build and run (from the repository root; the static kernel library of a cmake build):
//   cmake -S . -B build/kernels -DCMAKE_BUILD_TYPE=Release && cmake --build build/kernels --target layerq_kernels
//   g++ -O2 -std=c++17 -Inative/src bench/conv-layers.cc build/kernels/liblayerq_kernels.a -lpthread -o build/conv-layers
//   build/conv-layers [N=16] [threads=1] [pw|dw|stem|resnet|""] [R=3]
#include <memory>

#include "mobilenetv2-layers.h"
#include "kernels/f32-conv/f32-conv.h"

using namespace layerq::f32;

int main(int argc, char** argv) {
  layerq_bench::RunLayers(argc, argv, "GFLOPS", [](const layerq_bench::Layer& l, size_t n) -> std::function<void()> {
    ConvShape s;
    s.cin = l.cin; s.cout = l.cout; s.kh = s.kw = l.k; s.sh = s.sw = l.s;
    s.pt = s.pl = s.pb = s.pr = l.k / 2;
    s.group = l.group();
    std::vector<float> wts(l.cout * l.cin / s.group * l.k * l.k), bias(l.cout);
    for (size_t i = 0; i < wts.size(); ++i) wts[i] = ((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * i;
    auto pc = std::make_shared<PackedConv>(PackConv(wts.data(), bias.data(), s, 0.0f, 6.0f));
    auto x = std::make_shared<std::vector<float>>(n * l.cin * l.hw * l.hw);
    for (size_t i = 0; i < x->size(); ++i) (*x)[i] = ((i * 31) % 97) / 97.0f;
    auto y = std::make_shared<std::vector<float>>(n * l.cout * l.out() * l.out());
    return [=] { Conv2d(*pc, x->data(), n, l.hw, l.hw, y->data()); };
  });
}
