# Runs walletd and checks its exit status and output: cmake -DWALLETD=path -DARGS="a|b"
#   -DEXPECTED_CODE=n [-DSTDOUT_MATCHES=re] [-DSTDERR_MATCHES=re] [-DOUTPUT_EXCLUDES=text] -P this
# (ARGS is '|'-separated so that arguments may hold ';').
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${WALLETD}" ${args}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 10)
if(NOT code STREQUAL "${EXPECTED_CODE}")
  message(FATAL_ERROR "walletd ${args}: exit ${code}, expected ${EXPECTED_CODE}\n"
    "stdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED STDOUT_MATCHES AND NOT out MATCHES "${STDOUT_MATCHES}")
  message(FATAL_ERROR "walletd ${args}: stdout does not match ${STDOUT_MATCHES}:\n${out}")
endif()
if(DEFINED STDERR_MATCHES AND NOT err MATCHES "${STDERR_MATCHES}")
  message(FATAL_ERROR "walletd ${args}: stderr does not match ${STDERR_MATCHES}:\n${err}")
endif()
if(DEFINED OUTPUT_EXCLUDES)
  string(FIND "${out}${err}" "${OUTPUT_EXCLUDES}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "walletd ${args}: output shows ${OUTPUT_EXCLUDES}:\n${out}${err}")
  endif()
endif()
