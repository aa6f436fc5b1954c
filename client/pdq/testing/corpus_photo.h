// File: client/pdq/testing/corpus_photo.h
//
// Photos of the matching corpus (tests/testdata/photos/images) for tests,
// found through TestDataPath.
// Header-only so the test binaries' gtest reports a missing file.
#ifndef OPTOUT_CLIENT_PDQ_TESTING_CORPUS_PHOTO_H_
#define OPTOUT_CLIENT_PDQ_TESTING_CORPUS_PHOTO_H_

#include <fstream>
#include <sstream>
#include <string>

#include "client/common/base/testing/testdata_path.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/testing/image_encoder.h"
#include "gtest/gtest.h"

namespace optout::pdq::testing {

// The file's bytes (e.g. "v01__border.jpg"); a test failure when unreadable.
inline std::string CorpusPhotoBytes(const std::string& name) {
  const std::string path = optout::testing::TestDataPath("photos/images/" + name);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_FALSE(bytes.str().empty()) << "cannot read " << path;
  return bytes.str();
}

// The photo decoded at full size: real photographs, where synthetic test
// patterns have edges and gradients instead of blobs and hash too close to
// their median. A failed decode is a test failure and a 64x64 black image.
inline Image CorpusPhoto(const std::string& name) {
  auto image = DecodeFull(CorpusPhotoBytes(name), DecodeLimits{});
  EXPECT_TRUE(image.ok()) << name << ": " << image.status();
  return image.ok() ? *image : Uniform(64, 64, 3, 0);
}

}  // namespace optout::pdq::testing

#endif  // OPTOUT_CLIENT_PDQ_TESTING_CORPUS_PHOTO_H_
