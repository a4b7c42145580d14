// Copyright memlog authors.

#include "sharded/internal/codec.h"

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace memlog::sharded::internal {
size_t EncodedSize(std::string_view key, std::string_view data) {
  return EncodeKeyPrefix(key.size()).size + key.size() + data.size();
}

absl::StatusOr<KeySpan> DecodeKey(std::string_view stored) {
  if (std::optional<KeySpan> key = ParseKeyPrefix(stored)) return *key;
  return absl::DataLossError(
      absl::StrCat("stored record of ", stored.size(),
                   " bytes has no valid key prefix; the shard's memory is "
                   "corrupted"));
}

std::string QuoteKey(std::string_view key) {
  constexpr size_t kShown = 64;
  const bool cut = key.size() > kShown;
  const std::string escaped = absl::CHexEscape(
      absl::string_view(key.data(), cut ? kShown : key.size()));
  return absl::StrCat("\"", escaped, cut ? "...\"" : "\"");
}

absl::StatusOr<RecordView> RecordAccess::Decode(memlog::RecordView stored) {
  absl::StatusOr<KeySpan> key = DecodeKey(stored.data());
  if (!key.ok()) return key.status();
  return RecordView(std::move(stored), static_cast<uint32_t>(key->begin),
                    static_cast<uint32_t>(key->size));
}

}  // namespace memlog::sharded::internal
