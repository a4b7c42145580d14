// Copyright memlog authors.
//
// NatsServer: a `nats-server -js` child process for tests, on free loopback
// ports (127.0.0.1 only), with memory storage and a temporary store
// directory; alone or as one node of a cluster over loopback routes.
//
//   absl::StatusOr<std::unique_ptr<NatsServer>> server = NatsServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   ... Connection::Connect({.servers = {(*server)->url()}}) ...
//
// Readiness is the server's own "Server is ready" log line, read from its
// stderr (no sleep); the destructor stops the process (SIGTERM, then SIGKILL
// after a bounded wait), and the child is killed by the kernel if the test
// process dies first (PR_SET_PDEATHSIG).
//
// Thread-safety: one thread drives a NatsServer; its log() may be read from
// any thread.

#ifndef MEMLOG_TESTS_JETSTREAM_NATS_SERVER_H_
#define MEMLOG_TESTS_JETSTREAM_NATS_SERVER_H_

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace memlog::jetstream::testing {

// Returns `count` distinct ports free on 127.0.0.1 now.
absl::StatusOr<std::vector<int>> FreePorts(int count);

struct NatsServerConfig {
  std::string name = "n1";
  int port = 0;  // 0: pick a free one
  // Cluster (when cluster_port != 0): this node's route port and the route
  // ports of the other nodes.
  int cluster_port = 0;
  std::vector<int> routes = {};
};

class NatsServer {
 public:
  // Starts the server and waits until it is ready (at most `timeout`).
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(
      NatsServerConfig config = {}, absl::Duration timeout = absl::Seconds(20));

  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // "nats://127.0.0.1:<port>".
  std::string url() const;
  const NatsServerConfig& config() const { return config_; }
  bool running() const { return pid_ > 0; }

  // Kills the process with SIGKILL and reaps it.
  void Kill();
  // Stops it with SIGTERM, then SIGKILL after 5 s, and reaps it.
  void Stop();
  // Freezes the process (SIGSTOP): it keeps its connections and answers
  // nothing, as a server stuck in a long pause would, until Thaw() (SIGCONT).
  void Freeze();
  void Thaw();
  // Starts it again with the same configuration and store directory, and
  // waits until it is ready.
  absl::Status Restart(absl::Duration timeout = absl::Seconds(20));

  // What the server printed (for failure messages).
  std::string log() const;

 private:
  explicit NatsServer(NatsServerConfig config, std::string dir);
  absl::Status Spawn(absl::Duration timeout);
  void Reap(absl::Duration grace);

  const NatsServerConfig config_;
  const std::string dir_;  // holds the config file and the store directory
  pid_t pid_ = -1;
  int pipe_fd_ = -1;
  std::thread drain_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string log_;      // guarded by mu_
  bool ready_ = false;   // guarded by mu_
  bool eof_ = false;     // guarded by mu_
};

// Starts `nodes` servers n1..n<nodes> routed to each other on loopback,
// each with JetStream, and waits until each is ready. The JetStream meta
// group may still be electing its leader: callers retry their first stream
// creation.
absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>> StartCluster(
    int nodes, absl::Duration timeout = absl::Seconds(30));

}  // namespace memlog::jetstream::testing

#endif  // MEMLOG_TESTS_JETSTREAM_NATS_SERVER_H_
