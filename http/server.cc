// Copyright memlog authors.
//
// Design: one Session per connection, its handlers serialized by a strand
// (no locks inside a session), in the shape of Beast's async server examples.
// A session reads a request, answers it, and either reads the next one
// (keep-alive) or becomes a stream. A stream of a plain log takes its events
// from the log's Feed (http/internal/feed.h): formatted once for all
// streams, written as slices of shared blocks, everything that arrived since
// the stream's last write in one HTTP chunk. A stream before the feed's
// window, and any stream of a sharded log, drains its own memlog stream with
// TryNextBatch() into a bounded buffer and formats its own events. When a
// stream runs dry it waits for the feed, or asks the log for
// NotifyWhenWritten(); the handler, run on the writer's thread, only posts
// the next step to a strand. While waiting a session holds no thread and no
// record.
//
// Ownership: the server's registry holds every open session; handlers of
// pending operations hold it too. Notification handlers and feeds hold a
// weak reference and post through a Gate that Shutdown() closes before the
// io_context stops, so that no writer thread posts into a stopped loop.

// Debian's Asio under GCC 12 with -std=c++20 uses std::exchange without
// including <utility>.
#include <utility>

#include "http/server.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "http/internal/feed.h"
#include "http/internal/format.h"
#include "http/internal/url.h"
#include "memlog/status.h"

namespace memlog::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using internal::AppendJsonString;
using internal::Feed;
using internal::FeedSlice;
using internal::Gate;

// Records read from a stream per TryNextBatch().
constexpr size_t kBatch = 64;
// Pieces (shared slices and the session's own bytes) per write: one writev.
constexpr size_t kMaxPieces = 48;

std::chrono::steady_clock::duration ToSteady(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return std::chrono::hours(24 * 365);
  return absl::ToChronoNanoseconds(d);
}

std::string JsonString(std::string_view text) {
  std::string out;
  // Messages are ours, but may quote a user's key: keep them valid JSON.
  if (internal::IsValidUtf8(text)) {
    AppendJsonString(&out, text);
  } else {
    AppendJsonString(&out, "(message not valid UTF-8)");
  }
  return out;
}

std::string OffsetOrNull(Offset offset) {
  return offset == kInvalidOffset ? "null" : absl::StrCat(offset);
}

// An error body: {"error":"<kind>","message":"<what and what is valid>",...}.
std::string ErrorBody(std::string_view error, std::string_view message,
                      std::string_view extra = {}) {
  std::string body = absl::StrCat("{\"error\":", JsonString(error),
                                  ",\"message\":", JsonString(message));
  if (!extra.empty()) absl::StrAppend(&body, ",", internal::Absl(extra));
  body.push_back('}');
  return body;
}

struct Metrics {
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> connections_total{0};
  std::atomic<int64_t> streams{0};
  std::atomic<int64_t> requests_total{0};
  std::atomic<int64_t> events_sent_total{0};
  std::atomic<int64_t> bytes_sent_total{0};
  std::atomic<int64_t> lagged_total{0};
  std::atomic<int64_t> buffered_bytes{0};
  std::atomic<int64_t> shared_event_bytes{0};
  // Rejections by reason.
  std::atomic<int64_t> rejected_connection_limit{0};
  std::atomic<int64_t> rejected_bad_request{0};
  std::atomic<int64_t> rejected_header_too_large{0};
  std::atomic<int64_t> rejected_uri_too_long{0};
  std::atomic<int64_t> rejected_unauthorized{0};
  std::atomic<int64_t> timeouts_total{0};
};

using Format = internal::EventFormat;

struct Served {
  std::string name;
  const memlog::Log* log = nullptr;
  const sharded::Log* sharded = nullptr;
  LogOptions options;
  // A plain log's feeds, by format (null when sharing is off); owned by the
  // server.
  Feed* feeds[2] = {nullptr, nullptr};
};

struct Page {
  std::string content_type;
  std::string body;
};

using AnyStream =
    std::variant<memlog::Stream, sharded::Stream, sharded::ShardStream>;

// Reads what `stream` has now (up to `max` records) and calls
// emit(offset, created, data, key) for each.
template <typename Emit>
ReadResult TryRead(AnyStream& any, size_t max, Emit emit) {
  return std::visit(
      [&](auto& stream) -> ReadResult {
        using S = std::decay_t<decltype(stream)>;
        using View = std::conditional_t<std::is_same_v<S, memlog::Stream>,
                                        memlog::RecordView, sharded::RecordView>;
        View views[kBatch];
        const ReadResult result = stream.TryNextBatch(
            absl::MakeSpan(views, std::min(max, kBatch)));
        for (int64_t i = 0; i < result.count; ++i) {
          const View& view = views[i];
          if constexpr (std::is_same_v<S, memlog::Stream>) {
            emit(view.offset(), view.created(), view.data(), std::nullopt);
          } else {
            emit(view.offset(), view.created(), view.data(),
                 std::optional<std::string_view>(view.key()));
          }
        }
        return result;
      },
      any);
}

absl::StatusOr<WriteNotification> NotifyReady(AnyStream& any,
                                              WriteHandler handler) {
  return std::visit(
      [&](auto& stream) { return stream.NotifyWhenReady(std::move(handler)); },
      any);
}

// What a request is about: a plain log, one key of a sharded log, or one
// shard of it.
struct Scope {
  enum Kind { kLog, kKey, kShard };
  const Served* served = nullptr;
  Kind kind = kLog;
  std::string key;
  size_t shard = 0;

  // The next offset the scope will write (where a stream without `from`
  // starts), and the start offset of its logs.
  Offset start_offset() const {
    return served->log != nullptr
               ? served->log->options().start_offset
               : served->sharded->options().shard.start_offset;
  }
};

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options)
      : options_(std::move(options)),
        ioc_(std::max(1, options_.threads)),
        acceptor_(asio::make_strand(ioc_)),
        gate_(std::make_shared<Gate>()) {}

  class Session;

  absl::Status Add(Served served);
  absl::Status AddPage(std::string path, Page page);
  absl::Status Start();
  void Shutdown(absl::Duration deadline);
  uint16_t port() const { return port_.load(std::memory_order_acquire); }

  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  const std::shared_ptr<Gate>& gate() const { return gate_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  const Served* Find(std::string_view name) const {
    const auto it = logs_.find(std::string(name));
    return it == logs_.end() ? nullptr : &it->second;
  }
  const Page* FindPage(std::string_view path) const {
    const auto it = pages_.find(std::string(path));
    return it == pages_.end() ? nullptr : &it->second;
  }
  std::string LogList() const;
  std::string MetricsText() const;
  void Remove(uint64_t id);

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  const ServerOptions options_;
  std::map<std::string, Served> logs_;
  std::map<std::string, Page> pages_;
  Metrics metrics_;

  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  const std::shared_ptr<Gate> gate_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  // After ioc_: their strands must go before it.
  std::vector<std::unique_ptr<Feed>> feeds_;
  bool started_ = false;
  bool shut_down_ = false;

  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Session>> sessions_;
};

