// File: tests/bench/corpus_files.h
//
// The image files of a matching corpus folder, for the offline false-match
// benches (match_fp, match_orb): a copy is named ORIGINAL__FAMILY.ext
// (e.g. v01__crop_offset.jpg, the original v01__orig.jpg); a file without
// "__" is an original of its own.
#ifndef OPTOUT_TESTS_BENCH_CORPUS_FILES_H_
#define OPTOUT_TESTS_BENCH_CORPUS_FILES_H_

#include <string>
#include <vector>

namespace optout::bench {

struct CorpusFile {
  std::string path;
  std::string group;   // folder + original's name: files of one image share it
  std::string family;  // "orig" for an original
};

// JPEG, PNG and WebP files of `dir` in path order; empty when unreadable.
std::vector<CorpusFile> ListCorpusFiles(const std::string& dir);

// The file's bytes; empty when unreadable.
std::string ReadFileBytes(const std::string& path);

}  // namespace optout::bench

#endif  // OPTOUT_TESTS_BENCH_CORPUS_FILES_H_
