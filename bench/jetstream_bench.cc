// Copyright memlog authors.
//
// Benchmarks of memlog::jetstream (jetstream/publisher.h, jetstream/mirror.h)
// against nats.c used directly, in one binary, on a nats-server this binary
// starts on a free loopback port (memory storage, single node):
//
//   ./bazelw run --config=opt //bench:jetstream_bench
//
// - Publish: 100,000 records of 100 B per iteration. Ours: a Publisher
//   forwarding a memlog::Log (Nats-Msg-Id, expected last sequence, headers,
//   acknowledgement tracking). Raw: nats.c's own asynchronous publish loop
//   (js_PublishAsync of the same payloads, no headers), then
//   js_PublishAsyncComplete. Target: ours >= 80% of raw. A third row runs
//   nats.c's loop with our headers, Nats-Msg-Id and the expected last
//   sequence: what the exactly-once protocol itself costs; a fourth with
//   the expected last sequence alone, the least a publisher can send that
//   refuses a retried or foreign write per message. Each runs three
//   times, the repetitions of all four interleaved in random order (unless
//   the command line says otherwise), and the medians are compared: the
//   load of a shared machine then weighs on each alike.
// - Latency, publish to readable: one record at a time. Ours: Log::Write()
//   on the source until the record is readable in a Mirror's log (publisher,
//   server, ordered consumer, replica write). Raw: js_PublishAsync until an
//   ordered consumer's NextMsg returns it. Target: ours p99 < 5 ms.

#include <nats/nats.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/ratio_reporter.h"
#include "benchmark/benchmark.h"
#include "jetstream/connection.h"
#include "jetstream/mirror.h"
#include "jetstream/publisher.h"
#include "memlog/log.h"
#include "tests/jetstream/nats_server.h"

namespace memlog_bench {
namespace {

namespace js = memlog::jetstream;

constexpr int kRecords = 100'000;
constexpr int kIterations = 3;
constexpr int kRepetitions = 3;
constexpr int kLatencySamples = 2000;
const std::string& Payload() {
  static const std::string* payload = new std::string(100, 'p');
  return *payload;
}

// The server and connection, made on first use and kept for the process.
struct Server {
  std::unique_ptr<js::testing::NatsServer> server;
  std::unique_ptr<js::Connection> connection;
};

Server& TheServer() {
  static Server* made = [] {
    auto* s = new Server;
    auto server = js::testing::NatsServer::Start();
    if (!server.ok()) {
      std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
      std::abort();
    }
    s->server = *std::move(server);
    auto connection = js::Connection::Connect({.servers = {s->server->url()}});
    if (!connection.ok()) std::abort();
    s->connection = *std::move(connection);
    return s;
  }();
  return *made;
}

// A fresh stream for one iteration.
std::string FreshStream() {
  static int n = 0;
  const std::string name = absl::StrCat("BENCH", n++);
  if (!js::CreateStream(*TheServer().connection, {.name = name}).ok()) {
    std::abort();
  }
  return name;
}

void BM_RawNats_PublishAsync(benchmark::State& state) {
  Server& server = TheServer();
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = 8192;
  jsCtx* ctx = nullptr;
  natsConnection_JetStream(&ctx, server.connection->nats(), &options);
  for (auto _ : state) {
    state.PauseTiming();
    const std::string stream = FreshStream();
    state.ResumeTiming();
    for (int i = 0; i < kRecords; ++i) {
      js_PublishAsync(ctx, stream.c_str(), Payload().data(),
                      static_cast<int>(Payload().size()), nullptr);
    }
    js_PublishAsyncComplete(ctx, nullptr);
    state.PauseTiming();
    js::DeleteStream(*server.connection, stream).IgnoreError();
    state.ResumeTiming();
  }
  jsCtx_Destroy(ctx);
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_RawNats_PublishAsync)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations)
    ->Repetitions(kRepetitions)
    ->UseRealTime();

// nats.c's asynchronous loop again, with what exactly-once costs on the
// wire and in the server. All of it: our headers, Nats-Msg-Id (the server
// keeps a duplicate window) and Nats-Expected-Last-Sequence. Between this
// row and the plain one: what the protocol costs, and what the Publisher
// adds on top. With `expect_only`, the least that refuses a retried or
// foreign write per message: the expected last sequence alone, no headers
// of ours, no id.
void PublishExactlyOnce(benchmark::State& state, bool expect_only) {
  Server& server = TheServer();
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = 8192;
  jsCtx* ctx = nullptr;
  natsConnection_JetStream(&ctx, server.connection->nats(), &options);
  for (auto _ : state) {
    state.PauseTiming();
    const std::string stream = FreshStream();
    state.ResumeTiming();
    for (int i = 1; i <= kRecords; ++i) {
      natsMsg* msg = nullptr;
      natsMsg_Create(&msg, stream.c_str(), nullptr, Payload().data(),
                     static_cast<int>(Payload().size()));
      const std::string offset = absl::StrCat(i);
      jsPubOptions pub;
      jsPubOptions_Init(&pub);
      if (!expect_only) {
        natsMsgHeader_Set(msg, "Memlog-Offset", offset.c_str());
        natsMsgHeader_Set(msg, "Memlog-Created", "1764633600000000000");
        pub.MsgId = offset.c_str();
      }
      pub.ExpectLastSeq = static_cast<uint64_t>(i - 1);
      js_PublishMsgAsync(ctx, &msg, &pub);
      natsMsg_Destroy(msg);
    }
    js_PublishAsyncComplete(ctx, nullptr);
    state.PauseTiming();
    js::DeleteStream(*server.connection, stream).IgnoreError();
    state.ResumeTiming();
  }
  jsCtx_Destroy(ctx);
  state.SetItemsProcessed(state.iterations() * kRecords);
}

void BM_RawNats_PublishAsyncExactlyOnce(benchmark::State& state) {
  PublishExactlyOnce(state, /*expect_only=*/false);
}
BENCHMARK(BM_RawNats_PublishAsyncExactlyOnce)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations)
    ->Repetitions(kRepetitions)
    ->UseRealTime();

