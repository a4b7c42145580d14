// Copyright memlog authors.
//
// Strict separation with a KeySharder: each key gets a shard of its own, so
// every key's offsets are dense (0, 1, 2, ...) and a key outside the table is
// refused. Mirrors the Go sharded package's `Example (Sharder)`, then shows
// the refusals. Prints:
//
//   reading all galaxies...
//   0 Centaurus A
//   1 Andromeda
//   2 Eye of Sauron
//
//   reading all planets...
//   0 Mercury
//   ...
//   7 Neptune
//
//   writing a comet: refused (key not found)
//   a log of 2 shards for 3 keys: refused (invalid options)

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "memlog/status.h"
#include "sharded/log.h"
#include "sharded/sharder.h"

int main() {
  const std::vector<std::string> keys = {"galaxies", "planets"};
  // keys[i] goes to shard i; the log needs a shard per key, which Create()
  // checks.
  absl::StatusOr<std::shared_ptr<const memlog::sharded::KeySharder>> sharder =
      memlog::sharded::KeySharder::FromKeys(keys);
  if (!sharder.ok()) {
    absl::PrintF("key sharder: %s\n", sharder.status().ToString());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<memlog::sharded::Log>> log =
      memlog::sharded::Log::Create(
          {.num_shards = keys.size(), .shard = {}, .sharder = *sharder});
  if (!log.ok()) {
    absl::PrintF("create log: %s\n", log.status().ToString());
    return 1;
  }

  const std::vector<std::pair<std::string, std::vector<std::string>>> data = {
      {"galaxies", {"Centaurus A", "Andromeda", "Eye of Sauron"}},
      {"planets",
       {"Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus",
        "Neptune"}},
  };
  // Interleave the keys: with a shard each, neither leaves gaps in the
  // other's offsets.
  for (size_t i = 0; i < 8; ++i) {
    for (const auto& [key, values] : data) {
      if (i >= values.size()) continue;
      if (absl::StatusOr<memlog::Offset> offset = (*log)->Write(key, values[i]);
          !offset.ok()) {
        absl::PrintF("write: %s\n", offset.status().ToString());
        return 1;
      }
    }
  }

  for (size_t k = 0; k < keys.size(); ++k) {
    if (k > 0) absl::PrintF("\n");
    absl::PrintF("reading all %s...\n", keys[k]);
    // Dense offsets: offset + 1 walks the key, as in the Go example.
    for (memlog::Offset offset = 0;; ++offset) {
      absl::StatusOr<memlog::sharded::Record> record =
          (*log)->Read(keys[k], offset);
      if (memlog::IsFutureOffset(record.status())) break;  // the key's end
      if (!record.ok()) {
        absl::PrintF("read: %s\n", record.status().ToString());
        return 1;
      }
      absl::PrintF("%d %s\n", record->metadata.offset, record->data);
    }
  }
  absl::PrintF("\n");

  // Keys outside the table have no shard.
  absl::StatusOr<memlog::Offset> comet = (*log)->Write("comets", "Halley");
  absl::PrintF("writing a comet: %s\n", memlog::IsKeyNotFound(comet.status())
                                            ? "refused (key not found)"
                                            : "unexpectedly accepted");

  // Too few shards for a table is caught when the log is created, not on
  // first use.
  absl::StatusOr<std::shared_ptr<const memlog::sharded::KeySharder>> three =
      memlog::sharded::KeySharder::FromKeys({"galaxies", "planets", "comets"});
  if (!three.ok()) {
    absl::PrintF("key sharder: %s\n", three.status().ToString());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<memlog::sharded::Log>> cramped =
      memlog::sharded::Log::Create(
          {.num_shards = 2, .shard = {}, .sharder = *three});
  absl::PrintF("a log of 2 shards for 3 keys: %s\n",
               memlog::IsInvalidOptions(cramped.status())
                   ? "refused (invalid options)"
                   : "unexpectedly accepted");
  return 0;
}
