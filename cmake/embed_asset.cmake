# Writes a C++ source holding a file's text as a std::string_view, so the binary serves it
# without reading files at run time (the dashboard). Run as:
#   cmake -DINPUT=file -DOUTPUT=file.cpp -DNAME=kSymbol -DNAMESPACE=ns -P embed_asset.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")sl_asset\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )sl_asset\"")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated at build time from ${INPUT} by cmake/embed_asset.cmake: do not edit.\n"
  "#include <string_view>\n\nnamespace ${NAMESPACE} {\nextern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME} = R\"sl_asset(${content})sl_asset\";\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
