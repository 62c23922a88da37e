# Helpers shared by every lathe folder.

# lathe_add_library(NAME SOURCES... [DEPENDS targets...] [LINK libs...])
# Compiler-side libraries link the monolithic libMLIR.so / libLLVM.so so that
# tools link in seconds.
function(lathe_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK})
endfunction()
