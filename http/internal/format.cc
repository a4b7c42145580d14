// Copyright memlog authors.

#include "http/internal/format.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace memlog::http::internal {

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
    // ASCII eight bytes at a time: the common case.
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int length;
    uint32_t code;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (end - p < length) return false;
    for (int i = 1; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    p += length;
  }
  return true;
}

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes that need no escape, appended at once
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        // The other control characters. U+2028/9 stay as they are: JSON
        // allows them and SSE lines end only at CR or LF.
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(text.data() + run, text.size() - run);
  out->push_back('"');
}

void AppendBytesField(std::string* out, std::string_view name,
                      std::string_view bytes) {
  if (IsValidUtf8(bytes)) {
    absl::StrAppend(out, "\"", Absl(name), "\":");
    AppendJsonString(out, bytes);
  } else {
    absl::StrAppend(out, "\"", Absl(name), "_base64\":\"",
                    absl::Base64Escape(Absl(bytes)),
                    "\"");
  }
}

namespace {

// Writes `value` as `width` decimal digits at `at`.
void PutDigits(char* at, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void AppendRfc3339(std::string* out, absl::Time time) {
  // Streams format every record they send: the civil-from-days algorithm of
  // H. Hinnant here, instead of cctz's general time zone code, which cost
  // more than the rest of an event.
  constexpr int64_t kNanosPerDay = int64_t{86'400} * 1'000'000'000;
  const int64_t nanos = absl::ToUnixNanos(time);
  // 1678-01-01 and 2262-01-01: inside the nanoseconds an int64 holds.
  constexpr int64_t kFirstNanos = -9'214'560'000 * int64_t{1'000'000'000};
  constexpr int64_t kEndNanos = 9'214'646'400 * int64_t{1'000'000'000};
  if (nanos < kFirstNanos || nanos >= kEndNanos ||
      absl::FromUnixNanos(nanos) != time) {
    out->append(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time,
                                 absl::UTCTimeZone()));
    return;
  }
  int64_t days = nanos / kNanosPerDay;
  int64_t in_day = nanos % kNanosPerDay;
  if (in_day < 0) {
    in_day += kNanosPerDay;
    --days;
  }
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const int64_t day_of_era = z - era * 146'097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 -
       day_of_era / 146'096) /
      365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;  // March is 0
  const int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  const int64_t seconds = in_day / 1'000'000'000;
  int64_t fraction = in_day % 1'000'000'000;

  char text[32] = "0000-00-00T00:00:00";
  PutDigits(text, year, 4);
  PutDigits(text + 5, month, 2);
  PutDigits(text + 8, day, 2);
  PutDigits(text + 11, seconds / 3600, 2);
  PutDigits(text + 14, seconds / 60 % 60, 2);
  PutDigits(text + 17, seconds % 60, 2);
  size_t size = 19;
  if (fraction != 0) {
    int digits = 9;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    text[size++] = '.';
    PutDigits(text + size, fraction, digits);
    size += static_cast<size_t>(digits);
  }
  text[size++] = 'Z';
  out->append(text, size);
}

std::string Rfc3339(absl::Time time) {
  std::string out;
  AppendRfc3339(&out, time);
  return out;
}

void AppendRecordJson(std::string* out, Offset offset, absl::Time created,
                      std::string_view data,
                      std::optional<std::string_view> key) {
  out->append("{\"offset\":");
  absl::StrAppend(out, offset);
  out->append(",\"created\":\"");
  AppendRfc3339(out, created);
  out->append("\",");
  if (key.has_value()) {
    AppendBytesField(out, "key", *key);
    out->push_back(',');
  }
  AppendBytesField(out, "data", data);
  out->push_back('}');
}

void AppendRecordEvent(std::string* out, EventFormat format, Offset offset,
                       absl::Time created, std::string_view data,
                       std::optional<std::string_view> key) {
  if (format == EventFormat::kSse) {
    out->append("id: ");
    absl::StrAppend(out, offset);
    out->append("\ndata: ");
    AppendRecordJson(out, offset, created, data, key);
    out->append("\n\n");
  } else {
    AppendRecordJson(out, offset, created, data, key);
    out->push_back('\n');
  }
}

}  // namespace memlog::http::internal
