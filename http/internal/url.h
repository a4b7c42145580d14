// Copyright memlog authors.
//
// Parsing what //http reads from a request target. Not part of the public
// API.

#ifndef MEMLOG_HTTP_INTERNAL_URL_H_
#define MEMLOG_HTTP_INTERNAL_URL_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "memlog/options.h"

namespace memlog::http::internal {

// Decodes RFC 3986 percent-encoding (`%2F` -> '/', any byte including
// `%00`); '+' stays '+'. nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);

// Encodes every byte outside RFC 3986's unreserved set as %XX.
std::string PercentEncode(std::string_view bytes);

struct Target {
  // The path's segments, each percent-decoded ("/v1/logs/a%2Fb" ->
  // {"v1", "logs", "a/b"}).
  std::vector<std::string> segments;
  // The query's name=value pairs, decoded, in order.
  std::vector<std::pair<std::string, std::string>> query;

  // The value of the first parameter `name`, if any.
  std::optional<std::string_view> Param(std::string_view name) const;
};

// Splits and decodes a request target ("/path?query"); nullopt if an escape
// is malformed or the target is not an absolute path.
std::optional<Target> ParseTarget(std::string_view target);

// Parses a decimal offset: digits only, at most kMaxOffset.
std::optional<Offset> ParseOffset(std::string_view text);

// Parses a wait: "5s", "250ms", "2m", or plain seconds ("5"); not negative.
std::optional<absl::Duration> ParseWait(std::string_view text);

}  // namespace memlog::http::internal

#endif  // MEMLOG_HTTP_INTERNAL_URL_H_
