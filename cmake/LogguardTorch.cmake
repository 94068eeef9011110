# logguard_find_torch(): LibTorch for models/ and its tests, as ${TORCH_LIBRARIES}.
# Default: find_package(Torch) -- Debian's libtorch-dev, or a LibTorch / PyTorch install on
# CMAKE_PREFIX_PATH (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)').
# -DLOGGUARD_TORCH_ROOT=DIR (a directory with include/ and lib/, e.g. PyTorch's site-packages/torch)
# imports the libraries directly instead: for PyTorch wheels whose TorchConfig.cmake looks for a
# CUDA toolkit that a machine with only the CUDA runtime does not have (bench/gpu/run.sh falls back
# to it). libtorch_cuda is linked with --no-as-needed, or the linker drops it and LibTorch sees no GPU.
# Both ways need a LibTorch built with the C++11 ABI (_GLIBCXX_USE_CXX11_ABI=1): RE2 and the
# rest of the project are.
macro(logguard_find_torch)
  if(LOGGUARD_TORCH_ROOT)
    if(NOT TARGET logguard_torch_imported)
      add_library(logguard_torch_imported INTERFACE IMPORTED GLOBAL)
      set(_lg_t ${LOGGUARD_TORCH_ROOT})
      target_include_directories(logguard_torch_imported SYSTEM INTERFACE
        ${_lg_t}/include ${_lg_t}/include/torch/csrc/api/include)
      set(_lg_libs ${_lg_t}/lib/libtorch.so ${_lg_t}/lib/libtorch_cpu.so ${_lg_t}/lib/libc10.so)
      if(EXISTS ${_lg_t}/lib/libtorch_cuda.so)
        list(APPEND _lg_libs "-Wl,--no-as-needed" ${_lg_t}/lib/libtorch_cuda.so ${_lg_t}/lib/libc10_cuda.so "-Wl,--as-needed")
      endif()
      target_link_libraries(logguard_torch_imported INTERFACE ${_lg_libs} "-Wl,-rpath,${_lg_t}/lib")
      message(STATUS "LibTorch imported from ${_lg_t}")
    endif()
    set(TORCH_LIBRARIES logguard_torch_imported)
  else()
    find_package(Torch REQUIRED)
  endif()
endmacro()
