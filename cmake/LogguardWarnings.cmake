# logguard_warnings(<target>): the project's warning set, applied per target so that
# third-party headers (LibTorch, librdkafka) are not held to it.
function(logguard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter)
endfunction()