void BM_RawNats_PublishAsyncExpectOnly(benchmark::State& state) {
  PublishExactlyOnce(state, /*expect_only=*/true);
}
BENCHMARK(BM_RawNats_PublishAsyncExpectOnly)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations)
    ->Repetitions(kRepetitions)
    ->UseRealTime();

void BM_Publisher_Publish(benchmark::State& state) {
  Server& server = TheServer();
  for (auto _ : state) {
    state.PauseTiming();
    const std::string stream = FreshStream();
    auto log = memlog::Log::Create({.start_offset = 1, .segment_size = kRecords});
    for (int i = 0; i < kRecords; ++i) (*log)->Write(Payload()).IgnoreError();
    state.ResumeTiming();
    auto publisher =
        js::Publisher::Start(*server.connection, **log, {.stream = stream});
    if (!publisher.ok() ||
        !(*publisher)
             ->WaitForAcknowledged(0, kRecords, absl::Now() + absl::Seconds(60))
             .ok()) {
      state.SkipWithError("publisher failed");
      break;
    }
    state.PauseTiming();
    publisher->reset();
    js::DeleteStream(*server.connection, stream).IgnoreError();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_Publisher_Publish)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations)
    ->Repetitions(kRepetitions)
    ->UseRealTime();

void ReportPercentiles(benchmark::State& state, std::vector<double>& micros) {
  std::sort(micros.begin(), micros.end());
  if (micros.empty()) return;
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
}

