// Copyright memlog authors.
//
// The specification of memlog's errors (memlog/status.h): one predicate per
// failure kind, true for exactly its own kind, with the documented status
// code; false for OK and for statuses memlog did not make.

#include "memlog/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace memlog {
namespace {

using Predicate = bool (*)(const absl::Status&);

struct Kind {
  const char* name;
  ErrorKind kind;
  Predicate predicate;
  absl::StatusCode code;  // as documented in status.h
};

const std::vector<Kind>& AllKinds() {
  static const std::vector<Kind> kinds = {
      {"InvalidOptions", ErrorKind::kInvalidOptions, &IsInvalidOptions,
       absl::StatusCode::kInvalidArgument},
      {"EmptyRecord", ErrorKind::kEmptyRecord, &IsEmptyRecord,
       absl::StatusCode::kInvalidArgument},
      {"RecordTooLarge", ErrorKind::kRecordTooLarge, &IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument},
      {"InvalidKey", ErrorKind::kInvalidKey, &IsInvalidKey,
       absl::StatusCode::kInvalidArgument},
      {"ImpossibleOffset", ErrorKind::kImpossibleOffset, &IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument},
      {"InvalidShard", ErrorKind::kInvalidShard, &IsInvalidShard,
       absl::StatusCode::kInvalidArgument},
      {"FutureOffset", ErrorKind::kFutureOffset, &IsFutureOffset,
       absl::StatusCode::kOutOfRange},
      {"PurgedOffset", ErrorKind::kPurgedOffset, &IsPurgedOffset,
       absl::StatusCode::kNotFound},
      {"OffsetOverflow", ErrorKind::kOffsetOverflow, &IsOffsetOverflow,
       absl::StatusCode::kResourceExhausted},
      {"OutOfMemory", ErrorKind::kOutOfMemory, &IsOutOfMemory,
       absl::StatusCode::kResourceExhausted},
      {"Closed", ErrorKind::kClosed, &IsClosed,
       absl::StatusCode::kFailedPrecondition},
      {"Lagged", ErrorKind::kLagged, &IsLagged, absl::StatusCode::kDataLoss},
      {"WaitCancelled", ErrorKind::kWaitCancelled, &IsWaitCancelled,
       absl::StatusCode::kCancelled},
      {"WaitTimedOut", ErrorKind::kWaitTimedOut, &IsWaitTimedOut,
       absl::StatusCode::kDeadlineExceeded},
      {"KeyNotFound", ErrorKind::kKeyNotFound, &IsKeyNotFound,
       absl::StatusCode::kNotFound},
      {"BadSharder", ErrorKind::kBadSharder, &IsBadSharder,
       absl::StatusCode::kInternal},
      {"CallbackFailed", ErrorKind::kCallbackFailed, &IsCallbackFailed,
       absl::StatusCode::kInternal},
  };
  return kinds;
}

TEST(StatusTest, EveryKindIsListedOnce) {
  // ErrorKind has 17 enumerators, kInvalidOptions through kCallbackFailed.
  EXPECT_EQ(AllKinds().size(), 17u);
  for (size_t i = 0; i < AllKinds().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(AllKinds()[i].kind), i) << AllKinds()[i].name;
  }
}

TEST(StatusTest, EachPredicateIsTrueForItsOwnKindOnly) {
  for (const Kind& made : AllKinds()) {
    const absl::Status status = MakeError(made.kind, "what was asked");
    for (const Kind& asked : AllKinds()) {
      EXPECT_EQ(asked.predicate(status), asked.kind == made.kind)
          << asked.name << " of a " << made.name << " error";
    }
  }
}

TEST(StatusTest, MakeErrorUsesTheDocumentedCodeAndKeepsTheMessage) {
  for (const Kind& kind : AllKinds()) {
    SCOPED_TRACE(kind.name);
    const absl::Status status =
        MakeError(kind.kind, "offset 17 is purged; earliest available is 1024");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), kind.code);
    EXPECT_EQ(status.message(),
              "offset 17 is purged; earliest available is 1024");
    EXPECT_EQ(GetErrorKind(status), kind.kind);
  }
}

TEST(StatusTest, KindSurvivesCopiesAndMoves) {
  for (const Kind& kind : AllKinds()) {
    const absl::Status original = MakeError(kind.kind, "m");
    absl::Status copy = original;
    EXPECT_TRUE(kind.predicate(copy)) << kind.name;
    const absl::Status moved = std::move(copy);
    EXPECT_TRUE(kind.predicate(moved)) << kind.name;
    EXPECT_EQ(moved, original) << kind.name;
  }
}

