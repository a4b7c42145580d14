// Copyright memlog authors.
//
// Streams a log while it is written. Mirrors the Go memlog
// `Example (Stream)`: a log starting at offset 10 with segments of 100
// records gets 5 records (offsets 10-14); a stream starts at the latest
// (14) while a writer adds 5 more, and prints each record it receives:
//
//   Record at offset 14 says "{\"id\":14,\"message\",\"hello world\"}"
//   ...
//   Record at offset 19 says "{\"id\":19,\"message\",\"hello world\"}"
//
// Where the Go example cancels after a 2-second sleep, this one ends
// deterministically: the writer closes the log when it is done, and the
// stream returns every record written before the close, then ends.

#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "memlog/log.h"

namespace {

// Quotes `data` as Go's %q verb does for printable ASCII text: in double
// quotes, with quotes and backslashes escaped. Newlines, tabs and carriage
// returns get Go's short escapes; other bytes show as \xNN.
std::string GoQuote(std::string_view data) {
  std::string quoted = "\"";
  for (const char c : data) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (c == '\n') {
      quoted += "\\n";
    } else if (c == '\t') {
      quoted += "\\t";
    } else if (c == '\r') {
      quoted += "\\r";
    } else if (c >= 0x20 && c < 0x7f) {
      quoted += c;
    } else {
      quoted += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
    }
  }
  return quoted + '"';
}

absl::Status WriteRecords(memlog::Log& log, int from, int to) {
  for (int id = from; id < to; ++id) {
    const std::string data =
        absl::StrFormat(R"({"id":%d,"message","hello world"})", id);
    if (absl::StatusOr<memlog::Offset> offset = log.Write(data); !offset.ok()) {
      return offset.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main() {
  constexpr int kLogStart = 10;
  constexpr int kLogSize = 100;
  constexpr int kWriteRecords = 10;

  absl::StatusOr<std::unique_ptr<memlog::Log>> created = memlog::Log::Create(
      {.start_offset = kLogStart, .segment_size = kLogSize});
  if (!created.ok()) {
    absl::PrintF("create log: %s\n", created.status().ToString());
    return 1;
  }
  memlog::Log& log = **created;

  // Write some records (offsets 10-14).
  if (absl::Status status =
          WriteRecords(log, kLogStart, kLogStart + kWriteRecords / 2);
      !status.ok()) {
    absl::PrintF("write: %s\n", status.ToString());
    return 1;
  }

  const memlog::Offset latest = log.Range().latest;
  absl::Status stream_status;
  {
    // Stream from the latest record (offset 14). The jthread's stop token
    // would cancel the stream if main had to leave early.
    std::jthread streamer([&](std::stop_token stop) {
      absl::StatusOr<memlog::Stream> stream = log.StreamFrom(latest, stop);
      if (!stream.ok()) {  // only for a start before the log's start offset
        stream_status = stream.status();
        return;
      }
      for (;;) {
        absl::StatusOr<memlog::RecordView> r = stream->Next();
        if (!r.ok()) {
          stream_status = r.status();
          return;
        }
        absl::PrintF("Record at offset %d says %s\n", r->offset(),
                     GoQuote(r->data()));
      }
    });

    // Continue writing while streaming (offsets 15-19), then close the log:
    // the stream delivers what was written and ends with IsClosed.
    absl::Status write_status = WriteRecords(log, kLogStart + kWriteRecords / 2,
                                             kLogStart + kWriteRecords);
    log.Close();
    if (!write_status.ok()) {
      absl::PrintF("run example: %s\n", write_status.ToString());
      return 1;  // ~jthread cancels the stream
    }
    // Join before ~jthread would cancel the stream: let it drain.
    streamer.join();
  }

  if (!memlog::IsClosed(stream_status)) {
    absl::PrintF("run example: %s\n", stream_status.ToString());
    return 1;
  }
  return 0;
}
