#include "client/cli/did_you_mean.h"

#include "gtest/gtest.h"

namespace optout::cli {
namespace {

const std::vector<std::string> kCommands = {"hash",   "register",      "get", "revoke",
                                            "check",  "check-dataset", "url"};

TEST(DidYouMean, TyposFindTheCommand) {
  EXPECT_EQ(DidYouMean("regster", kCommands), "register");
  EXPECT_EQ(DidYouMean("regsiter", kCommands), "register");
  EXPECT_EQ(DidYouMean("chekc", kCommands), "check");
  EXPECT_EQ(DidYouMean("revok", kCommands), "revoke");
  EXPECT_EQ(DidYouMean("check-datset", kCommands), "check-dataset");
  EXPECT_EQ(DidYouMean("has", kCommands), "hash");
  EXPECT_EQ(DidYouMean("reg", kCommands), "register");
}

TEST(DidYouMean, NothingCloseSuggestsNothing) {
  EXPECT_EQ(DidYouMean("deploy", kCommands), "");
  EXPECT_EQ(DidYouMean("x", kCommands), "");
  EXPECT_EQ(DidYouMean("", kCommands), "");
  EXPECT_EQ(DidYouMean("gotten", kCommands), "");
}

}  // namespace
}  // namespace optout::cli
