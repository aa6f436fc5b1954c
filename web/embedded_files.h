// File: web/embedded_files.h
//
// The web page's files as compiled into optoutd (web/static/ and, when
// emscripten built it, pdq.wasm), generated at build time by
// embed_files.cmake. optoutd serves them under --http_listen unless
// --web_root names a folder instead.
#ifndef OPTOUT_WEB_EMBEDDED_FILES_H_
#define OPTOUT_WEB_EMBEDDED_FILES_H_

#include <cstddef>
#include <vector>

namespace optout::web {

struct EmbeddedFile {
  const char* path;  // relative, e.g. "index.html"
  const unsigned char* data;
  size_t size;
};

// Every embedded file; static storage, valid for the program's life.
const std::vector<EmbeddedFile>& EmbeddedFiles();

}  // namespace optout::web

#endif  // OPTOUT_WEB_EMBEDDED_FILES_H_
