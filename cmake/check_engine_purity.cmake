# Fails when a file under ENGINE_DIR includes anything but a C++ standard library header or one of
# the engine's own headers ("wallet/engine/..."). Run as: cmake -DENGINE_DIR=... -P this-file.
if(NOT ENGINE_DIR)
  message(FATAL_ERROR "ENGINE_DIR is not set")
endif()

set(std_headers
  algorithm any array atomic bit bitset cassert cctype cerrno charconv chrono climits cmath compare
  concepts cstddef cstdint cstdio cstdlib cstring ctime deque exception functional initializer_list
  iomanip ios iosfwd iostream istream iterator limits list map memory memory_resource new numbers
  numeric optional ostream queue random ranges ratio set source_location span sstream stdexcept
  string string_view system_error tuple type_traits typeinfo unordered_map unordered_set utility
  variant vector version)

file(GLOB_RECURSE engine_files "${ENGINE_DIR}/*.hpp" "${ENGINE_DIR}/*.cpp" "${ENGINE_DIR}/*.h")
set(violations "")
foreach(file IN LISTS engine_files)
  file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      set(header "${CMAKE_MATCH_1}")
      if(header MATCHES "^wallet/engine/")
        continue()
      endif()
      list(FIND std_headers "${header}" found)
      if(found EQUAL -1)
        list(APPEND violations "${file}: ${header}")
      endif()
    else()
      list(APPEND violations "${file}: unparsable include: ${line}")
    endif()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n  " report)
  message(FATAL_ERROR "engine/ must include only the C++ standard library:\n  ${report}")
endif()
list(LENGTH engine_files count)
message(STATUS "engine purity: ${count} files include only the standard library")
