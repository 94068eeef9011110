# Test support shared by every module's Catch2 binary (core and models under tests/, the daemon
# sub-libraries under daemon/<name>/tests/). CTest labels: unit, integration, gpu, and
# kafka_mock for the cases that run against librdkafka's in-process mock cluster (they are
# labelled integration as well: real clients, sockets and consumer-group timing).
find_package(Catch2 2 REQUIRED)
include(Catch)

add_library(logguard_test_main OBJECT ${PROJECT_SOURCE_DIR}/tests/test_main.cpp)
target_link_libraries(logguard_test_main PUBLIC Catch2::Catch2)

# Paths tests may read: the repo (golden files, shipped configs) and ../shared/data.
set(LOGGUARD_TEST_DEFS
  LOGGUARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  LOGGUARD_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data"
  LOGGUARD_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")

# logguard_add_test_binary(<name> <sources...>): a Catch2 binary whose cases are registered with
# CTest by tag: [integration] -> integration, [kafka_mock] -> integration + kafka_mock,
# [gpu] -> gpu, everything else -> unit. A label's discovery runs only for binaries whose
# sources use the tag (an empty discovery makes Catch's CMake script warn "contains no tests").
function(logguard_add_test_binary name)
  add_executable(${name} ${ARGN} $<TARGET_OBJECTS:logguard_test_main>)
  target_link_libraries(${name} PRIVATE Catch2::Catch2)
  target_compile_definitions(${name} PRIVATE ${LOGGUARD_TEST_DEFS})
  set(text "")
  foreach(src IN LISTS ARGN)
    file(READ "${CMAKE_CURRENT_SOURCE_DIR}/${src}" one)
    string(APPEND text "${one}")
  endforeach()
  catch_discover_tests(${name} TEST_SPEC "~[integration]~[gpu]~[kafka_mock]" TEST_PREFIX "${name}:"
    PROPERTIES LABELS unit)
  string(FIND "${text}" "[kafka_mock]" mock)
  # [integration] cases that are not [kafka_mock] (each tag string looked at on its own).
  set(plain_integration OFF)
  string(REGEX MATCHALL "\"(\\[[^]\"]+\\])+\"" tag_strings "${text}")
  foreach(tags IN LISTS tag_strings)
    string(FIND "${tags}" "[integration]" i)
    string(FIND "${tags}" "[kafka_mock]" k)
    if(i GREATER -1 AND k EQUAL -1)
      set(plain_integration ON)
    endif()
  endforeach()
  if(plain_integration)
    set(spec "[integration]")
    if(mock GREATER -1)
      set(spec "[integration]~[kafka_mock]")
    endif()
    catch_discover_tests(${name} TEST_SPEC "${spec}" TEST_PREFIX "${name}:" PROPERTIES LABELS integration)
  endif()
  string(FIND "${text}" "[gpu]" gpu)
  if(gpu GREATER -1)
    catch_discover_tests(${name} TEST_SPEC "[gpu]" TEST_PREFIX "${name}:" PROPERTIES LABELS gpu)
  endif()
  if(mock GREATER -1)
    # Two labels: catch_discover_tests cannot pass a list through PROPERTIES, so they are set
    # by a script CTest runs after the discovered tests are defined.
    catch_discover_tests(${name} TEST_SPEC "[kafka_mock]" TEST_PREFIX "${name}:" TEST_LIST ${name}_KAFKA_MOCK)
    set(labels "${CMAKE_CURRENT_BINARY_DIR}/${name}_kafka_mock_labels.cmake")
    file(WRITE "${labels}" "foreach(t IN LISTS ${name}_KAFKA_MOCK)\n"
                           "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"integration;kafka_mock\")\n"
                           "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels}")
  endif()
endfunction()
