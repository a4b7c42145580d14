// Copyright memlog authors.

#include "sharded/internal/key_index.h"

#include <algorithm>
#include <utility>

#include "absl/strings/string_view.h"

namespace memlog::sharded::internal {
namespace {

// The maps hash absl::string_view (not std::string_view in this Abseil), so
// lookups convert.
absl::string_view AsAbsl(std::string_view key) {
  return absl::string_view(key.data(), key.size());
}

}  // namespace

void KeyIndex::StartSegment() {
  history_ = std::move(active_);
  active_.clear();
}

void KeyIndex::Add(std::string_view key, Offset offset) {
  auto it = active_.find(AsAbsl(key));
  if (it == active_.end()) {
    KeyRecords records;
    // Continue the key's chain from the history, or start a new one.
    if (auto h = history_.find(AsAbsl(key)); h != history_.end()) {
      records.chain = h->second.chain;
      records.first_seq =
          h->second.first_seq + static_cast<int64_t>(h->second.offsets.size());
    } else {
      records.chain = offset;
      records.first_seq = 0;
    }
    it = active_.emplace(std::string(key), std::move(records)).first;
  }
  it->second.offsets.push_back(offset);
}

KeyIndex::Entries KeyIndex::Find(std::string_view key) const {
  Entries entries{nullptr, nullptr};
  if (auto h = history_.find(AsAbsl(key)); h != history_.end()) {
    entries.history = &h->second;
  }
  if (auto a = active_.find(AsAbsl(key)); a != active_.end()) {
    entries.active = &a->second;
  }
  return entries;
}

KeyIndex::Cursor KeyIndex::Seek(std::string_view key, Offset from) const {
  const Entries entries = Find(key);
  Cursor cursor;
  for (const KeyRecords* records : {entries.history, entries.active}) {
    if (records == nullptr) continue;
    cursor.chain = records->chain;
    const auto it = std::lower_bound(records->offsets.begin(),
                                     records->offsets.end(), from);
    cursor.seq = records->first_seq + (it - records->offsets.begin());
    if (it != records->offsets.end()) {
      cursor.next = *it;
      return cursor;
    }
  }
  return cursor;
}

size_t KeyIndex::Collect(std::string_view key, Offset from,
                         absl::Span<Offset> out) const {
  const Entries entries = Find(key);
  size_t count = 0;
  for (const KeyRecords* records : {entries.history, entries.active}) {
    if (records == nullptr) continue;
    auto it = std::lower_bound(records->offsets.begin(), records->offsets.end(),
                               from);
    for (; it != records->offsets.end() && count < out.size(); ++it) {
      out[count++] = *it;
    }
  }
  return count;
}

OffsetRange KeyIndex::Range(std::string_view key) const {
  const Entries entries = Find(key);
  const KeyRecords* first =
      entries.history != nullptr ? entries.history : entries.active;
  const KeyRecords* last =
      entries.active != nullptr ? entries.active : entries.history;
  if (first == nullptr) return {};
  return {first->offsets.front(), last->offsets.back()};
}

size_t KeyIndex::key_count() const {
  size_t count = active_.size();
  for (const auto& [key, records] : history_) {
    if (!active_.contains(AsAbsl(key))) ++count;
  }
  return count;
}

}  // namespace memlog::sharded::internal
