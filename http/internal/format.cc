// Copyright memlog authors.

#include "http/internal/format.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace memlog::http::internal {

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
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
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        // Control characters, and U+2028/9's lead bytes stay as they are:
        // JSON allows them and SSE lines end only at CR or LF.
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(ch);
        }
    }
  }
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

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

void AppendRecordJson(std::string* out, Offset offset, absl::Time created,
                      std::string_view data,
                      std::optional<std::string_view> key) {
  absl::StrAppend(out, "{\"offset\":", offset, ",\"created\":\"",
                  Rfc3339(created), "\",");
  if (key.has_value()) {
    AppendBytesField(out, "key", *key);
    out->push_back(',');
  }
  AppendBytesField(out, "data", data);
  out->push_back('}');
}

}  // namespace memlog::http::internal
