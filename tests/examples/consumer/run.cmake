# Installs pexec into a scratch prefix (or takes PREFIX, where a package put it), builds consumer/
# against it, and runs the examples.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}\n${err}")
  endif()
endfunction()
if(DEFINED PREFIX)
  set(prefix ${PREFIX})
else()
  set(prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/examples/consumer -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DEXAMPLES_DIR=${SOURCE_DIR}/tests/examples)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
foreach(example squares primes map_timeout)
  run(${WORK_DIR}/build/${example})
endforeach()

# The thread pool alone: found and built with nlohmann_json out of reach, and no header of it
# pulled in by the thread pool's headers (the compiler's dependency list names none).
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/examples/threads_only -B ${WORK_DIR}/threads
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/threads -j2)
run(${WORK_DIR}/threads/squares_threads)
execute_process(COMMAND ${CXX} -std=c++20 -M -I${prefix}/include
                        ${SOURCE_DIR}/tests/examples/threads_only/squares_threads.cpp
                OUTPUT_VARIABLE dependencies RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR dependencies MATCHES "nlohmann")
  message(FATAL_ERROR "the thread pool's headers pull in nlohmann_json (or -M failed: ${status})")
endif()
message("threads only: no nlohmann_json header")
