// Picks the CPU kernels (see cpu_kernels.hpp): the widest instruction-set level this CPU and
// this build both have, once per process; LOGGUARD_CPU_ISA=v4|v3|base asks for a lower one.
#include <cstdlib>
#include <string>

#include "cpu_kernels.hpp"

namespace logguard::models::detail {

#if defined(LOGGUARD_KERNELS_V4)
namespace isa_v4 {
extern const CpuKernels kernels;
}
#endif
#if defined(LOGGUARD_KERNELS_V3)
namespace isa_v3 {
extern const CpuKernels kernels;
}
#endif
namespace isa_base {
extern const CpuKernels kernels;
}

std::vector<const CpuKernels*> cpu_kernel_variants() {
  std::vector<const CpuKernels*> v;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#if defined(LOGGUARD_KERNELS_V4)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
    v.push_back(&isa_v4::kernels);
#endif
#if defined(LOGGUARD_KERNELS_V3)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe"))
    v.push_back(&isa_v3::kernels);
#endif
#endif
  v.push_back(&isa_base::kernels);
  return v;
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels* chosen = [] {
    const auto all = cpu_kernel_variants();
    const char* want = std::getenv("LOGGUARD_CPU_ISA");
    if (want && *want) {
      const std::string w = want;
      for (const auto* k : all)
        if ((w == "v4" && std::string(k->name) == "x86-64-v4") || (w == "v3" && std::string(k->name) == "x86-64-v3") ||
            (w == "base" && std::string(k->name) == "baseline"))
          return k;
    }
    return all.front();
  }();
  return *chosen;
}

}  // namespace logguard::models::detail
