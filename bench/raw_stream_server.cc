// Copyright memlog authors.

#include "bench/raw_stream_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace memlog::bench {
namespace {

struct Connection {
  int fd = -1;
  size_t sent = 0;  // bytes of the shared buffer written to it
  bool blocked = false;  // its socket was full: waits for EPOLLOUT
  bool dead = false;
};

void Wake(int eventfd) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(eventfd, &one, sizeof one);
}

// Reads the request (the client sends it at once) and returns its `from`.
std::optional<int64_t> ReadFrom(int fd) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0 || request.size() > 8192) return std::nullopt;
    request.append(buffer, static_cast<size_t>(n));
  }
  const size_t from = request.find("from=");
  if (from == std::string::npos) return std::nullopt;
  int64_t value = -1;
  const char* begin = request.data() + from + 5;
  std::from_chars(begin, request.data() + request.size(), value);
  return value;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

struct RawStreamServer::Sender {
  int epoll = -1;
  int wake = -1;  // an eventfd: bytes were published, or connections arrived
  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> arrivals;  // guarded by mu
  std::vector<std::unique_ptr<Connection>> connections;  // the thread's own
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<RawStreamServer>> RawStreamServer::Start(
    http::internal::EventFormat format, int threads, size_t capacity) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return absl::InternalError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(listener);
    return absl::InternalError(absl::StrCat("bind/listen: ", strerror(errno)));
  }
  void* buffer = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (buffer == MAP_FAILED) {
    close(listener);
    return absl::ResourceExhaustedError("mmap of the event buffer failed");
  }
  std::unique_ptr<RawStreamServer> server(
      new RawStreamServer(format, listener, ntohs(address.sin_port),
                          static_cast<char*>(buffer), capacity));
  for (int i = 0; i < threads; ++i) {
    auto sender = std::make_unique<Sender>();
    sender->epoll = epoll_create1(0);
    sender->wake = eventfd(0, EFD_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;  // the eventfd
    epoll_ctl(sender->epoll, EPOLL_CTL_ADD, sender->wake, &event);
    server->senders_.push_back(std::move(sender));
  }
  for (auto& sender : server->senders_) {
    sender->thread = std::thread([s = server.get(), &sender = *sender] {
      s->Serve(sender);
    });
  }
  server->acceptor_ = std::thread([s = server.get()] { s->Accept(); });
  return server;
}

RawStreamServer::RawStreamServer(http::internal::EventFormat format,
                                 int listener, uint16_t port, char* buffer,
                                 size_t capacity)
    : format_(format),
      listener_(listener),
      port_(port),
      buffer_(buffer),
      capacity_(capacity) {}

RawStreamServer::~RawStreamServer() {
  stopping_.store(true);
  shutdown(listener_, SHUT_RDWR);  // ends the acceptor's accept()
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& sender : senders_) {
    Wake(sender->wake);
    if (sender->thread.joinable()) sender->thread.join();
    for (auto& c : sender->connections) close(c->fd);
    for (auto& c : sender->arrivals) close(c->fd);
    close(sender->wake);
    close(sender->epoll);
  }
  close(listener_);
  munmap(buffer_, capacity_);
}

bool RawStreamServer::Append(absl::Time created, std::string_view payload) {
  http::internal::AppendRecordEvent(&pending_, format_, appended_, created,
                                    payload, std::nullopt);
  ++appended_;
  // Room for the chunk's framing too.
  return published_.load(std::memory_order_relaxed) + pending_.size() + 32 <=
         capacity_;
}

void RawStreamServer::Flush() {
  if (pending_.empty()) return;
  const std::string size_line = absl::StrCat(absl::Hex(pending_.size()), "\r\n");
  size_t end = published_.load(std::memory_order_relaxed);
  if (end + size_line.size() + pending_.size() + 2 > capacity_) return;
  for (std::string_view part : {std::string_view(size_line),
                                std::string_view(pending_),
                                std::string_view("\r\n")}) {
    std::memcpy(buffer_ + end, part.data(), part.size());
    end += part.size();
  }
  pending_.clear();
  published_records_.store(appended_, std::memory_order_relaxed);
  published_.store(end, std::memory_order_release);
  for (auto& sender : senders_) Wake(sender->wake);
}

void RawStreamServer::Accept() {
  const std::string header = absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: ",
      format_ == http::internal::EventFormat::kSse ? "text/event-stream"
                                                   : "application/x-ndjson",
      "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
  size_t next_sender = 0;
  while (!stopping_.load()) {
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    // The writer is idle while clients connect: what is published is all
    // that was appended, and a client must start after it.
    const std::optional<int64_t> from = ReadFrom(fd);
    if (!from.has_value() ||
        *from != published_records_.load(std::memory_order_relaxed) ||
        !SendAll(fd, header)) {
      close(fd);
      continue;
    }
    // As memlog's server: each write goes out at once, not held for the
    // acknowledgement of the last (Nagle).
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->sent = published_.load(std::memory_order_acquire);
    Sender& sender = *senders_[next_sender++ % senders_.size()];
    {
      std::lock_guard<std::mutex> lock(sender.mu);
      sender.arrivals.push_back(std::move(connection));
    }
    Wake(sender.wake);
  }
}

void RawStreamServer::Serve(Sender& sender) {
  // Writes what `c` has not been sent of the published bytes, until its
  // socket is full.
  const auto push = [this](Connection& c) {
    const size_t end = published_.load(std::memory_order_acquire);
    while (c.sent < end && !c.dead) {
      const ssize_t n = send(c.fd, buffer_ + c.sent, end - c.sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.blocked = true;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        c.dead = true;
      }
      if (c.blocked) return;
    }
  };
  epoll_event events[256];
  while (!stopping_.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(sender.epoll, events, 256, -1);
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Connection*>(events[i].data.ptr);
      if (c == nullptr) {
        uint64_t count;
        [[maybe_unused]] const ssize_t r = read(sender.wake, &count, sizeof count);
        woken = true;
      } else if (c->blocked) {
        c->blocked = false;
        push(*c);
      }
    }
    if (!woken) continue;
    std::vector<std::unique_ptr<Connection>> arrived;
    {
      std::lock_guard<std::mutex> lock(sender.mu);
      arrived.swap(sender.arrivals);
    }
    for (auto& c : arrived) {
      epoll_event event{};
      event.events = EPOLLOUT | EPOLLET;
      event.data.ptr = c.get();
      epoll_ctl(sender.epoll, EPOLL_CTL_ADD, c->fd, &event);
      sender.connections.push_back(std::move(c));
    }
    for (auto& c : sender.connections) {
      if (!c->blocked) push(*c);
    }
  }
}

}  // namespace memlog::bench
