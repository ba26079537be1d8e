# One function per kind of target, so every lib is laid out and warned the same way.

function(streamlearn_warnings target)
  # -Wno-restrict: GCC 12 reports false overlaps inside std::string concatenation (GCC bug 105651).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(STREAMLEARN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# streamlearn_lib(name SOURCES a.cpp b.cpp PUBLIC_DEPS x y PRIVATE_DEPS z)
# Creates target streamlearn_<name> (alias streamlearn::<name>) with public headers in
# libs/<name>/include/streamlearn/<name>/.
function(streamlearn_lib name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(streamlearn_${name} STATIC ${ARG_SOURCES})
  add_library(streamlearn::${name} ALIAS streamlearn_${name})
  target_include_directories(streamlearn_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(streamlearn_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  streamlearn_warnings(streamlearn_${name})
endfunction()

# streamlearn_test_lib(name SOURCES a.cpp INCLUDE_DIR dir PUBLIC_DEPS x PRIVATE_DEPS z)
# A static library for tests and benches only (e.g. a reference implementation used as an
# oracle): target streamlearn_<name> (alias streamlearn::<name>), headers under INCLUDE_DIR.
# Built whenever the benches are (not only with STREAMLEARN_TESTS); production libs and the
# service never link it.
function(streamlearn_test_lib name)
  cmake_parse_arguments(ARG "" "INCLUDE_DIR" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(streamlearn_${name} STATIC ${ARG_SOURCES})
  add_library(streamlearn::${name} ALIAS streamlearn_${name})
  target_include_directories(streamlearn_${name} PUBLIC ${ARG_INCLUDE_DIR})
  target_link_libraries(streamlearn_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  streamlearn_warnings(streamlearn_${name})
endfunction()

# streamlearn_test_header_lib(name INCLUDE_DIR dir)
# Header-only support for unit tests (target streamlearn_<name>, alias streamlearn::<name>,
# headers under INCLUDE_DIR): defined only with STREAMLEARN_TESTS, linked by tests only.
function(streamlearn_test_header_lib name)
  cmake_parse_arguments(ARG "" "INCLUDE_DIR" "" ${ARGN})
  if(NOT STREAMLEARN_TESTS)
    return()
  endif()
  add_library(streamlearn_${name} INTERFACE)
  add_library(streamlearn::${name} ALIAS streamlearn_${name})
  target_include_directories(streamlearn_${name} INTERFACE ${ARG_INCLUDE_DIR})
endfunction()

# streamlearn_unit_test(name SOURCES t.cpp DEPS streamlearn::x)
# Unit tests live beside their lib (libs/<name>/tests/); each TEST_CASE becomes a ctest.
function(streamlearn_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT STREAMLEARN_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} Catch2::Catch2WithMain)
  streamlearn_warnings(${name})
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  # -w NoTests: a test whose name ctest could not pass back intact (CMake cuts names at ';')
  # matches nothing and would pass without running; this way it fails.
  # TIMEOUT: the slowest test case takes about 20 s under the sanitizers; a hang (a client
  # that never finishes closing, say) then costs 5 minutes of CI, not the run's 15.
  catch_discover_tests(${name} EXTRA_ARGS -w NoTests PROPERTIES LABELS "${labels}" TIMEOUT 300
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endfunction()

# streamlearn_scenario_timeout(OUT SECONDS): a scenario script's ctest TIMEOUT (a backstop:
# every wait inside the scripts has its own deadline), sized for the Release build, tripled
# in a sanitizer build. Under ASan on the loaded 2-core machine the kill -9 crash tests ran
# 250-320 s (about 90 s in a quiet run), and at a load average of 17 four partitions took
# 500 s and the forest champion 600 s (its scenario done, its checks not); a TIMEOUT
# property overrides ctest --timeout.
set(STREAMLEARN_SCENARIO_TIMEOUT_FACTOR 1)
if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
  set(STREAMLEARN_SCENARIO_TIMEOUT_FACTOR 3)
endif()
function(streamlearn_scenario_timeout out seconds)
  math(EXPR scaled "${seconds} * ${STREAMLEARN_SCENARIO_TIMEOUT_FACTOR}")
  set(${out} ${scaled} PARENT_SCOPE)
endfunction()

# streamlearn_locked_scenarios_first(): called at the end of a scenario folder's CMakeLists.
# The scenario tests that take the machine one at a time (RESOURCE_LOCK
# streamlearn_crash_tests) are the suite's critical path: 696 s of the Release suite's 817 s
# on 2 cores (a clean CI run, 2026-12-07), about three times that under the sanitizers. They
# ran last, one by one, with the second core mostly idle. ctest starts the tests of higher
# COST first (a clean clone has no cost data of its own): they now start first, the longest
# (by TIMEOUT) first, and the other tests run beside them on the second core.
function(streamlearn_locked_scenarios_first)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    get_test_property(${test} RESOURCE_LOCK lock)
    get_test_property(${test} TIMEOUT timeout)
    if(lock STREQUAL "streamlearn_crash_tests" AND timeout)
      set_tests_properties(${test} PROPERTIES COST ${timeout})
    endif()
  endforeach()
endfunction()
