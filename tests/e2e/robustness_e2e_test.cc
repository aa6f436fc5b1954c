// The server never crashes on input: random bytes sent as the body of every
// unary method are answered with an error status (or a valid response), and
// the server keeps serving afterwards.
#include <random>
#include <string>

#include "absl/synchronization/notification.h"
#include "client/registry_client.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

grpc::Status CallWithRawBytes(grpc::GenericStub& stub, const std::string& method,
                              const std::string& body) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

TEST(RobustnessE2eTest, RandomBytesToEveryMethodNeverCrashTheServer) {
  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  std::mt19937 rng(42);
  const char* methods[] = {"/optout.v1.Registry/Register", "/optout.v1.Registry/Get",
                           "/optout.v1.Registry/Revoke", "/optout.v1.Check/Check",
                           "/optout.v1.Check/GetInfo"};
  int errors = 0;
  for (const char* method : methods) {
    for (int i = 0; i < 300; ++i) {
      std::string body(rng() % 200, '\0');
      for (char& c : body) c = static_cast<char>(rng());
      grpc::Status s = CallWithRawBytes(stub, method, body);
      ASSERT_NE(s.error_code(), grpc::StatusCode::UNAVAILABLE)
          << method << " #" << i << " made the server go away:\n" << server.ReadLog();
      errors += !s.ok();
    }
  }
  EXPECT_GT(errors, 0);
  auto client = client::RegistryClient::Create(server.address());
  EXPECT_TRUE(client->GetInfo().ok());
  EXPECT_TRUE(server.Stop().ok()) << "server should still shut down cleanly";
}

}  // namespace
}  // namespace optout