class Server::Impl::Session
    : public std::enable_shared_from_this<Server::Impl::Session>,
      public internal::FeedWaiter {
 public:
  Session(Impl* server, tcp::socket socket, uint64_t id)
      : server_(server),
        options_(server->options()),
        strand_(socket.get_executor()),
        stream_(std::move(socket)),
        buffer_(options_.max_header_bytes + 1024),
        timer_(strand_),
        heartbeat_(strand_),
        id_(id) {}

  ~Session() {
    server_metrics_buffered(-buffered_accounted_);
  }

  const asio::any_io_executor& strand() const { return strand_; }

  // The feed has events for this stream, or gave up: go on on the strand.
  void OnFeed() override {
    asio::post(strand_, [self = shared_from_this()] {
      self->waiting_on_feed_ = false;
      self->Pump();
    });
  }

  void Start() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->Read(); });
  }

  // Answers 503 at once and closes: over the connection limit.
  void Reject() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->keep_alive_ = false;
      self->rejected_ = true;
      self->Respond(bhttp::status::service_unavailable,
                    ErrorBody("too_many_connections",
                              absl::StrCat("the server holds its limit of ",
                                           self->options_.max_connections,
                                           " connections; retry later")));
    });
  }

  // Posted by Shutdown(): ends a stream with `closed`, answers a waiting
  // poll, closes an idle connection.
  void BeginShutdown() {
    shutting_down_ = true;
    switch (mode_) {
      case Mode::kReading:
        Close();
        break;
      case Mode::kResponding:
        keep_alive_ = false;  // closes once the response is written
        break;
      case Mode::kPolling:
        FinishPoll();
        break;
      case Mode::kStreaming:
        if (!stream_done_) {
          AppendClosed("server shutting down");
          stream_done_ = true;
        }
        notification_.Cancel();
        ForgetFeed();
        Flush();
        break;
      case Mode::kClosed:
        break;
    }
  }

 private:
  enum class Mode { kReading, kResponding, kPolling, kStreaming, kClosed };

  void server_metrics_buffered(int64_t delta) {
    if (delta != 0) {
      server_->metrics().buffered_bytes.fetch_add(delta,
                                                  std::memory_order_relaxed);
    }
  }

  // --- Requests. ---

  void Read() {
    if (mode_ == Mode::kClosed) return;
    if (shutting_down_) return Close();
    mode_ = Mode::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser_->body_limit(0);
    stream_.expires_after(ToSteady(requests_ == 0 ? options_.header_timeout
                                                  : options_.idle_timeout));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead,
                                                shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (mode_ == Mode::kClosed) return;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == beast::error::timeout) {
      server_->metrics().timeouts_total.fetch_add(1);
      return Close();
    }
    keep_alive_ = false;
    if (ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow) {
      // A request line longer than the target limit is a long URI; anything
      // else is too many header bytes.
      const std::string_view data(
          static_cast<const char*>(buffer_.data().data()),
          buffer_.data().size());
      const size_t line = data.find("\r\n");
      // The parser keeps the bytes of the line it could not finish: the
      // request line (the buffer still starts with it) or a header field.
      const bool in_request_line =
          data.size() > options_.max_target_bytes &&
          data.substr(0, std::min(line, data.size())).find(' ') <
              std::string_view::npos &&
          (data.substr(0, 4) == "GET " || data.substr(0, 5) == "HEAD " ||
           data.substr(0, 5) == "POST " || data.substr(0, 4) == "PUT ");
      if (in_request_line &&
          (line == std::string_view::npos ||
           line > options_.max_target_bytes)) {
        return RejectUriTooLong();
      }
      server_->metrics().rejected_header_too_large.fetch_add(1);
      return Respond(bhttp::status::request_header_fields_too_large,
                     ErrorBody("header_too_large",
                               absl::StrCat("request headers exceed ",
                                            options_.max_header_bytes,
                                            " bytes")));
    }
    if (ec) {
      server_->metrics().rejected_bad_request.fetch_add(1);
      return Respond(bhttp::status::bad_request,
                     ErrorBody("bad_request",
                               absl::StrCat("malformed HTTP request: ",
                                            ec.message())));
    }
    ++requests_;
    server_->metrics().requests_total.fetch_add(1);
    bhttp::request<bhttp::empty_body> request = parser_->release();
    parser_.reset();
    keep_alive_ = request.keep_alive();
    Handle(request);
  }

  void RejectUriTooLong() {
    server_->metrics().rejected_uri_too_long.fetch_add(1);
    keep_alive_ = false;
    Respond(bhttp::status::uri_too_long,
            ErrorBody("uri_too_long",
                      absl::StrCat("request targets are limited to ",
                                   options_.max_target_bytes, " bytes")));
  }

  void Handle(const bhttp::request<bhttp::empty_body>& request) {
    if (shutting_down_) {
      keep_alive_ = false;
      return Respond(bhttp::status::service_unavailable,
                     ErrorBody("shutting_down", "the server is shutting down"));
    }
    if (request.method() != bhttp::verb::get) {
      keep_alive_ = false;
      return Respond(bhttp::status::method_not_allowed,
                     ErrorBody("method_not_allowed", "only GET is served"),
                     "application/json", {{"Allow", "GET"}});
    }
    const std::string_view target = request.target();
    if (target.size() > options_.max_target_bytes) return RejectUriTooLong();
    std::optional<internal::Target> parsed = internal::ParseTarget(target);
    if (!parsed.has_value()) {
      server_->metrics().rejected_bad_request.fetch_add(1);
      return Respond(bhttp::status::bad_request,
                     ErrorBody("bad_target",
                               "the request target is not an absolute path "
                               "with valid percent-encoding"));
    }
    const std::string_view path = target.substr(0, target.find('?'));
    if (const Page* page = server_->FindPage(path)) {
      return Respond(bhttp::status::ok, page->body, page->content_type);
    }
    const std::vector<std::string>& segments = parsed->segments;
    if (segments.size() == 1 && segments[0] == "health") {
      return Respond(bhttp::status::ok, "{\"status\":\"ok\"}");
    }
    if (segments.size() == 1 && segments[0] == "metrics") {
      return Respond(bhttp::status::ok, server_->MetricsText(),
                     "text/plain; version=0.0.4; charset=utf-8");
    }
    if (segments.size() >= 2 && segments[0] == "v1" && segments[1] == "logs") {
      if (segments.size() == 2) return Respond(bhttp::status::ok, server_->LogList());
      return HandleLog(request, *parsed);
    }
    NotFound(path);
  }

  void NotFound(std::string_view path) {
    Respond(bhttp::status::not_found,
            ErrorBody("not_found",
                      absl::StrCat("no resource at ", internal::Absl(path),
                                   "; logs are under /v1/logs/{log}/")));
  }

  void HandleLog(const bhttp::request<bhttp::empty_body>& request,
                 const internal::Target& target) {
    const std::vector<std::string>& segments = target.segments;
    Scope scope;
    scope.served = server_->Find(segments[2]);
    if (scope.served == nullptr) {
      return Respond(bhttp::status::not_found,
                     ErrorBody("unknown_log",
                               absl::StrCat("no log named ", segments[2],
                                            " is served; see /v1/logs")));
    }
    if (const std::string& token = scope.served->options.bearer_token;
        !token.empty()) {
      const auto it = request.find(bhttp::field::authorization);
      const std::string expected = absl::StrCat("Bearer ", token);
      if (it == request.end() || !ConstantTimeEquals(it->value(), expected)) {
        server_->metrics().rejected_unauthorized.fetch_add(1);
        return Respond(bhttp::status::unauthorized,
                       ErrorBody("unauthorized",
                                 absl::StrCat("log ", scope.served->name,
                                              " requires Authorization: "
                                              "Bearer <token>")),
                       "application/json",
                       {{"WWW-Authenticate", "Bearer"}});
      }
    }
    size_t rest = 3;
    if (scope.served->sharded != nullptr) {
      const sharded::Log& log = *scope.served->sharded;
      const std::string forms = absl::StrCat(
          "log ", scope.served->name,
          " is sharded: offsets mean something per key or per shard; use "
          "/v1/logs/",
          scope.served->name,
          "/keys/{key}/records (the key percent-encoded) or /v1/logs/",
          scope.served->name, "/shards/{n}/records (n < ", log.num_shards(),
          ")");
      if (segments.size() >= 5 && segments[3] == "keys") {
        scope.kind = Scope::kKey;
        scope.key = segments[4];
        rest = 5;
      } else if (segments.size() >= 5 && segments[3] == "shards") {
        std::optional<Offset> shard = internal::ParseOffset(segments[4]);
        if (!shard.has_value() ||
            static_cast<uint64_t>(*shard) >= log.num_shards()) {
          return Respond(bhttp::status::not_found,
                         ErrorBody("unknown_shard",
                                   absl::StrCat("shard ", segments[4],
                                                " does not exist; shards are "
                                                "0 to ",
                                                log.num_shards() - 1),
                                   absl::StrCat("\"shards\":",
                                                log.num_shards())));
        }
        scope.kind = Scope::kShard;
        scope.shard = static_cast<size_t>(*shard);
        rest = 5;
      } else {
        return Respond(bhttp::status::bad_request,
                       ErrorBody("sharded_log", forms,
                                 absl::StrCat("\"shards\":", log.num_shards())));
      }
    }
    const size_t left = segments.size() - rest;
    if (left == 1 && segments[rest] == "range") return HandleRange(scope);
    if (left == 2 && segments[rest] == "records") {
      return HandleRecord(scope, segments[rest + 1]);
    }
    if (left == 1 && segments[rest] == "records") {
      return HandleRecords(request, target, scope);
    }
    NotFound(request.target().substr(0, request.target().find('?')));
  }

  static bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
  }

  absl::StatusOr<OffsetRange> RangeOf(const Scope& scope) const {
    switch (scope.kind) {
      case Scope::kLog:
        return scope.served->log->Range();
      case Scope::kKey:
        return scope.served->sharded->Range(scope.key);
      case Scope::kShard:
        return scope.served->sharded->ShardRange(scope.shard);
    }
    return OffsetRange{};
  }

  // The offset a stream without `from` starts at: the next one written.
  absl::StatusOr<Offset> TailOf(const Scope& scope) const {
    absl::StatusOr<OffsetRange> range;
    if (scope.kind == Scope::kKey) {
      absl::StatusOr<size_t> shard =
          scope.served->sharded->ShardFor(scope.key);
      if (!shard.ok()) return shard.status();
      range = scope.served->sharded->ShardRange(*shard);
    } else {
      range = RangeOf(scope);
    }
    if (!range.ok()) return range.status();
    return range->latest == kInvalidOffset ? scope.start_offset()
                                           : range->latest + 1;
  }

  void HandleRange(const Scope& scope) {
    absl::StatusOr<OffsetRange> range = RangeOf(scope);
    if (!range.ok()) return RespondStatus(range.status(), scope);
    Respond(bhttp::status::ok,
            absl::StrCat("{\"earliest\":", OffsetOrNull(range->earliest),
                         ",\"latest\":", OffsetOrNull(range->latest), "}"));
  }

  void HandleRecord(const Scope& scope, std::string_view text) {
    std::optional<Offset> offset = internal::ParseOffset(text);
    if (!offset.has_value()) {
      server_->metrics().rejected_bad_request.fetch_add(1);
      return Respond(
          bhttp::status::bad_request,
          ErrorBody("bad_offset",
                    absl::StrCat("offset must be a decimal integer in [",
                                 scope.start_offset(), ", ", kMaxOffset,
                                 "]; got '", internal::Absl(text), "'")));
    }
    std::string body;
    if (scope.kind == Scope::kLog) {
      absl::StatusOr<memlog::RecordView> view =
          scope.served->log->ReadView(*offset);
      if (!view.ok()) return RespondStatus(view.status(), scope);
      internal::AppendRecordJson(&body, view->offset(), view->created(),
                                 view->data(), std::nullopt);
    } else {
      absl::StatusOr<sharded::RecordView> view =
          scope.kind == Scope::kKey
              ? scope.served->sharded->ReadView(scope.key, *offset)
              : scope.served->sharded->ReadShard(scope.shard, *offset);
      if (!view.ok()) return RespondStatus(view.status(), scope);
      internal::AppendRecordJson(&body, view->offset(), view->created(),
                                 view->data(), view->key());
    }
    Respond(bhttp::status::ok, body);
  }

  // Answers a failed read by its kind, with what is valid.
  void RespondStatus(const absl::Status& status, const Scope& scope) {
    const std::string message(status.message());
    absl::StatusOr<OffsetRange> range = RangeOf(scope);
    const OffsetRange known = range.ok() ? *range : OffsetRange{};
    if (IsPurgedOffset(status) || IsLagged(status)) {
      return Respond(bhttp::status::gone,
                     ErrorBody("purged_offset", message,
                               absl::StrCat("\"earliest\":",
                                            OffsetOrNull(known.earliest))));
    }
    if (IsFutureOffset(status)) {
      return Respond(bhttp::status::not_found,
                     ErrorBody("future_offset", message,
                               absl::StrCat("\"latest\":",
                                            OffsetOrNull(known.latest))));
    }
    if (IsImpossibleOffset(status)) {
      server_->metrics().rejected_bad_request.fetch_add(1);
      return Respond(bhttp::status::bad_request,
                     ErrorBody("impossible_offset", message));
    }
    if (IsKeyNotFound(status)) {
      return Respond(bhttp::status::not_found,
                     ErrorBody("key_not_found", message));
    }
    if (IsInvalidKey(status)) {
      server_->metrics().rejected_bad_request.fetch_add(1);
      return Respond(bhttp::status::bad_request,
                     ErrorBody("invalid_key", message));
    }
    if (IsOutOfMemory(status)) {
      return Respond(bhttp::status::service_unavailable,
                     ErrorBody("out_of_memory", message));
    }
    Respond(bhttp::status::internal_server_error,
            ErrorBody("internal", message));
  }

  void BadParameter(std::string_view error, std::string message) {
    server_->metrics().rejected_bad_request.fetch_add(1);
    Respond(bhttp::status::bad_request, ErrorBody(error, message));
  }

  void HandleRecords(const bhttp::request<bhttp::empty_body>& request,
                     const internal::Target& target, const Scope& scope) {
    const std::string valid = absl::StrCat(
        "a decimal offset in [", scope.start_offset(), ", ", kMaxOffset, "]");
    std::optional<std::string_view> limit_text = target.Param("limit");
    std::optional<std::string_view> wait_text = target.Param("wait");
    const bool poll = limit_text.has_value() || wait_text.has_value();
    Offset from;
    if (std::optional<std::string_view> text = target.Param("from")) {
      std::optional<Offset> parsed = internal::ParseOffset(*text);
      if (!parsed.has_value() || *parsed < scope.start_offset()) {
        return BadParameter("bad_from", absl::StrCat("from must be ", valid,
                                                     "; got '",
                                                     internal::Absl(*text),
                                                     "'"));
      }
      from = *parsed;
    } else {
      absl::StatusOr<Offset> tail = TailOf(scope);
      if (!tail.ok()) return RespondStatus(tail.status(), scope);
      from = *tail;
    }
    const Format format =
        absl::StrContains(internal::Absl(request[bhttp::field::accept]),
                          "application/x-ndjson")
            ? Format::kNdjson
            : Format::kSse;
    if (!poll && format == Format::kSse) {
      if (const auto it = request.find("Last-Event-ID"); it != request.end()) {
        std::optional<Offset> id = internal::ParseOffset(it->value());
        if (!id.has_value() || *id >= kMaxOffset) {
          return BadParameter(
              "bad_last_event_id",
              absl::StrCat("Last-Event-ID must be ", valid, "; got '",
                           internal::Absl(it->value()), "'"));
        }
        from = std::max(from, *id + 1);
        from = *id + 1;
      }
    }
    int64_t limit = options_.max_limit;
    if (limit_text.has_value()) {
      if (!absl::SimpleAtoi(internal::Absl(*limit_text), &limit) || limit < 1 ||
          limit > options_.max_limit) {
        return BadParameter(
            "bad_limit", absl::StrCat("limit must be an integer in [1, ",
                                      options_.max_limit, "]; got '",
                                      internal::Absl(*limit_text), "'"));
      }
    }
    absl::Duration wait = absl::ZeroDuration();
    if (wait_text.has_value()) {
      std::optional<absl::Duration> parsed = internal::ParseWait(*wait_text);
      if (!parsed.has_value()) {
        return BadParameter(
            "bad_wait",
            absl::StrCat("wait must be a duration such as 5s or 250ms (at "
                         "most ",
                         absl::FormatDuration(options_.max_wait), "); got '",
                         internal::Absl(*wait_text), "'"));
      }
      wait = std::min(*parsed, options_.max_wait);
    }

    absl::StatusOr<AnyStream> made = MakeStream(scope, from);
    if (!made.ok()) return RespondStatus(made.status(), scope);
    if (poll) {
      // A purged start is an error for a read (410); a stream reports it as
      // a lag and goes on.
      if (absl::Status purged = CheckNotPurged(scope, from); !purged.ok()) {
        return RespondStatus(purged, scope);
      }
      return StartPoll(*std::move(made), scope, limit, wait);
    }
    Feed* feed = scope.kind == Scope::kLog
                     ? scope.served->feeds[static_cast<int>(format)]
                     : nullptr;
    StartStream(*std::move(made), format, feed, scope.served->log, from);
  }

  absl::StatusOr<AnyStream> MakeStream(const Scope& scope, Offset from) {
    switch (scope.kind) {
      case Scope::kLog: {
        absl::StatusOr<memlog::Stream> s = scope.served->log->StreamFrom(from);
        if (!s.ok()) return s.status();
        return AnyStream(std::in_place_index<0>, *std::move(s));
      }
      case Scope::kKey: {
        absl::StatusOr<sharded::Stream> s =
            scope.served->sharded->StreamFrom(scope.key, from);
        if (!s.ok()) return s.status();
        return AnyStream(std::in_place_index<1>, *std::move(s));
      }
      case Scope::kShard: {
        absl::StatusOr<sharded::ShardStream> s =
            scope.served->sharded->ShardStreamFrom(scope.shard, from);
        if (!s.ok()) return s.status();
        return AnyStream(std::in_place_index<2>, *std::move(s));
      }
    }
    return absl::InternalError("unreachable");
  }

  absl::Status CheckNotPurged(const Scope& scope, Offset from) const {
    if (scope.kind == Scope::kKey) {
      sharded::RecordView one;
      ReadResult read = scope.served->sharded->ReadBatchView(
          scope.key, from, absl::MakeSpan(&one, 1));
      return IsPurgedOffset(read.status) ? read.status : absl::OkStatus();
    }
    absl::StatusOr<OffsetRange> range = RangeOf(scope);
    if (range.ok() && range->earliest != kInvalidOffset &&
        from < range->earliest) {
      return MakeError(ErrorKind::kPurgedOffset,
                       absl::StrCat("offset ", from,
                                    " is purged; earliest available is ",
                                    range->earliest));
    }
    return absl::OkStatus();
  }

  // --- Responses. ---

  void Respond(bhttp::status status, std::string body,
               std::string_view content_type = "application/json",
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (mode_ == Mode::kClosed) return;
    mode_ = Mode::kResponding;
    response_.emplace(status, 11);
    response_->set(bhttp::field::server, "memlog");
    response_->set(bhttp::field::content_type, content_type);
    response_->set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : headers) response_->set(name, value);
    response_->body() = std::move(body);
    response_->keep_alive(keep_alive_ && !shutting_down_);
    response_->prepare_payload();
    stream_.expires_after(ToSteady(options_.write_timeout));
    bhttp::async_write(stream_, *response_,
                       beast::bind_front_handler(&Session::OnResponded,
                                                 shared_from_this()));
  }

  void OnResponded(beast::error_code ec, size_t bytes) {
    server_->metrics().bytes_sent_total.fetch_add(
        static_cast<int64_t>(bytes), std::memory_order_relaxed);
    const bool keep = response_.has_value() && response_->keep_alive();
    response_.reset();
    if (ec || !keep || rejected_) return Close();
    Read();
  }

  // Reads from the client while a stream is answered, so that a
  // client that goes away is noticed at once, not at the next write. Bytes
  // it sends meanwhile (a pipelined request) are discarded.
  void WatchPeer() {
    stream_.socket().async_read_some(
        asio::buffer(peer_byte_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (self->mode_ != Mode::kStreaming) return;
          if (ec) return self->Close();
          self->WatchPeer();
        });
  }

  // --- Long polling. ---

  void StartPoll(AnyStream stream, const Scope& scope, int64_t limit,
                 absl::Duration wait) {
    mode_ = Mode::kPolling;
    source_.emplace(std::move(stream));
    poll_scope_ = scope;
    poll_limit_ = limit;
    poll_body_ = "[";
    poll_count_ = 0;
    if (PollOnce()) return;
    if (wait <= absl::ZeroDuration()) {
      return RespondStatus(future_, scope);
    }
    timer_.expires_after(ToSteady(wait));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->mode_ != Mode::kPolling) return;
      self->FinishPoll();
    });
    // Not watching the peer here: the connection may be kept alive, and the
    // next request must reach the parser. The wait is bounded by max_wait.
    Arm();
  }

  // Reads what is there; answers and returns true if that ends the poll.
  bool PollOnce() {
    for (;;) {
      const int64_t want = poll_limit_ - poll_count_;
      ReadResult read = TryRead(
          *source_, static_cast<size_t>(want),
          [&](Offset offset, absl::Time created, std::string_view data,
              std::optional<std::string_view> key) {
            if (poll_count_ > 0) poll_body_.push_back(',');
            internal::AppendRecordJson(&poll_body_, offset, created, data, key);
            ++poll_count_;
          });
      if (read.count > 0 && poll_count_ < poll_limit_) continue;
      if (poll_count_ > 0) {
        FinishPoll();
        return true;
      }
      if (IsFutureOffset(read.status)) {
        future_ = read.status;
        return false;
      }
      if (IsClosed(read.status)) {
        FinishPoll({{"Memlog-Log-Closed", "true"}});
        return true;
      }
      // A lag (a purge overtook the poll) or anything else.
      timer_.cancel();
      notification_.Cancel();
      RespondStatus(read.status, poll_scope_);
      return true;
    }
  }

  void FinishPoll(std::vector<std::pair<std::string, std::string>> headers = {}) {
    timer_.cancel();
    notification_.Cancel();
    poll_body_.push_back(']');
    source_.reset();
    Respond(bhttp::status::ok, std::move(poll_body_), "application/json",
            std::move(headers));
  }

  // --- Streams (SSE, NDJSON). ---

  void StartStream(AnyStream stream, Format format, Feed* feed,
                   const memlog::Log* log, Offset from) {
    mode_ = Mode::kStreaming;
    format_ = format;
    source_.emplace(std::move(stream));
    feed_ = feed;
    if (feed_ != nullptr) feed_->Attach();
    plain_log_ = log;
    position_ = from;
    server_->metrics().streams.fetch_add(1);
    streaming_counted_ = true;
    // Flush() writes what fits at once, and the rest asynchronously.
    beast::error_code ignored;  // if it fails, every write is asynchronous
    stream_.socket().non_blocking(true, ignored);
    header_ = absl::StrCat(
        "HTTP/1.1 200 OK\r\nServer: memlog\r\nContent-Type: ",
        format == Format::kSse ? "text/event-stream" : "application/x-ndjson",
        "\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    if (format == Format::kSse) {
      const size_t start = pending_.size();
      absl::StrAppend(&pending_, "retry: ",
                      absl::ToInt64Milliseconds(options_.sse_retry), "\n\n");
      QueueOwn(start);
    }
    ArmHeartbeat();
    if (buffer_.size() == 0) WatchPeer();
    if (options_.max_stream_duration != absl::InfiniteDuration()) {
      timer_.expires_after(ToSteady(options_.max_stream_duration));
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->stream_done_) return;
        // Ends without `closed`: the client reconnects and resumes.
        self->stream_done_ = true;
        self->notification_.Cancel();
        self->ForgetFeed();
        self->Flush();
      });
    }
    Pump();
  }

  // Queues pending_[start, end) (bytes just appended) after what is queued.
  void QueueOwn(size_t start) {
    const size_t end = pending_.size();
    if (end == start) return;
    if (!queue_.empty() && queue_.back().block == nullptr &&
        queue_.back().end == start) {
      queue_.back().end = end;
    } else {
      queue_.push_back({nullptr, start, end, 0});
    }
    queued_bytes_ += end - start;
  }

  void AppendRecord(Offset offset, absl::Time created, std::string_view data,
                    std::optional<std::string_view> key) {
    const size_t start = pending_.size();
    internal::AppendRecordEvent(&pending_, format_, offset, created, data,
                                key);
    QueueOwn(start);
    ++events_;
  }

  void AppendLagged(const absl::Status& status, Offset continue_from) {
    const size_t start = pending_.size();
    const std::string fields = absl::StrCat(
        "\"missed\":", LaggedCount(status),
        ",\"exact\":", IsLaggedCountExact(status) ? "true" : "false",
        ",\"from\":", continue_from);
    if (format_ == Format::kSse) {
      // The id moves past what was missed, so that a reconnect resumes at
      // the earliest record instead of reporting the lag again.
      absl::StrAppend(&pending_, "event: lagged\n");
      if (continue_from > 0) {
        absl::StrAppend(&pending_, "id: ", continue_from - 1, "\n");
      }
      absl::StrAppend(&pending_, "data: {", fields, "}\n\n");
    } else {
      absl::StrAppend(&pending_, "{\"event\":\"lagged\",", fields, "}\n");
    }
    QueueOwn(start);
    ++events_;
    server_->metrics().lagged_total.fetch_add(1);
  }

  void AppendClosed(std::string_view reason) {
    const size_t start = pending_.size();
    if (format_ == Format::kSse) {
      absl::StrAppend(&pending_, "event: closed\ndata: {\"reason\":",
                      JsonString(reason), "}\n\n");
    } else {
      absl::StrAppend(&pending_, "{\"event\":\"closed\",\"reason\":",
                      JsonString(reason), "}\n");
    }
    QueueOwn(start);
    ++events_;
  }

  Offset Position() const {
    return std::visit([](const auto& s) { return s.position(); }, *source_);
  }

  // Queues what the feed or the stream has (up to the buffer limit), then
  // writes, or waits for the feed or the log.
  void Pump() {
    Fill();
    Flush();
  }

  // Queues what the stream has to send, up to max_buffered_bytes.
  void Fill() {
    if (mode_ != Mode::kStreaming) return;
    while (!stream_done_ && queued_bytes_ < options_.max_buffered_bytes &&
           queue_.size() < kMaxPieces) {
      if (feed_ != nullptr) {
        if (waiting_on_feed_) break;
        const size_t before = queue_.size();
        Offset next = position_;
        const Feed::Take take = feed_->TakeOrWait(
            position_, options_.max_buffered_bytes - queued_bytes_,
            kMaxPieces - queue_.size(), &queue_, &next, shared_from_this());
        if (take == Feed::Take::kTaken) {
          for (size_t i = before; i < queue_.size(); ++i) {
            queued_bytes_ += queue_[i].end - queue_[i].begin;
            events_ += queue_[i].records;
          }
          position_ = next;
          continue;
        }
        if (take == Feed::Take::kWaiting) {
          waiting_on_feed_ = true;
          break;
        }
        // Before the feed's window: read and format on our own.
        if (Position() != position_ && !Reposition()) break;
      }
      ReadResult read = TryRead(
          *source_, kBatch,
          [this](Offset offset, absl::Time created, std::string_view data,
                 std::optional<std::string_view> key) {
            AppendRecord(offset, created, data, key);
          });
      if (feed_ != nullptr) position_ = Position();
      if (read.count > 0) continue;
      if (IsLagged(read.status)) {
        AppendLagged(read.status, Position());
        if (feed_ != nullptr) position_ = Position();
        continue;
      }
      if (IsFutureOffset(read.status)) {
        if (!notification_.engaged()) Arm();
        break;
      }
      AppendClosed(IsClosed(read.status) ? "log closed"
                                         : std::string(read.status.message()));
      stream_done_ = true;
    }
  }

  // Makes the stream of a plain log anew at position_ (where the feed left
  // it); false if that fails, which ends the stream.
  bool Reposition() {
    notification_.Cancel();  // it was for the old position
    absl::StatusOr<memlog::Stream> made = plain_log_->StreamFrom(position_);
    if (!made.ok()) {
      AppendClosed(std::string(made.status().message()));
      stream_done_ = true;
      return false;
    }
    source_.emplace(std::in_place_index<0>, *std::move(made));
    return true;
  }

  void ForgetFeed() {
    if (feed_ != nullptr && waiting_on_feed_) feed_->Forget(this);
    waiting_on_feed_ = false;
  }

  // Asks the log to post OnReady() once the stream's next offset is written.
  void Arm() {
    std::weak_ptr<Session> weak = weak_from_this();
    absl::StatusOr<WriteNotification> armed = NotifyReady(
        *source_, [weak, gate = server_->gate()](absl::Status) {
          std::lock_guard<std::mutex> lock(gate->mu);
          if (!gate->open) return;
          if (std::shared_ptr<Session> self = weak.lock()) {
            asio::post(self->strand_, [self] { self->OnReady(); });
          }
        });
    if (armed.ok()) {
      notification_ = *std::move(armed);
      return;
    }
    if (mode_ == Mode::kStreaming) {
      AppendClosed(std::string(armed.status().message()));
      stream_done_ = true;
    } else {
      RespondStatus(armed.status(), poll_scope_);
    }
  }

  void OnReady() {
    notification_ = WriteNotification();
    if (mode_ == Mode::kStreaming) {
      Pump();
    } else if (mode_ == Mode::kPolling) {
      if (!PollOnce()) Arm();
    }
  }

  void ArmHeartbeat() {
    heartbeat_.expires_after(ToSteady(options_.heartbeat_interval));
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->mode_ != Mode::kStreaming || self->stream_done_) return;
      if (!self->writing_ && self->queue_.empty() &&
          self->events_ == self->events_at_heartbeat_) {
        const size_t start = self->pending_.size();
        self->pending_.append(self->format_ == Format::kSse
                                  ? ": heartbeat\n\n"
                                  : "{\"event\":\"heartbeat\"}\n");
        self->QueueOwn(start);
        self->Flush();
      }
      self->events_at_heartbeat_ = self->events_;
      self->ArmHeartbeat();
    });
  }

  // Writes what is queued, and goes on filling and writing for as long as
  // each write completes at once; the first that does not continues
  // asynchronously, in OnStreamWritten(). After a few, the stream lets the
  // thread's other work run first, as an asynchronous write would.
  void Flush() {
    constexpr int kWritesPerTurn = 8;
    size_t written = 0;
    for (int writes = 1; StartWrite(&written); ++writes) {
      if (!FinishWrite(beast::error_code(), written)) return;
      if (writes == kWritesPerTurn) {
        asio::post(strand_, [self = shared_from_this()] { self->Pump(); });
        return;
      }
      Fill();
    }
  }

  // Starts writing what is queued as one chunk (after the response header,
  // the first time; followed by the last chunk once the stream is done).
  // True if the socket took all of it at once (*written bytes): the write
  // is over, and FinishWrite() is the caller's to run. A client that keeps
  // up has room in its socket for what arrived since its last write, so
  // most writes end here, without the asynchronous operation's timeout
  // timer and completion handler, which would cost the server more than
  // the write itself.
  bool StartWrite(size_t* written) {
    if (mode_ != Mode::kStreaming || writing_) return false;
    // The response header goes out at once, before any event.
    if (queue_.empty() && header_.empty() &&
        !(stream_done_ && !last_chunk_sent_)) {
      return false;
    }
    std::swap(writing_buf_, pending_);
    pending_.clear();
    std::swap(in_flight_, queue_);
    queue_.clear();
    const size_t bytes = queued_bytes_;
    queued_bytes_ = 0;
    buffers_.clear();
    if (!header_.empty()) buffers_.push_back(asio::buffer(header_));
    if (bytes > 0) {
      const absl::AlphaNum size{absl::Hex(bytes)};
      chunk_head_size_ = size.size() + 2;
      std::memcpy(chunk_head_, size.data(), size.size());
      std::memcpy(chunk_head_ + size.size(), "\r\n", 2);
      buffers_.push_back(asio::buffer(chunk_head_, chunk_head_size_));
      for (const FeedSlice& piece : in_flight_) {
        const char* base = piece.block != nullptr ? piece.block->bytes.data()
                                                  : writing_buf_.data();
        buffers_.push_back(
            asio::buffer(base + piece.begin, piece.end - piece.begin));
      }
      buffers_.push_back(asio::buffer("\r\n", 2));
    }
    if (stream_done_) {
      buffers_.push_back(asio::buffer("0\r\n\r\n", 5));
      last_chunk_sent_ = true;
    }
    AccountBuffered();
    const int64_t events = events_ - events_counted_;
    events_counted_ = events_;
    server_->metrics().events_sent_total.fetch_add(events,
                                                   std::memory_order_relaxed);
    writing_ = true;

    // On a non-blocking socket (StartStream()) this takes what fits: all of
    // it (at most kMaxPieces + 4 buffers, within the 64 of one write_some),
    // some, or nothing (would_block). The rest goes asynchronously.
    beast::error_code ec = asio::error::would_block;
    const size_t total = asio::buffer_size(buffers_);
    size_t sent = 0;
    if (stream_.socket().non_blocking()) {
      sent = stream_.socket().write_some(
          std::span<const asio::const_buffer>(buffers_), ec);
    }
    if (!ec && sent == total) {
      *written = sent;
      return true;
    }
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      FinishWrite(ec, 0);
      return false;
    }
    const size_t taken = ec ? 0 : sent;
    server_->metrics().bytes_sent_total.fetch_add(
        static_cast<int64_t>(taken), std::memory_order_relaxed);
    // The rest: a view of buffers_, which lives until the write completes
    // (the write does not copy the vector).
    beast::buffers_suffix<std::span<const asio::const_buffer>> rest{
        std::span<const asio::const_buffer>(buffers_)};
    rest.consume(taken);
    stream_.expires_after(ToSteady(options_.write_timeout));
    asio::async_write(stream_, rest,
                      beast::bind_front_handler(&Session::OnStreamWritten,
                                                shared_from_this()));
    return false;
  }

  void OnStreamWritten(beast::error_code ec, size_t bytes) {
    if (FinishWrite(ec, bytes)) Pump();
  }

  // A write is over: lets go of what it wrote. False if that ended the
  // connection (an error, or the last chunk was sent).
  bool FinishWrite(beast::error_code ec, size_t bytes) {
    writing_ = false;
    server_->metrics().bytes_sent_total.fetch_add(
        static_cast<int64_t>(bytes), std::memory_order_relaxed);
    if (!header_.empty()) std::string().swap(header_);
    in_flight_.clear();  // lets go of the shared blocks
    // A buffer that grew for a burst is not kept for an idle stream.
    if (writing_buf_.capacity() > 16 * 1024) {
      std::string().swap(writing_buf_);
    } else {
      writing_buf_.clear();
    }
    AccountBuffered();
    if (ec) {
      if (ec == beast::error::timeout) server_->metrics().timeouts_total.fetch_add(1);
      Close();
      return false;
    }
    if (last_chunk_sent_) {
      Close();
      return false;
    }
    return true;
  }

  // The stream's buffers: its own, and the shared bytes it queues or writes
  // (counted once per stream that holds them).
  void AccountBuffered() {
    size_t shared = 0;
    for (const std::vector<FeedSlice>* pieces : {&queue_, &in_flight_}) {
      for (const FeedSlice& piece : *pieces) {
        if (piece.block != nullptr) shared += piece.end - piece.begin;
      }
    }
    const auto now = static_cast<int64_t>(pending_.capacity() +
                                          writing_buf_.capacity() + shared);
    server_metrics_buffered(now - buffered_accounted_);
    buffered_accounted_ = now;
  }

  void Close() {
    if (mode_ == Mode::kClosed) return;
    mode_ = Mode::kClosed;
    notification_.Cancel();
    ForgetFeed();
    if (feed_ != nullptr) feed_->Detach();
    feed_ = nullptr;
    timer_.cancel();
    heartbeat_.cancel();
    source_.reset();
    if (streaming_counted_) server_->metrics().streams.fetch_sub(1);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
    if (!rejected_) server_->Remove(id_);
  }

  Impl* const server_;
  const ServerOptions& options_;
  const asio::any_io_executor strand_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  asio::steady_timer timer_;
  asio::steady_timer heartbeat_;
  const uint64_t id_;

  Mode mode_ = Mode::kReading;
  bool keep_alive_ = true;
  bool rejected_ = false;
  bool shutting_down_ = false;
  int64_t requests_ = 0;
  char peer_byte_[64];

  // A stream or poll in progress.
  std::optional<AnyStream> source_;
  WriteNotification notification_;

  // Long polling.
  Scope poll_scope_;
  int64_t poll_limit_ = 0;
  int64_t poll_count_ = 0;
  std::string poll_body_;
  absl::Status future_;

  // Streams.
  Format format_ = Format::kSse;
  bool streaming_counted_ = false;
  bool stream_done_ = false;
  bool last_chunk_sent_ = false;
  bool writing_ = false;
  // A plain log's stream: its feed (null when sharing is off), and the
  // next offset to send (source_ may lag behind it while the feed serves).
  Feed* feed_ = nullptr;
  const memlog::Log* plain_log_ = nullptr;
  Offset position_ = 0;
  bool waiting_on_feed_ = false;
  std::string header_;
  // What the next write sends, in order: slices of shared blocks, and
  // ranges of pending_ (block == nullptr), the stream's own events.
  std::vector<FeedSlice> queue_;
  size_t queued_bytes_ = 0;
  std::string pending_;
  // The same for the write in progress.
  std::vector<FeedSlice> in_flight_;
  std::string writing_buf_;
  std::vector<asio::const_buffer> buffers_;
  char chunk_head_[24];
  size_t chunk_head_size_ = 0;
  int64_t events_ = 0;
  int64_t events_counted_ = 0;
  int64_t events_at_heartbeat_ = 0;
  int64_t buffered_accounted_ = 0;
};

