// File: tests/e2e/cli_image_test_base.h
//
// CliImageTest: what the image e2e tests share. A real optoutd on
// loopback, the `optout` CLI run against it with --json, and one image
// checked as `optout check --image` checks it.
#ifndef OPTOUT_TESTS_E2E_CLI_IMAGE_TEST_BASE_H_
#define OPTOUT_TESTS_E2E_CLI_IMAGE_TEST_BASE_H_

#include <string>
#include <vector>

#include "client/common/base/testing/testdata_path.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {

class CliImageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }

  // `optout --server ... --json ARGS...`.
  CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address(), "--json"});
    return RunCommand(args);
  }
  // The result of `optout check --image path` (discarded JSON when it is none).
  nlohmann::json Check(const std::string& path) {
    auto r = Optout({"check", "--image", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto out = nlohmann::json::parse(r.out, nullptr, false);
    return out.is_discarded() ? out : out["results"][0];
  }
  // A photo of the committed photo corpus (tests/testdata/photos/images).
  static std::string Photo(const std::string& name) {
    return TestDataPath("photos/images/" + name);
  }

  OptoutdProcess server_;
};

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_CLI_IMAGE_TEST_BASE_H_
