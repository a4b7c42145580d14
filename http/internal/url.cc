// Copyright memlog authors.

#include "http/internal/url.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace memlog::http::internal {
namespace {

// Debian's Abseil has its own string_view.
absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return {};
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return {};
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string_view> Target::Param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target[0] != '/') return std::nullopt;
  Target parsed;
  std::string_view path = target;
  std::string_view query;
  if (const size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  for (absl::string_view segment :
       absl::StrSplit(Absl(path.substr(1)), '/', absl::SkipEmpty())) {
    std::optional<std::string> decoded = PercentDecode(std::string_view(segment.data(), segment.size()));
    if (!decoded.has_value()) return std::nullopt;
    parsed.segments.push_back(*std::move(decoded));
  }
  for (absl::string_view piece : absl::StrSplit(Absl(query), '&', absl::SkipEmpty())) {
    const std::string_view pair(piece.data(), piece.size());
    const size_t eq = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, eq));
    std::optional<std::string> value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name.has_value() || !value.has_value()) return std::nullopt;
    parsed.query.emplace_back(*std::move(name), *std::move(value));
  }
  return parsed;
}

std::optional<Offset> ParseOffset(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(Absl(text), &value)) return std::nullopt;
  if (value > static_cast<uint64_t>(kMaxOffset)) return std::nullopt;
  return static_cast<Offset>(value);
}

std::optional<absl::Duration> ParseWait(std::string_view text) {
  if (text.empty()) return std::nullopt;
  absl::Duration wait;
  if (absl::ascii_isdigit(static_cast<unsigned char>(text.back()))) {
    int64_t seconds;
    if (!absl::SimpleAtoi(Absl(text), &seconds) || seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  if (!absl::ParseDuration(Absl(text), &wait) || wait < absl::ZeroDuration()) {
    return std::nullopt;
  }
  return wait;
}

}  // namespace memlog::http::internal
