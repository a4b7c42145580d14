// Copyright memlog authors.
//
// How //http writes records and events on the wire: JSON objects, SSE events
// and NDJSON lines. Not part of the public API.

#ifndef MEMLOG_HTTP_INTERNAL_FORMAT_H_
#define MEMLOG_HTTP_INTERNAL_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "memlog/options.h"

namespace memlog::http::internal {

// Debian's Abseil has a string_view of its own, which StrCat() takes.
inline absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// True if `bytes` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing past U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Appends `text` (valid UTF-8) as a JSON string literal, quotes included.
void AppendJsonString(std::string* out, std::string_view text);

// Appends `"name":"value"` for arbitrary bytes: the value as a JSON string
// when it is valid UTF-8, else as `"name_base64":"<base64>"`.
void AppendBytesField(std::string* out, std::string_view name,
                      std::string_view bytes);

// Formats `time` as RFC 3339 in UTC with the digits of its fraction that
// are needed: "2026-12-01T23:20:59.123456789Z". The same text as
// absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone()),
// without its time zone machinery for whole nanoseconds from 1678 to 2261.
std::string Rfc3339(absl::Time time);
void AppendRfc3339(std::string* out, absl::Time time);

// Appends the JSON object of one record: offset, created, data (and key, for
// a sharded log's record, when `key` is given).
void AppendRecordJson(std::string* out, Offset offset, absl::Time created,
                      std::string_view data,
                      std::optional<std::string_view> key);

// How a stream frames records: Server-Sent Events or NDJSON.
enum class EventFormat { kSse, kNdjson };

// Appends one record as a stream event: SSE "id: N\ndata: <json>\n\n",
// NDJSON "<json>\n".
void AppendRecordEvent(std::string* out, EventFormat format, Offset offset,
                       absl::Time created, std::string_view data,
                       std::optional<std::string_view> key);

}  // namespace memlog::http::internal

#endif  // MEMLOG_HTTP_INTERNAL_FORMAT_H_
