#include "tests/bench/corpus_files.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace optout::bench {

std::vector<CorpusFile> ListCorpusFiles(const std::string& dir) {
  std::vector<CorpusFile> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != "jpg" && ext != "jpeg" && ext != "png" && ext != "webp") continue;
    const size_t sep = name.find("__");
    if (sep == std::string::npos) {
      out.push_back({dir + "/" + name, dir + "/" + name, "orig"});
    } else {
      out.push_back({dir + "/" + name, dir + "/" + name.substr(0, sep),
                     name.substr(sep + 2, dot - sep - 2)});
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end(),
            [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
  return out;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace optout::bench
