# Runs bench_scale.py --smoke and fails unless its table has every figure, each with a value.
execute_process(COMMAND ${PY} ${SCRIPT} ${BIN} --smoke RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(out MATCHES "^SKIP:")
  return()  # the test's SKIP_REGULAR_EXPRESSION reports it skipped
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_scale.py --smoke exited ${rc}")
endif()
foreach(figure
    "1 instance\\(s\\): events/s +[0-9,]+"
    "2 instance\\(s\\): events/s +[0-9,]+"
    "3 instance\\(s\\): events/s +[0-9,]+"
    "3 instance\\(s\\): CPU µs per event \\(instances\\) +[0-9.]+"
    "3 instance\\(s\\): cores busy \\(instances\\) +[0-9.]+"
    "changelog bytes per event +1 inst. [0-9.]+ +2 inst. [0-9.]+ +3 inst. [0-9.]+"
    "model sync bytes per event +1 inst. [0-9.]+ +2 inst. [0-9.]+ +3 inst. [0-9.]+"
    "model sync bytes per publication[^\n]* [0-9]+"
    "entities/s \\(cold restore of all partitions\\) +[0-9,]+"
    "changelog records/s +[0-9,]+"
    "join: moved partitions +[0-9]+ of 12"
    "join: pause per moved partition \\(median, max\\) +[0-9.]+ s, [0-9.]+ s"
    "leave \\(SIGTERM\\): pause per moved partition \\(median, max\\) +[0-9.]+ s, [0-9.]+ s"
    "kill -9: pause per moved partition \\(median, max\\) +[0-9.]+ s, [0-9.]+ s"
    "kill -9: from the action to the group's last assignment +[0-9.]+ s"
    "join: restore of a moved partition \\(median\\) +[0-9]+ ms")
  if(NOT out MATCHES "${figure}")
    message(FATAL_ERROR "bench_scale.py --smoke printed no figure matching: ${figure}")
  endif()
endforeach()