absl::Status Server::Impl::Add(Served served) {
  if (started_) return absl::FailedPreconditionError("the server has started");
  if (served.name.empty() || absl::StrContains(served.name, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("log name '", served.name,
                     "' must be non-empty and contain no '/'"));
  }
  const std::string name = served.name;
  if (logs_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a log named '", name, "' is already served"));
  }
  if (served.log != nullptr && options_.shared_window_bytes > 0) {
    for (const Format format : {Format::kSse, Format::kNdjson}) {
      feeds_.push_back(std::make_unique<Feed>(
          served.log, format, ioc_.get_executor(), gate_,
          options_.shared_window_bytes, &metrics_.shared_event_bytes));
      served.feeds[static_cast<int>(format)] = feeds_.back().get();
    }
  }
  logs_.emplace(name, std::move(served));
  return absl::OkStatus();
}

absl::Status Server::Impl::AddPage(std::string path, Page page) {
  if (started_) return absl::FailedPreconditionError("the server has started");
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("page path '", path, "' must start with '/'"));
  }
  if (!pages_.emplace(path, std::move(page)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("a page is already served at ", path));
  }
  return absl::OkStatus();
}

absl::Status Server::Impl::Start() {
  if (started_) return absl::FailedPreconditionError("the server has started");
  beast::error_code ec;
  const asio::ip::address address =
      asio::ip::make_address(options_.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address '", options_.address, "': ", ec.message()));
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.address, ":", options_.port, ": ",
        ec.message()));
  }
  port_.store(acceptor_.local_endpoint().port(), std::memory_order_release);
  started_ = true;
  work_.emplace(ioc_.get_executor());
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      // Named, so that top -H and /proc tell the server's threads apart.
      pthread_setname_np(pthread_self(), "memlog-http");
      ioc_.run();
    });
  }
  return absl::OkStatus();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(
      asio::make_strand(ioc_),
      // `this`, not a shared pointer: the handler lives in ioc_, which the
      // Impl owns, and must not keep it alive.
      beast::bind_front_handler(&Impl::OnAccept, this));
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || stopping()) return;
  if (ec) {
    // Out of descriptors and the like: keep accepting.
    return Accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Session> session;
  bool over_limit = false;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    const uint64_t id = next_id_++;
    session = std::make_shared<Session>(this, std::move(socket), id);
    if (sessions_.size() >= options_.max_connections) {
      over_limit = true;
    } else {
      sessions_.emplace(id, session);
    }
  }
  if (over_limit) {
    metrics_.rejected_connection_limit.fetch_add(1);
    session->Reject();
  } else {
    metrics_.connections.fetch_add(1);
    metrics_.connections_total.fetch_add(1);
    session->Start();
  }
  Accept();
}

