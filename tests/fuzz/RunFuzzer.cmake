# Runs one fuzz target for a while on a copy of its seed corpus, so that the
# inputs it adds and any crash reproducers stay in the build tree.
#   cmake -DFUZZER=bin -DCORPUS=seeds -DWORK=dir -DSECONDS=n -P RunFuzzer.cmake

foreach(var FUZZER CORPUS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "RunFuzzer.cmake needs -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/artifacts)
file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)

execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/
          ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); reproducers are in "
                      "${WORK}/artifacts, rerun one with: ${FUZZER} FILE")
endif()
