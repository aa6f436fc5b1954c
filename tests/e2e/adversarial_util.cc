#include "tests/e2e/adversarial_util.h"

#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "optout/v1/optout.grpc.pb.h"

namespace optout::testing {

absl::Duration ProcessCpuTime(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(in, line);
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the whole line.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 13) return absl::ZeroDuration();
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return absl::Seconds(ticks / static_cast<double>(sysconf(_SC_CLK_TCK)));
}

int64_t ProcessRssBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/statm"));
  int64_t size_pages = 0, resident_pages = 0;
  in >> size_pages >> resident_pages;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

absl::Duration TimedGetInfo(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Check::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetInfoResponse response;
  const absl::Time start = absl::Now();
  if (!stub->GetInfo(&context, v1::GetInfoRequest(), &response).ok()) {
    return absl::InfiniteDuration();
  }
  return absl::Now() - start;
}

absl::Duration TimedHealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message; a
  // SERVING answer is field 1 = 1.
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  const absl::Time start = absl::Now();
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  const absl::Duration took = absl::Now() - start;
  std::vector<grpc::Slice> slices;
  if (!status.ok() || !response.Dump(&slices).ok()) return absl::InfiniteDuration();
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes != std::string("\x08\x01", 2)) return absl::InfiniteDuration();
  return took;
}

std::string RandomPdq(std::mt19937_64& rng) {
  std::string hash(32, '\0');
  for (;;) {
    int popcount = 0;
    for (size_t i = 0; i < 32; i += 8) {
      const uint64_t word = rng();
      popcount += __builtin_popcountll(word);
      for (size_t j = 0; j < 8; ++j) hash[i + j] = static_cast<char>(word >> (8 * j));
    }
    // optoutd refuses hashes outside 96..160 bits set (real PDQ hashes set
    // about 128); about 1 random hash in 15,000 falls outside.
    if (popcount >= 96 && popcount <= 160) return hash;
  }
}

v1::RegisterRequest RandomPdqRegistration(std::mt19937_64& rng, int count) {
  v1::RegisterRequest request;
  for (int i = 0; i < count; ++i) {
    v1::PdqHash* pdq = request.add_pdq();
    pdq->set_hash(RandomPdq(rng));
    pdq->set_quality(100);
  }
  return request;
}

absl::Status StoreManyPdqHashes(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Registry::NewStub(channel);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::RegisterResponse response;
    const grpc::Status status = stub->Register(&context, RandomPdqRegistration(rng, 4000), &response);
    if (!status.ok()) {
      return absl::UnknownError(absl::StrCat("registering PDQ hashes: ", status.error_message()));
    }
  }
  return absl::OkStatus();
}

v1::CheckRequest HeavyPdqCheck(std::mt19937_64& rng, int items) {
  v1::CheckRequest request;
  v1::PackedItems* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  packed->set_pdq_dihedral(true);
  std::string* data = packed->mutable_data();
  data->reserve(static_cast<size_t>(items) * 9 * 32);
  for (int i = 0; i < items * 9; ++i) data->append(RandomPdq(rng));
  return request;
}

}  // namespace optout::testing
