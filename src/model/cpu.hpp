// Which instruction sets the training step runs on: the path of our own kernels (kernels.hpp)
// and the kernels OpenBLAS uses for the products left to it.
//
// OpenBLAS picks its kernels once, when the library is loaded, from the CPU and the
// OPENBLAS_CORETYPE variable; a Debian build that does not know a new CPU (or an environment
// that sets OPENBLAS_CORETYPE=Haswell) ends up with AVX2 kernels at half speed on an AVX-512
// machine. At load time of any program linking initscope_model, before main, we therefore
// re-run OpenBLAS's core selection with OPENBLAS_CORETYPE=SKYLAKEX when the CPU has AVX-512
// and the selected core lacks it. INITSCOPE_BLAS_CORE=keep leaves OpenBLAS's choice alone;
// INITSCOPE_BLAS_CORE=NAME forces core NAME (an OPENBLAS_CORETYPE value). This needs an
// OpenBLAS built with DYNAMIC_ARCH (Debian's is); with any other BLAS nothing happens.
#pragma once

namespace initscope {

enum class KernelIsa { generic, avx2, avx512 };
const char* to_string(KernelIsa isa);

/// The widest kernel path this CPU can run.
KernelIsa best_kernel_isa();
/// The path in use: best_kernel_isa(), or INITSCOPE_KERNELS=generic|avx2|avx512 if the CPU can
/// run it (to compare paths on one machine), unless set_kernel_isa forced another.
KernelIsa kernel_isa();
/// Forces a path (tests and benchmarks). Returns false, changing nothing, if the CPU cannot run it.
bool set_kernel_isa(KernelIsa isa);

/// OpenBLAS's name for the kernels it runs ("SkylakeX", "Haswell", ...); "unknown" for another
/// BLAS. Meant for run records: the same run is about twice as fast on "SkylakeX" as "Haswell".
const char* blas_core_name();

/// What the load-time selection did, for logs: e.g. "SkylakeX (was Haswell)", "Haswell (kept)".
const char* blas_core_selection();

}  // namespace initscope
