// File: service/answer_budget.h
//
// Answers waiting for their reader, counted against one server-wide budget
// (issue 9, finding 5). A CheckStream answer is ~17x its request, and a
// client that sends but never reads leaves its answers in the server.
// gRPC's ResourceQuota bounds what gRPC reads; this bounds what the
// streams have answered and not yet handed over. When the budget is spent,
// a stream with an answer still outstanding stops reading, so every stream
// keeps at most one answer beyond the budget, and a client that reads gets
// on at one batch at a time.
#ifndef OPTOUT_SERVICE_ANSWER_BUDGET_H_
#define OPTOUT_SERVICE_ANSWER_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace optout::service {

class AnswerBudget final {
 public:
  explicit AnswerBudget(int64_t bytes) : limit_(bytes) {}
  AnswerBudget(const AnswerBudget&) = delete;
  AnswerBudget& operator=(const AnswerBudget&) = delete;

  // Bytes held against the budget until it is destroyed (or moved from).
  class Charge final {
   public:
    Charge() = default;
    Charge(Charge&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
      other.budget_ = nullptr;
    }
    Charge& operator=(Charge&& other) noexcept {
      if (this != &other) {
        Release();
        budget_ = other.budget_;
        bytes_ = other.bytes_;
        other.budget_ = nullptr;
      }
      return *this;
    }
    ~Charge() { Release(); }

   private:
    friend class AnswerBudget;
    Charge(AnswerBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
    void Release() {
      if (budget_ != nullptr) budget_->used_.fetch_sub(bytes_, std::memory_order_relaxed);
      budget_ = nullptr;
    }
    AnswerBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
  };

  // Always succeeds: the answer exists already; spending past the limit only
  // stops further reads (see Spent).
  Charge Take(int64_t bytes) {
    used_.fetch_add(bytes, std::memory_order_relaxed);
    return Charge(this, bytes);
  }
  bool Spent() const { return used_.load(std::memory_order_relaxed) >= limit_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_ANSWER_BUDGET_H_
