// Copyright memlog authors.

#include "sharded/internal/codec.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace memlog::sharded::internal {
namespace {

size_t LengthPrefixSize(size_t key_size) {
  size_t bytes = 1;
  while (key_size >= 0x80) {
    key_size >>= 7;
    ++bytes;
  }
  return bytes;
}

}  // namespace

size_t EncodedSize(std::string_view key, std::string_view data) {
  return LengthPrefixSize(key.size()) + key.size() + data.size();
}

std::string_view EncodeRecord(std::string_view key, std::string_view data,
                              std::string* buffer) {
  const size_t size = EncodedSize(key, data);
  // Written through a pointer: a buffer kept at its largest size makes this
  // two copies and the prefix, with no bookkeeping per byte.
  if (buffer->size() < size) buffer->resize(size);
  char* out = buffer->data();
  size_t length = key.size();
  while (length >= 0x80) {
    *out++ = static_cast<char>((length & 0x7f) | 0x80);
    length >>= 7;
  }
  *out++ = static_cast<char>(length);
  std::memcpy(out, key.data(), key.size());
  std::memcpy(out + key.size(), data.data(), data.size());
  return {buffer->data(), size};
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
