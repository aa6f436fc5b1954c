#include "service/http/static_files.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service::http {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;

std::string Header(const HttpReply& reply, const std::string& name) {
  for (const auto& [n, v] : reply.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(StaticFilesTest, EmbeddedPageIsServedAtTheRoot) {
  StaticFiles files = StaticFiles::Embedded();
  HttpReply page = files.Serve("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(Header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page.body, ::testing::HasSubstr("<html"));
  EXPECT_EQ(files.Serve("/no-such-file.js").status, 404);
}

TEST(StaticFilesTest, WebRootServesItsFilesOnlyByExactPath) {
  char tmpl[] = "/tmp/optout-web-root-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  std::filesystem::create_directories(root + "/js");
  std::ofstream(root + "/index.html") << "<html>mine</html>";
  std::ofstream(root + "/js/app.js") << "void 0;";
  absl::StatusOr<StaticFiles> files = StaticFiles::FromDirectory(root);
  ASSERT_THAT(files.status(), IsOk());
  EXPECT_EQ(files->Serve("/").body, "<html>mine</html>");
  HttpReply script = files->Serve("/js/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(Header(script, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(files->Serve("/../etc/passwd").status, 404);
  EXPECT_EQ(files->Serve("/js/").status, 404);
  std::filesystem::remove_all(root);
}

TEST(StaticFilesTest, MissingWebRootIsNotFound) {
  EXPECT_THAT(StaticFiles::FromDirectory("/nonexistent/optout-web").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("--web_root")));
}

TEST(StaticFilesTest, ContentTypesByExtension) {
  EXPECT_EQ(ContentTypeOf("pdq.wasm"), "application/wasm");
  EXPECT_EQ(ContentTypeOf("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("notes"), "application/octet-stream");
}

}  // namespace
}  // namespace optout::service::http