TEST(StatusTest, EveryPredicateIsFalseForOk) {
  for (const Kind& kind : AllKinds()) {
    EXPECT_FALSE(kind.predicate(absl::OkStatus())) << kind.name;
  }
  EXPECT_EQ(GetErrorKind(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(LaggedCount(absl::OkStatus()), 0);
}

TEST(StatusTest, EveryPredicateIsFalseForForeignStatusesOfTheSameCode) {
  // Statuses that merely share a code with a memlog kind are not memlog's.
  for (const Kind& made : AllKinds()) {
    const absl::Status foreign(made.code, "not made by memlog");
    EXPECT_EQ(GetErrorKind(foreign), std::nullopt) << made.name;
    for (const Kind& asked : AllKinds()) {
      EXPECT_FALSE(asked.predicate(foreign))
          << asked.name << " of a foreign "
          << absl::StatusCodeToString(made.code);
    }
  }
  for (const absl::Status& foreign :
       {absl::UnknownError("x"), absl::UnavailableError("x"),
        absl::AbortedError("x"), absl::PermissionDeniedError("x"),
        absl::AlreadyExistsError("x"), absl::UnimplementedError("x"),
        absl::UnauthenticatedError("x")}) {
    for (const Kind& asked : AllKinds()) {
      EXPECT_FALSE(asked.predicate(foreign)) << asked.name << " " << foreign;
    }
  }
}

TEST(StatusTest, PredicatesIgnoreForeignPayloads) {
  absl::Status foreign = absl::OutOfRangeError("someone else's");
  foreign.SetPayload("example.com/Kind", absl::Cord("future_offset"));
  EXPECT_FALSE(IsFutureOffset(foreign));
  EXPECT_FALSE(memlog::IsPurgedOffset(foreign));
  EXPECT_EQ(GetErrorKind(foreign), std::nullopt);
}

TEST(StatusTest, LaggedCountIsTheNumberOfMissedRecords) {
  for (int64_t missed :
       {int64_t{1}, int64_t{7}, int64_t{1024}, int64_t{1} << 40}) {
    for (bool exact : {true, false}) {
      SCOPED_TRACE(exact);
      const absl::Status status = MakeLaggedError(
          missed, exact, "stream fell behind by " + std::to_string(missed));
      EXPECT_TRUE(IsLagged(status)) << status;
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
      EXPECT_EQ(LaggedCount(status), missed);
      EXPECT_EQ(IsLaggedCountExact(status), exact);
      const absl::Status copy = status;
      EXPECT_EQ(LaggedCount(copy), missed);
      EXPECT_EQ(IsLaggedCountExact(copy), exact);
    }
  }
}

TEST(StatusTest, LaggedCountExactnessIsStructuredNotInTheMessage) {
  // The message says nothing either way; the payload decides.
  EXPECT_TRUE(IsLaggedCountExact(MakeLaggedError(5, true, "at least 5")));
  EXPECT_FALSE(IsLaggedCountExact(MakeLaggedError(5, false, "exactly 5")));
  EXPECT_EQ(LaggedCount(MakeLaggedError(0, false, "m")), 0);
  EXPECT_FALSE(IsLaggedCountExact(MakeLaggedError(0, false, "m")));
  EXPECT_TRUE(IsLaggedCountExact(MakeLaggedError(0, true, "m")));
}

TEST(StatusTest, LaggedCountExactIsFalseForEveryOtherStatus) {
  for (const Kind& kind : AllKinds()) {
    if (kind.kind == ErrorKind::kLagged) continue;
    EXPECT_FALSE(IsLaggedCountExact(MakeError(kind.kind, "m"))) << kind.name;
  }
  EXPECT_FALSE(IsLaggedCountExact(absl::DataLossError("foreign data loss")));
  EXPECT_FALSE(IsLaggedCountExact(absl::OkStatus()));
}

TEST(StatusTest, NoPredicateSharesItsNameWithAbseils) {
  // Called unqualified inside namespace absl-using code, these resolve to
  // memlog's own: a compile-time check that the names are distinct.
  using absl::IsCancelled;
  using absl::IsDeadlineExceeded;
  using absl::IsNotFound;
  using absl::IsOutOfRange;
  const absl::Status cancelled = MakeError(ErrorKind::kWaitCancelled, "m");
  EXPECT_TRUE(IsWaitCancelled(cancelled));
  EXPECT_TRUE(IsCancelled(cancelled));  // Abseil's, by code
  const absl::Status timed_out = MakeError(ErrorKind::kWaitTimedOut, "m");
  EXPECT_TRUE(IsWaitTimedOut(timed_out));
  EXPECT_TRUE(IsDeadlineExceeded(timed_out));
  EXPECT_TRUE(IsNotFound(MakeError(ErrorKind::kPurgedOffset, "m")));
  EXPECT_FALSE(IsOutOfRange(MakeError(ErrorKind::kPurgedOffset, "m")));
  EXPECT_TRUE(IsOutOfRange(MakeError(ErrorKind::kFutureOffset, "m")));
}

TEST(StatusTest, ErrorKindNamesAreDistinct) {
  for (const Kind& a : AllKinds()) {
    for (const Kind& b : AllKinds()) {
      if (a.kind == b.kind) continue;
      EXPECT_NE(std::string(ErrorKindName(a.kind)), ErrorKindName(b.kind))
          << a.name << " " << b.name;
    }
  }
  EXPECT_EQ(std::string(ErrorKindName(ErrorKind::kImpossibleOffset)),
            "impossible_offset");
}

TEST(StatusTest, LaggedCountIsZeroForEveryOtherStatus) {
  for (const Kind& kind : AllKinds()) {
    if (kind.kind == ErrorKind::kLagged) continue;
    EXPECT_EQ(LaggedCount(MakeError(kind.kind, "m")), 0) << kind.name;
  }
  EXPECT_EQ(LaggedCount(absl::DataLossError("foreign data loss")), 0);
  EXPECT_EQ(LaggedCount(absl::OkStatus()), 0);
}

TEST(StatusTest, LaggedErrorIsOnlyLagged) {
  const absl::Status status = MakeLaggedError(3, true, "m");
  for (const Kind& kind : AllKinds()) {
    EXPECT_EQ(kind.predicate(status), kind.kind == ErrorKind::kLagged)
        << kind.name;
  }
}

}  // namespace
}  // namespace memlog
