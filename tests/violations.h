// Copyright memlog authors.
//
// test::Violations: the stress tests' record of broken invariants.

#ifndef MEMLOG_TESTS_VIOLATIONS_H_
#define MEMLOG_TESTS_VIOLATIONS_H_

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace memlog::test {

// Collects invariant violations from any thread; the test fails at the end
// with the count and the first few messages.
class Violations {
 public:
  void Add(std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    // Counted by kind: the message with its digits dropped.
    std::string kind;
    for (char c : message) {
      if ((c < '0' || c > '9') && c != '-') kind.push_back(c);
    }
    kind.resize(std::min<size_t>(kind.size(), 70));
    if (++kinds_[kind] == 1 || first_.size() < 10) {
      first_.push_back(std::move(message));
    }
  }
  int count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::string Summary() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out = absl::StrCat(count_, " violation(s), by kind:");
    for (const auto& [kind, n] : kinds_) {
      absl::StrAppend(&out, "\n  ", n, " x ", kind);
    }
    absl::StrAppend(&out, "\nexamples:");
    for (const std::string& m : first_) absl::StrAppend(&out, "\n  ", m);
    return out;
  }

 private:
  mutable std::mutex mu_;
  int count_ = 0;
  std::vector<std::string> first_;
  std::map<std::string, int> kinds_;
};

}  // namespace memlog::test

#endif  // MEMLOG_TESTS_VIOLATIONS_H_
