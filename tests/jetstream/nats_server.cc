// Copyright memlog authors.

#include "tests/jetstream/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace memlog::jetstream::testing {

absl::StatusOr<std::vector<int>> FreePorts(int count) {
  // All sockets stay bound until every port is picked, so the ports differ.
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    fds.push_back(fd);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (static_cast<int>(ports.size()) != count) {
    return absl::InternalError(
        absl::StrCat("could not pick free ports: ", std::strerror(errno)));
  }
  return ports;
}

NatsServer::NatsServer(NatsServerConfig config, std::string dir)
    : config_(std::move(config)), dir_(std::move(dir)) {}

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(
    NatsServerConfig config, absl::Duration timeout) {
  if (config.port == 0) {
    absl::StatusOr<std::vector<int>> ports = FreePorts(1);
    if (!ports.ok()) return ports.status();
    config.port = (*ports)[0];
  }
  const char* tmp = getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                     "/nats-", config.name, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  std::unique_ptr<NatsServer> server(
      new NatsServer(std::move(config), pattern));
  {
    const NatsServerConfig& c = server->config_;
    std::ofstream conf(server->dir_ + "/nats.conf");
    conf << "server_name: \"" << c.name << "\"\n"
         << "listen: \"127.0.0.1:" << c.port << "\"\n"
         << "jetstream {\n  store_dir: \"" << server->dir_ << "/store\"\n"
         << "  max_memory_store: 1073741824\n  max_file_store: 1073741824\n}\n";
    if (c.cluster_port != 0) {
      std::vector<std::string> routes;
      for (int port : c.routes) {
        routes.push_back(absl::StrCat("\"nats-route://127.0.0.1:", port, "\""));
      }
      conf << "cluster {\n  name: \"memlog\"\n  listen: \"127.0.0.1:"
           << c.cluster_port << "\"\n  routes: [" << absl::StrJoin(routes, ", ")
           << "]\n}\n";
    }
    if (!conf) return absl::InternalError("could not write nats.conf");
  }
  if (absl::Status spawned = server->Spawn(timeout); !spawned.ok()) {
    return spawned;
  }
  return server;
}

absl::Status NatsServer::Spawn(absl::Duration timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const std::string conf = dir_ + "/nats.conf";
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execlp("nats-server", "nats-server", "-c", conf.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  pid_ = pid;
  pipe_fd_ = fds[0];
  {
    std::lock_guard lock(mu_);
    ready_ = false;
    eof_ = false;
  }
  drain_ = std::thread([this, fd = pipe_fd_] {
    char buffer[4096];
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mu_);
      if (n <= 0) {
        eof_ = true;
        changed_.notify_all();
        return;
      }
      log_.append(buffer, static_cast<size_t>(n));
      if (!ready_ && log_.find("Server is ready") != std::string::npos) {
        ready_ = true;
      }
      changed_.notify_all();
    }
  });
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                    [&] { return ready_ || eof_; });
  if (ready_) return absl::OkStatus();
  const std::string printed = log_;
  lock.unlock();
  Reap(absl::ZeroDuration());
  return absl::UnavailableError(absl::StrCat(
      "nats-server ", config_.name, " on port ", config_.port,
      " did not become ready within ", absl::FormatDuration(timeout),
      "; it printed:\n", printed));
}

void NatsServer::Reap(absl::Duration grace) {
  if (pid_ > 0) {
    if (grace > absl::ZeroDuration()) {
      kill(pid_, SIGCONT);  // a frozen process would not see the SIGTERM
      kill(pid_, SIGTERM);
      // A pidfd becomes readable when the child exits: waits for that, or
      // the grace period, without polling.
      const int exited = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
      if (exited >= 0) {
        pollfd fd = {.fd = exited, .events = POLLIN, .revents = 0};
        const int64_t ms = absl::ToInt64Milliseconds(grace);
        while (poll(&fd, 1, static_cast<int>(ms)) < 0 && errno == EINTR) {
        }
        close(exited);
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  if (drain_.joinable()) drain_.join();
  if (pipe_fd_ >= 0) {
    close(pipe_fd_);
    pipe_fd_ = -1;
  }
}

void NatsServer::Kill() { Reap(absl::ZeroDuration()); }

void NatsServer::Stop() { Reap(absl::Seconds(5)); }

void NatsServer::Freeze() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void NatsServer::Thaw() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

absl::Status NatsServer::Restart(absl::Duration timeout) {
  Reap(absl::ZeroDuration());
  return Spawn(timeout);
}

NatsServer::~NatsServer() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string NatsServer::url() const {
  return absl::StrCat("nats://127.0.0.1:", config_.port);
}

std::string NatsServer::log() const {
  std::lock_guard lock(mu_);
  return log_;
}

absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>> StartCluster(
    int nodes, absl::Duration timeout) {
  absl::StatusOr<std::vector<int>> ports = FreePorts(2 * nodes);
  if (!ports.ok()) return ports.status();
  std::vector<std::unique_ptr<NatsServer>> servers;
  for (int i = 0; i < nodes; ++i) {
    NatsServerConfig config;
    config.name = absl::StrCat("n", i + 1);
    config.port = (*ports)[static_cast<size_t>(2 * i)];
    config.cluster_port = (*ports)[static_cast<size_t>(2 * i + 1)];
    for (int j = 0; j < nodes; ++j) {
      if (j != i) config.routes.push_back((*ports)[static_cast<size_t>(2 * j + 1)]);
    }
    absl::StatusOr<std::unique_ptr<NatsServer>> server =
        NatsServer::Start(std::move(config), timeout);
    if (!server.ok()) return server.status();
    servers.push_back(*std::move(server));
  }
  return servers;
}

}  // namespace memlog::jetstream::testing
