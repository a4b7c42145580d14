// Copyright memlog authors.
//
// The wire formats of //http (http/internal/format.h): RFC 3339 times, as
// the reference absl::FormatTime() writes them, JSON strings and UTF-8
// validation, and the two event framings.

#include "http/internal/format.h"

#include <cstdint>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace memlog::http::internal {
namespace {

std::string Reference(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

absl::Time Civil(int64_t year, int month, int day, int hour = 0,
                 int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute,
                                           second),
                         absl::UTCTimeZone());
}

TEST(Rfc3339Test, MatchesTheReferenceOnCalendarEdges) {
  const absl::Time times[] = {
      absl::UnixEpoch(),
      absl::UnixEpoch() - absl::Nanoseconds(1),
      Civil(2000, 2, 29, 23, 59, 59) + absl::Nanoseconds(999'999'999),
      Civil(1900, 2, 28), Civil(1900, 3, 1), Civil(2100, 2, 28),
      Civil(2100, 3, 1), Civil(2024, 12, 31, 23, 59, 59),
      Civil(1678, 1, 1), Civil(2261, 12, 31, 23, 59, 59),
      Civil(1969, 12, 31, 12) + absl::Milliseconds(500),
      Civil(2026, 12, 1, 23, 20, 59) + absl::Microseconds(123'456),
      Civil(2026, 12, 1) + absl::Nanoseconds(10),
      // Outside the fast path: the reference itself.
      Civil(1600, 1, 1), Civil(2300, 6, 1) + absl::Nanoseconds(5),
      Civil(2026, 1, 1) + absl::Nanoseconds(1) / 4,
      absl::InfiniteFuture(), absl::InfinitePast(),
  };
  for (const absl::Time time : times) {
    EXPECT_EQ(Rfc3339(time), Reference(time)) << absl::ToUnixNanos(time);
  }
}

TEST(Rfc3339Test, MatchesTheReferenceOnRandomNanoseconds) {
  std::mt19937_64 random(42);
  // 1678-01-01 to 2262-01-01, the fast path's range, and then some.
  std::uniform_int_distribution<int64_t> nanos(
      -9'214'560'000 * int64_t{1'000'000'000},
      9'214'646'400 * int64_t{1'000'000'000} - 1);
  for (int i = 0; i < 100'000; ++i) {
    int64_t n = nanos(random);
    // Many fractions with trailing zeros, and whole seconds.
    if (i % 3 == 1) n -= n % 1000;
    if (i % 3 == 2) n -= n % 1'000'000'000;
    const absl::Time time = absl::FromUnixNanos(n);
    ASSERT_EQ(Rfc3339(time), Reference(time)) << n;
  }
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c\nd\re\tf\x01g\x1f" "h\xe2\x80\xa8", 18));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\xe2\x80\xa8\"");
  out.clear();
  AppendJsonString(&out, "");
  EXPECT_EQ(out, "\"\"");
}

TEST(Utf8Test, FindsABadByteAnywhereInALongString) {
  const std::string ascii(40, 'a');
  EXPECT_TRUE(IsValidUtf8(ascii));
  for (size_t at = 0; at < ascii.size(); ++at) {
    std::string bad = ascii;
    bad[at] = '\xff';
    EXPECT_FALSE(IsValidUtf8(bad)) << at;
    std::string good = ascii;
    good.replace(at, 1, "\xc3\xa9");  // é
    EXPECT_TRUE(IsValidUtf8(good)) << at;
  }
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
}

TEST(EventTest, SseAndNdjsonFrameTheSameJson) {
  const absl::Time created = Civil(2026, 12, 1, 23, 20, 59);
  std::string sse, ndjson;
  AppendRecordEvent(&sse, EventFormat::kSse, 7, created, "x", std::nullopt);
  AppendRecordEvent(&ndjson, EventFormat::kNdjson, 7, created, "x", "k");
  EXPECT_EQ(sse,
            "id: 7\ndata: {\"offset\":7,\"created\":\"2026-12-01T23:20:59Z\","
            "\"data\":\"x\"}\n\n");
  EXPECT_EQ(ndjson,
            "{\"offset\":7,\"created\":\"2026-12-01T23:20:59Z\",\"key\":\"k\","
            "\"data\":\"x\"}\n");
}

}  // namespace
}  // namespace memlog::http::internal
