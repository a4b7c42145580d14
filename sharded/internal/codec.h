// Copyright memlog authors.
//
// How a sharded log stores a keyed record in a memlog::Log, and reads it back.
// Not part of the public API.
//
// A stored record is [key length as a LEB128 varint][key bytes][data bytes].
// Keys are at most kMaxKeyBytes (64 KiB) long, so the length takes 1 to 3
// bytes. Every record of a shard carries its key, which is what lets a read
// by key refuse a record written under another key.

#ifndef MEMLOG_SHARDED_INTERNAL_CODEC_H_
#define MEMLOG_SHARDED_INTERNAL_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "memlog/internal/record_pieces.h"
#include "memlog/record.h"
#include "sharded/record.h"

namespace memlog::sharded::internal {

// The most bytes the key's length prefix takes.
inline constexpr size_t kMaxLengthPrefixBytes = 3;

// Returns the size of the stored form of a record.
size_t EncodedSize(std::string_view key, std::string_view data);

// A key's length prefix, as stored before the key.
struct KeyPrefix {
  char bytes[kMaxLengthPrefixBytes];
  size_t size;

  std::string_view view() const { return {bytes, size}; }
};

// Returns the length prefix of a key of `key_size` bytes. Inline: every
// write of a keyed record runs it. REQUIRES: key_size <= kMaxKeyBytes.
inline KeyPrefix EncodeKeyPrefix(size_t key_size) {
  KeyPrefix prefix;
  prefix.size = 0;
  while (key_size >= 0x80) {
    prefix.bytes[prefix.size++] = static_cast<char>((key_size & 0x7f) | 0x80);
    key_size >>= 7;
  }
  prefix.bytes[prefix.size++] = static_cast<char>(key_size);
  return prefix;
}

// The stored form of a record, as the pieces that the shard's segment copies
// straight into place. Refers to `prefix` (EncodeKeyPrefix(key.size())),
// `key` and `data`, which must outlive the pieces.
inline memlog::internal::RecordPieces StoredPieces(const KeyPrefix& prefix,
                                                   std::string_view key,
                                                   std::string_view data) {
  return {prefix.view(), key, data};
}

// Where the key lies within a stored record.
struct KeySpan {
  size_t begin;
  size_t size;
};

// Parses the length prefix of a stored record; nullopt for bytes that no
// sharded log writes. Inline: every read of a keyed record runs it.
inline std::optional<KeySpan> ParseKeyPrefix(std::string_view stored) {
  size_t length = 0;
  for (size_t i = 0; i < kMaxLengthPrefixBytes && i < stored.size(); ++i) {
    const auto byte = static_cast<uint8_t>(stored[i]);
    length |= static_cast<size_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      const size_t begin = i + 1;
      if (length == 0 || length > kMaxKeyBytes ||
          length > stored.size() - begin) {
        return std::nullopt;
      }
      return KeySpan{begin, length};
    }
  }
  return std::nullopt;
}

// ParseKeyPrefix(), failing with kDataLoss for bytes that no sharded log
// writes (which would mean memory corruption).
absl::StatusOr<KeySpan> DecodeKey(std::string_view stored);

// Returns the key, C-escaped and quoted, cut to 64 bytes with "..." after:
// for error messages, where a key may hold any bytes.
std::string QuoteKey(std::string_view key);

// Makes sharded::RecordViews, which only the library may construct.
struct RecordAccess {
  // Decodes a stored record into a view that shares its storage.
  static absl::StatusOr<RecordView> Decode(memlog::RecordView stored);

  // For reads that fill a view in place (memlog::Log::PinView()): the
  // stored record inside `view`, and the decoding of its key there. False
  // if the stored record has no valid key prefix (Decode() says why).
  static memlog::RecordView* Stored(RecordView* view) { return &view->record_; }
  static bool DecodeInPlace(RecordView* view) {
    const std::optional<KeySpan> key = ParseKeyPrefix(view->record_.data());
    if (!key.has_value()) return false;
    view->key_begin_ = static_cast<uint32_t>(key->begin);
    view->key_size_ = static_cast<uint32_t>(key->size);
    return true;
  }
};

}  // namespace memlog::sharded::internal

#endif  // MEMLOG_SHARDED_INTERNAL_CODEC_H_