void BM_RawNats_Latency(benchmark::State& state) {
  Server& server = TheServer();
  const std::string stream = FreshStream();
  jsCtx* ctx = nullptr;
  natsConnection_JetStream(&ctx, server.connection->nats(), nullptr);
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Ordered = true;
  natsSubscription* sub = nullptr;
  js_SubscribeSync(&sub, ctx, stream.c_str(), nullptr, &sub_options, nullptr);
  std::vector<double> micros;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    js_PublishAsync(ctx, stream.c_str(), Payload().data(),
                    static_cast<int>(Payload().size()), nullptr);
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, 5000) != NATS_OK) {
      state.SkipWithError("no message");
      break;
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    natsMsg_Destroy(msg);
  }
  js_PublishAsyncComplete(ctx, nullptr);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(ctx);
  ReportPercentiles(state, micros);
}
BENCHMARK(BM_RawNats_Latency)->Iterations(kLatencySamples);

void BM_Mirror_Latency(benchmark::State& state) {
  Server& server = TheServer();
  const std::string stream = FreshStream();
  auto source = memlog::Log::Create({.start_offset = 1});
  auto replica = memlog::Log::Create({.start_offset = 1});
  auto publisher =
      js::Publisher::Start(*server.connection, **source, {.stream = stream});
  auto mirror =
      js::Mirror::Start(*server.connection, **replica, {.stream = stream});
  if (!publisher.ok() || !mirror.ok()) {
    state.SkipWithError("start failed");
    return;
  }
  std::vector<double> micros;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    const absl::StatusOr<memlog::Offset> offset = (*source)->Write(Payload());
    if (!offset.ok() ||
        !(*replica)->WaitFor(*offset, absl::Now() + absl::Seconds(5)).ok()) {
      state.SkipWithError("not mirrored");
      break;
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  (*mirror)->Stop();
  (*publisher)->Stop();
  ReportPercentiles(state, micros);
}
BENCHMARK(BM_Mirror_Latency)->Iterations(kLatencySamples);

std::vector<Row> Rows() {
  const std::string suffix = absl::StrCat(
      "/iterations:", kIterations, "/repeats:", kRepetitions, "/real_time");
  const std::string publisher = "BM_Publisher_Publish" + suffix;
  const std::string raw = "BM_RawNats_PublishAsync" + suffix;
  const std::string raw_exactly_once =
      "BM_RawNats_PublishAsyncExactlyOnce" + suffix;
  std::vector<Row> rows;
  rows.push_back({.title = "Publish 100 B records, loopback, 1 node",
                  .ours = publisher,
                  .reference = raw,
                  .kind = RowKind::kSpeedup,
                  .target = 0.8,
                  .reference_label = "nats.c"});
  rows.push_back({.title = "Publish 100 B, vs nats.c with id + expectation",
                  .ours = publisher,
                  .reference = raw_exactly_once,
                  .kind = RowKind::kSpeedup,
                  .reference_label = "nats.c, same headers"});
  // Not ours: the ceiling of any publisher that sends an expectation per
  // message, against the plain loop.
  rows.push_back({.title = "nats.c, expectation only, vs plain nats.c",
                  .ours = "BM_RawNats_PublishAsyncExpectOnly" + suffix,
                  .reference = raw,
                  .kind = RowKind::kSpeedup,
                  .reference_label = "nats.c"});
  for (const char* metric : {"p50_us", "p99_us"}) {
    rows.push_back({.title = absl::StrCat("Publish to readable, ", metric),
                    .ours = absl::StrCat("BM_Mirror_Latency/iterations:",
                                         kLatencySamples),
                    .reference = absl::StrCat("BM_RawNats_Latency/iterations:",
                                              kLatencySamples),
                    .metric = metric,
                    .kind = RowKind::kBelow,
                    .unit = Unit::kMicros,
                    .lower_is_better = true,
                    .target = std::string(metric) == "p99_us" ? 5000.0 : 0.0,
                    .reference_label = "nats.c"});
  }
  return rows;
}

}  // namespace
}  // namespace memlog_bench

int main(int argc, char** argv) {
  // Interleaved repetitions by default; a flag given on the command line
  // (=false to turn it off) comes later and wins.
  std::vector<char*> args(argv, argv + argc);
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave);
  args.push_back(nullptr);
  return memlog_bench::RunWithRatios(static_cast<int>(args.size()) - 1,
                                     args.data(), memlog_bench::Rows());
}
