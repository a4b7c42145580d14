// Copyright memlog authors.
//
// Serves a legacy event source over HTTP, the job memlog exists for: a
// poller pulls pages of events from a source that has no streaming API
// (here a simulated one, with a checkpointed offset), writes them into a
// memlog::Log served as `events` (every event, in the source's order) and a
// sharded::Log served as `events-by-key` (each event under its key), and
// memlog::http::Server streams both to any number of clients:
//
//   ./bazelw run //examples:http_server -- --port=8080
//   curl -N 'http://127.0.0.1:8080/v1/logs/events/records?from=0'
//   curl -N 'http://127.0.0.1:8080/v1/logs/events-by-key/keys/vm-2/records?from=0'
//   open http://127.0.0.1:8080/ in a browser: the events, live.
//
// Flags: --address=127.0.0.1 --port=8080 (0 picks a free port) --rate=20
// (events per second the source produces) --events=0 (stop the source after
// this many; 0: never) --max-stream-duration=0 (seconds after which the
// server ends each stream so that clients reconnect; 0: never). The first
// line printed is `listening on http://ADDRESS:PORT`. SIGINT or SIGTERM stops
// the server gracefully.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "http/server.h"
#include "memlog/log.h"
#include "sharded/log.h"

namespace {

// The page served at "/": the `events` log, live, through EventSource. With
// `?report=URL` it also tells URL of each event it gets (the browser test
// uses that to check what the page saw).
constexpr char kPage[] = R"html(<!doctype html>
<meta charset="utf-8"><title>memlog events</title>
<h1>events</h1><ol id="events"></ol>
<script>
const report = new URLSearchParams(location.search).get('report');
let opens = 0, n = 0;
const source = new EventSource('/v1/logs/events/records?from=0');
source.onopen = () => { opens++; };
source.onmessage = (e) => {
  const r = JSON.parse(e.data), li = document.createElement('li');
  li.textContent = `${r.offset} ${r.created} ${r.data ?? r.data_base64}`;
  document.getElementById('events').append(li);
  if (report) fetch(`${report}?n=${n++}&offset=${r.offset}&opens=${opens}`, {mode: 'no-cors'});
};
source.addEventListener('closed', () => source.close());
</script>
)html";

// The legacy source: an API that returns pages of events after a
// checkpoint, as SOAP-era event APIs do. It makes `rate` events a second.
struct Event {
  int64_t id;
  std::string key;
  std::string message;
};

class LegacySource {
 public:
  LegacySource(int rate, int64_t limit)
      : rate_(rate), limit_(limit), start_(std::chrono::steady_clock::now()) {}

  // Returns the events after `checkpoint` (at most `max`), oldest first.
  std::vector<Event> FetchPage(int64_t checkpoint, int max) const {
    const double elapsed = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start_)
                               .count();
    int64_t available = static_cast<int64_t>(elapsed * rate_);
    if (limit_ > 0 && available > limit_) available = limit_;
    std::vector<Event> page;
    for (int64_t id = checkpoint; id < available && page.size() < static_cast<size_t>(max); ++id) {
      page.push_back({id, absl::StrFormat("vm-%d", id % 5),
                      absl::StrFormat("{\"id\":%d,\"event\":\"powered on\"}", id)});
    }
    return page;
  }

 private:
  const int rate_;
  const int64_t limit_;
  const std::chrono::steady_clock::time_point start_;
};

bool ParseFlag(std::string_view arg, std::string_view name,
               std::string* value) {
  const std::string prefix = absl::StrFormat("--%s=", name);
  if (arg.substr(0, prefix.size()) != prefix) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  memlog::http::ServerOptions options{.port = 8080};
  int rate = 20;
  int64_t limit = 0;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (ParseFlag(argv[i], "address", &value)) {
      options.address = value;
    } else if (ParseFlag(argv[i], "port", &value)) {
      options.port = static_cast<uint16_t>(std::atoi(value.c_str()));
    } else if (ParseFlag(argv[i], "rate", &value)) {
      rate = std::max(1, std::atoi(value.c_str()));
    } else if (ParseFlag(argv[i], "events", &value)) {
      limit = std::atoll(value.c_str());
    } else if (ParseFlag(argv[i], "max-stream-duration", &value)) {
      const double seconds = std::atof(value.c_str());
      if (seconds > 0) options.max_stream_duration = absl::Seconds(seconds);
    } else {
      std::cerr << "unknown flag " << argv[i]
                << "; flags: --address --port --rate --events "
                   "--max-stream-duration\n";
      return 2;
    }
  }

  // Signals are taken by sigwait() below, so every thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<memlog::Log> events =
      memlog::Log::Create({.segment_size = 10'000}).value();
  std::unique_ptr<memlog::sharded::Log> by_key =
      memlog::sharded::Log::Create({.num_shards = 16,
                                    .shard = {.segment_size = 10'000}})
          .value();

  memlog::http::Server server(options);
  if (absl::Status s = server.AddLog("events", events.get()); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (absl::Status s = server.AddShardedLog("events-by-key", by_key.get());
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (absl::Status s = server.AddPage("/", "text/html; charset=utf-8", kPage);
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "listening on http://" << options.address << ":"
            << server.port() << std::endl;

  // The poller: a page every 50 ms from the checkpoint on.
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    const LegacySource source(rate, limit);
    int64_t checkpoint = 0;
    while (!stop.load()) {
      for (const Event& event : source.FetchPage(checkpoint, 500)) {
        if (!events->Write(event.message).ok() ||
            !by_key->Write(event.key, event.message).ok()) {
          std::cerr << "write failed\n";
          return;
        }
        checkpoint = event.id + 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cout << "stopping (signal " << signal_number << ")" << std::endl;
  stop.store(true);
  poller.join();
  server.Shutdown(absl::Seconds(5));
  return 0;
}
