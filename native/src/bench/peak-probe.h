// Peak probes: register-only loops of the instruction sequences the kernels are built from, so
// that `layerq bench` can state each kernel's speed as a share of what this core can do with
// that sequence at all. Every loop is inline assembly over registers only (no loads or stores,
// no loop-invariant work a compiler could hoist), with enough independent accumulator chains to
// hide the instruction latency; ops count 2 per multiply-accumulate, as kernel GOPS do
// (2 * M * N * K).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace layerq {

struct PeakProbe {
  const char* name;      // "f32-fma-avx2", "int8-vpdpbusd-avx512", ...
  const char* isa;       // the kernel path it bounds: "avx2", "avx512", "neon"
  const char* dtype;     // "f32" or "int8"
  const char* sequence;  // the instructions of one multiply-accumulate unit
  double ops_per_iteration;
  // Runs `iterations` iterations of the register-only loop.
  void (*loop)(uint64_t iterations);
};

// The probes this CPU can run (compiled in and supported by the CPU and OS).
std::vector<PeakProbe> AvailablePeakProbes();

struct PeakRate {
  double wall = 0;  // ops per second of wall time, all threads together
  // Sum over the threads of ops per second of the thread's own CPU time: what the cores do
  // while the loop holds them (a shared machine's other processes taking turns on the cores do
  // not count; an SMT sibling's work still does).
  double cpu = 0;
};

// Runs the probe on `threads` threads at once (each its own loop) for at least min_seconds,
// `repeats` times; returns the best rates over the repeats (the best, since a shared machine
// only ever slows a register-only loop down).
PeakRate MeasurePeak(const PeakProbe& probe, int threads, double min_seconds, int repeats);

#if defined(__x86_64__) || defined(_M_X64)
void AppendPeakProbesAvx2(std::vector<PeakProbe>* out);    // needs avx2_fma
void AppendPeakProbesAvx512(std::vector<PeakProbe>* out);  // needs avx512 (vpdpbusd: avx512_vnni)
#endif
#if defined(__aarch64__)
void AppendPeakProbesNeon(std::vector<PeakProbe>* out);    // sdot / smmla where the CPU has them
#endif

}  // namespace layerq
