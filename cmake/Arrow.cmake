# Locates Apache Arrow C++ and Parquet and defines the targets
# arrowembed::arrow and arrowembed::parquet.
#
# A system or conda Arrow (ArrowConfig.cmake) is preferred. Debian 12 ships no
# Arrow, so the fallback is the pyarrow wheel in the repo's .venv: it carries
# libarrow/libparquet and their headers, but no CMake package files.
find_package(Arrow CONFIG QUIET)
find_package(Parquet CONFIG QUIET)
if(Arrow_FOUND AND Parquet_FOUND)
  message(STATUS "Arrow ${Arrow_VERSION} from ${Arrow_DIR}")
  add_library(arrowembed::arrow ALIAS Arrow::arrow_shared)
  add_library(arrowembed::parquet ALIAS Parquet::parquet_shared)
  return()
endif()

# A pip build of the Python package (scikit-build-core) uses the interpreter
# it builds for, whose pyarrow the package will run with.
if(DEFINED SKBUILD AND Python_EXECUTABLE)
  set(_default_python "${Python_EXECUTABLE}")
else()
  set(_default_python "${PROJECT_SOURCE_DIR}/.venv/bin/python")
endif()
set(ARROWEMBED_PYTHON "${_default_python}" CACHE FILEPATH
    "Python interpreter whose pyarrow provides Arrow C++")
execute_process(
  COMMAND "${ARROWEMBED_PYTHON}" -c
          "import pyarrow as pa; print(pa.get_include()); print(pa.get_library_dirs()[0]); print(pa.cpp_version)"
  OUTPUT_VARIABLE _pa_out RESULT_VARIABLE _pa_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pa_rc EQUAL 0)
  message(FATAL_ERROR "Arrow C++ not found and ${ARROWEMBED_PYTHON} has no pyarrow: run scripts/setup.sh")
endif()
string(REPLACE "\n" ";" _pa_out "${_pa_out}")
list(GET _pa_out 0 _pa_include)
list(GET _pa_out 1 _pa_libdir)
list(GET _pa_out 2 _pa_version)
string(REGEX MATCH "^[0-9]+" _pa_major "${_pa_version}")
set(_pa_so "${_pa_major}00")

function(_arrowembed_import target libname)
  set(_lib "${_pa_libdir}/lib${libname}.so.${_pa_so}")
  if(NOT EXISTS "${_lib}")
    message(FATAL_ERROR "pyarrow ${_pa_version} has no ${_lib}")
  endif()
  add_library(${target} SHARED IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${_pa_include}")
endfunction()
_arrowembed_import(arrowembed::arrow arrow)
_arrowembed_import(arrowembed::parquet parquet)
set_property(TARGET arrowembed::parquet APPEND PROPERTY INTERFACE_LINK_LIBRARIES arrowembed::arrow)
message(STATUS "Arrow ${_pa_version} from pyarrow (${_pa_libdir})")

# pyarrow's libparquet exports the symbols of its own (newer) simdjson build.
# Linked after it, Debian's libsimdjson is dropped by --as-needed and our
# simdjson 3.0.1 headers would call into pyarrow's copy, whose classes differ
# (a crash in the request parser showed it). Naming libsimdjson first, always
# needed, makes the dynamic linker bind every simdjson symbol to it.
add_link_options("LINKER:--push-state,--no-as-needed" "LINKER:-lsimdjson" "LINKER:--pop-state")
