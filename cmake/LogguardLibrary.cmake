# logguard_add_library(<name> <sources...>): the library logguard_<name> and its ALIAS
# logguard::<name>, with the layout every module follows: public headers in include/ (as
# logguard/<name>/...), private code in src/ of the calling directory; C++20 and the project's
# warnings. Dependencies are the caller's (target_link_libraries).
function(logguard_add_library name)
  add_library(logguard_${name} ${ARGN})
  add_library(logguard::${name} ALIAS logguard_${name})
  target_include_directories(logguard_${name}
    PUBLIC  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_features(logguard_${name} PUBLIC cxx_std_20)
  logguard_warnings(logguard_${name})
endfunction()
