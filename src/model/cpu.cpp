// See cpu.hpp.
#include "model/cpu.hpp"

#include <cblas.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// Exported by DYNAMIC_ARCH builds of OpenBLAS (not in its headers): quit forgets the selected
// core, init selects one again from the CPU and OPENBLAS_CORETYPE. Weak, so that linking
// against a BLAS without them still works (they are then null).
extern "C" {
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace initscope {

namespace {

bool cpu_supports(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::generic:
      return true;
#if defined(INITSCOPE_X86_KERNELS)
    case KernelIsa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KernelIsa::avx512:
      return __builtin_cpu_supports("avx512f");
#else
    default:
      return false;
#endif
  }
  return false;
}

// The best path, or the one INITSCOPE_KERNELS names if the CPU can run it.
KernelIsa initial_isa() {
  if (const char* want = std::getenv("INITSCOPE_KERNELS"))
    for (const KernelIsa isa : {KernelIsa::generic, KernelIsa::avx2, KernelIsa::avx512})
      if (std::strcmp(want, to_string(isa)) == 0 && cpu_supports(isa)) return isa;
  return best_kernel_isa();
}

std::atomic<KernelIsa>& current() {
  static std::atomic<KernelIsa> isa{initial_isa()};
  return isa;
}

char g_selection[96] = "not changed";

bool has_avx512_kernels(const char* core) {
  for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (std::strcmp(core, name) == 0) return true;
  return false;
}

// Runs before main (and before any static initializer of ours that could call BLAS), but after
// OpenBLAS's own load-time constructor, hence the re-selection rather than a plain setenv.
__attribute__((constructor)) void select_blas_core() {
  const char* before = openblas_get_corename();
  const char* want = std::getenv("INITSCOPE_BLAS_CORE");
  if (want && std::strcmp(want, "keep") == 0) {
    std::snprintf(g_selection, sizeof g_selection, "%s (kept: INITSCOPE_BLAS_CORE=keep)", before);
    return;
  }
  if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) {
    std::snprintf(g_selection, sizeof g_selection, "%s (kept: BLAS cannot switch cores)", before);
    return;
  }
  const char* target = nullptr;
  if (want && *want) {
    target = want;
  } else {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (avx512 && !has_avx512_kernels(before)) target = "SKYLAKEX";
#endif
  }
  if (!target) {
    std::snprintf(g_selection, sizeof g_selection, "%s (kept)", before);
    return;
  }
  char was[32];
  std::snprintf(was, sizeof was, "%s", before);
  setenv("OPENBLAS_CORETYPE", target, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  std::snprintf(g_selection, sizeof g_selection, "%s (was %s)", openblas_get_corename(), was);
}

}  // namespace

const char* to_string(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::generic:
      return "generic";
    case KernelIsa::avx2:
      return "avx2";
    case KernelIsa::avx512:
      return "avx512";
  }
  return "?";
}

KernelIsa best_kernel_isa() {
  for (const KernelIsa isa : {KernelIsa::avx512, KernelIsa::avx2})
    if (cpu_supports(isa)) return isa;
  return KernelIsa::generic;
}

KernelIsa kernel_isa() {
  return current().load(std::memory_order_relaxed);
}

bool set_kernel_isa(KernelIsa isa) {
  if (!cpu_supports(isa)) return false;
  current().store(isa, std::memory_order_relaxed);
  return true;
}

const char* blas_core_name() {
  return openblas_get_corename();
}

const char* blas_core_selection() {
  return g_selection;
}

}  // namespace initscope