void Server::Impl::Remove(uint64_t id) {
  std::shared_ptr<Session> gone;  // destroyed after the lock
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    gone = std::move(it->second);
    sessions_.erase(it);
    metrics_.connections.fetch_sub(1);
  }
  sessions_cv_.notify_all();
}

void Server::Impl::Shutdown(absl::Duration deadline) {
  if (!started_ || shut_down_) return;
  shut_down_ = true;
  const absl::Time until = absl::Now() + deadline;
  stopping_.store(true, std::memory_order_release);
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    for (auto& [id, session] : sessions_) open.push_back(session);
  }
  for (std::shared_ptr<Session>& session : open) {
    asio::post(session->strand(), [session] { session->BeginShutdown(); });
  }
  open.clear();
  {
    std::unique_lock<std::mutex> lock(sessions_mu_);
    sessions_cv_.wait_until(lock, absl::ToChronoTime(until),
                            [this] { return sessions_.empty(); });
  }
  {
    std::lock_guard<std::mutex> lock(gate_->mu);
    gate_->open = false;
  }
  work_.reset();
  ioc_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  beast::error_code ignored;
  acceptor_.close(ignored);  // if the posted close did not run
  std::map<uint64_t, std::shared_ptr<Session>> left;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    left.swap(sessions_);
  }
}

