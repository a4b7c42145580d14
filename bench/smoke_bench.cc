// Proves that Google Benchmark builds and runs in this workspace.

#include <cstring>

#include "benchmark/benchmark.h"

namespace {

void BM_Memcpy100(benchmark::State& state) {
  char src[100] = {1};
  char dst[100];
  for (auto _ : state) {
    std::memcpy(dst, src, sizeof(src));
    benchmark::DoNotOptimize(dst);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * sizeof(src));
}
BENCHMARK(BM_Memcpy100);

}  // namespace