std::string Server::Impl::LogList() const {
  std::vector<std::string> entries;
  for (const auto& [name, served] : logs_) {
    std::string entry = absl::StrCat("{\"name\":", JsonString(name));
    if (served.sharded != nullptr) {
      absl::StrAppend(&entry, ",\"kind\":\"sharded\",\"shards\":",
                      served.sharded->num_shards());
    } else {
      absl::StrAppend(&entry, ",\"kind\":\"log\"");
    }
    absl::StrAppend(&entry, ",\"auth\":",
                    served.options.bearer_token.empty() ? "false" : "true",
                    "}");
    entries.push_back(std::move(entry));
  }
  return absl::StrCat("{\"logs\":[", absl::StrJoin(entries, ","), "]}");
}

std::string Server::Impl::MetricsText() const {
  std::string out;
  const auto family = [&out](std::string_view name, std::string_view type,
                             std::string_view help) {
    absl::StrAppend(&out, "# HELP ", internal::Absl(name), " ",
                    internal::Absl(help), "\n# TYPE ", internal::Absl(name),
                    " ", internal::Absl(type), "\n");
  };
  const auto label = [](std::string_view name) {
    // Prometheus label values escape backslash, quote and newline.
    std::string escaped;
    for (const char c : name) {
      if (c == '\\' || c == '"') escaped.push_back('\\');
      if (c == '\n') {
        escaped.append("\\n");
        continue;
      }
      escaped.push_back(c);
    }
    return absl::StrCat("{log=\"", escaped, "\"}");
  };
  std::vector<std::pair<std::string, MemoryUsage>> usage;
  for (const auto& [name, served] : logs_) {
    usage.emplace_back(name, served.log != nullptr
                                 ? served.log->memory_usage()
                                 : served.sharded->memory_usage());
  }
  family("memlog_log_records", "gauge", "Records the log retains.");
  for (const auto& [name, u] : usage) {
    absl::StrAppend(&out, "memlog_log_records", label(name), " ", u.records, "\n");
  }
  family("memlog_log_payload_bytes", "gauge", "Payload bytes retained.");
  for (const auto& [name, u] : usage) {
    absl::StrAppend(&out, "memlog_log_payload_bytes", label(name), " ",
                    u.payload_bytes, "\n");
  }
  family("memlog_log_allocated_bytes", "gauge",
         "Record storage the log has allocated.");
  for (const auto& [name, u] : usage) {
    absl::StrAppend(&out, "memlog_log_allocated_bytes", label(name), " ",
                    u.allocated_bytes, "\n");
  }
  family("memlog_log_earliest_offset", "gauge",
         "Earliest readable offset (plain logs; absent when empty).");
  for (const auto& [name, served] : logs_) {
    if (served.log == nullptr) continue;
    const OffsetRange range = served.log->Range();
    if (range.earliest == kInvalidOffset) continue;
    absl::StrAppend(&out, "memlog_log_earliest_offset", label(name), " ",
                    range.earliest, "\n");
  }
  family("memlog_log_latest_offset", "gauge",
         "Latest written offset (plain logs; absent when empty).");
  for (const auto& [name, served] : logs_) {
    if (served.log == nullptr) continue;
    const OffsetRange range = served.log->Range();
    if (range.latest == kInvalidOffset) continue;
    absl::StrAppend(&out, "memlog_log_latest_offset", label(name), " ",
                    range.latest, "\n");
  }
  const auto value = [&](std::string_view name, std::string_view type,
                         std::string_view help, const std::atomic<int64_t>& v) {
    family(name, type, help);
    absl::StrAppend(&out, internal::Absl(name), " ",
                    v.load(std::memory_order_relaxed), "\n");
  };
  value("memlog_http_connections", "gauge", "Open connections.",
        metrics_.connections);
  value("memlog_http_connections_total", "counter", "Connections accepted.",
        metrics_.connections_total);
  value("memlog_http_streams", "gauge", "Open SSE and NDJSON streams.",
        metrics_.streams);
  value("memlog_http_requests_total", "counter", "Requests read.",
        metrics_.requests_total);
  value("memlog_http_events_sent_total", "counter",
        "Stream events sent (records, lags, closes).",
        metrics_.events_sent_total);
  value("memlog_http_bytes_sent_total", "counter", "Bytes written to clients.",
        metrics_.bytes_sent_total);
  value("memlog_http_lagged_total", "counter",
        "Lagged events: a client fell behind a purge.", metrics_.lagged_total);
  value("memlog_http_buffered_bytes", "gauge",
        "Bytes of stream buffers held for clients.", metrics_.buffered_bytes);
  value("memlog_http_shared_event_bytes", "gauge",
        "Bytes of formatted events kept once per log and format for the "
        "streams to share.",
        metrics_.shared_event_bytes);
  value("memlog_http_timeouts_total", "counter",
        "Connections closed by a header, idle or write timeout.",
        metrics_.timeouts_total);
  family("memlog_http_rejected_requests_total", "counter",
         "Requests and connections refused, by reason.");
  const std::pair<std::string_view, const std::atomic<int64_t>*> reasons[] = {
      {"connection_limit", &metrics_.rejected_connection_limit},
      {"bad_request", &metrics_.rejected_bad_request},
      {"header_too_large", &metrics_.rejected_header_too_large},
      {"uri_too_long", &metrics_.rejected_uri_too_long},
      {"unauthorized", &metrics_.rejected_unauthorized},
  };
  for (const auto& [reason, v] : reasons) {
    absl::StrAppend(&out, "memlog_http_rejected_requests_total{reason=\"",
                    internal::Absl(reason), "\"} ",
                    v->load(std::memory_order_relaxed), "\n");
  }
  return out;
}

Server::Server(ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

absl::Status Server::AddLog(std::string name, const memlog::Log* log,
                            LogOptions options) {
  return impl_->Add({std::move(name), log, nullptr, std::move(options)});
}

absl::Status Server::AddShardedLog(std::string name, const sharded::Log* log,
                                   LogOptions options) {
  return impl_->Add({std::move(name), nullptr, log, std::move(options)});
}

absl::Status Server::AddPage(std::string path, std::string content_type,
                             std::string body) {
  return impl_->AddPage(std::move(path),
                        {std::move(content_type), std::move(body)});
}

absl::Status Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->port(); }

void Server::Shutdown(absl::Duration deadline) { impl_->Shutdown(deadline); }

}  // namespace memlog::http
