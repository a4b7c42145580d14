// Copyright memlog authors.

#include "jetstream/connection.h"

#include <nats/nats.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "jetstream/internal/nats_status.h"
#include "jetstream/status.h"

namespace memlog::jetstream {

using internal::FromNats;

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(
    ConnectOptions options) {
  if (options.servers.empty()) {
    return absl::InvalidArgumentError(
        "ConnectOptions::servers is empty; give at least one server URL");
  }
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  std::vector<const char*> urls;
  for (const std::string& url : options.servers) urls.push_back(url.c_str());
  if (s == NATS_OK) {
    s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetName(opts, options.name.c_str());
  if (s == NATS_OK) {
    s = natsOptions_SetTimeout(opts, absl::ToInt64Milliseconds(options.timeout));
  }
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, options.max_reconnects);
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectWait(
        opts, absl::ToInt64Milliseconds(options.reconnect_wait));
  }
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectBufSize(opts, options.reconnect_buffer_bytes);
  }
  if (s == NATS_OK) {
    s = natsOptions_SetIgnoreDiscoveredServers(
        opts, options.ignore_discovered_servers);
  }
  // The servers of a cluster are all given; the order is ours.
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(opts, true);
  natsConnection* nc = nullptr;
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return FromNats(s, static_cast<jsErrCode>(0),
                    absl::StrCat("connecting to ", options.servers[0]));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = absl::ToInt64Milliseconds(options.timeout);
  jsCtx* admin = nullptr;
  s = natsConnection_JetStream(&admin, nc, &js_options);
  if (s != NATS_OK) {
    natsConnection_Destroy(nc);
    return FromNats(s, static_cast<jsErrCode>(0), "making a JetStream context");
  }
  return std::unique_ptr<Connection>(
      new Connection(std::move(options), nc, admin));
}

Connection::~Connection() {
  jsCtx_Destroy(admin_);
  natsConnection_Close(nc_);
  natsConnection_Destroy(nc_);
}

absl::Status CreateStream(const Connection& connection,
                          const StreamSpec& spec) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = spec.name.c_str();
  std::vector<const char*> subjects;
  for (const std::string& subject : spec.subjects) {
    subjects.push_back(subject.c_str());
  }
  if (subjects.empty()) subjects.push_back(spec.name.c_str());
  config.Subjects = subjects.data();
  config.SubjectsLen = static_cast<int>(subjects.size());
  config.Replicas = spec.replicas;
  config.MaxMsgs = spec.max_msgs;
  config.MaxBytes = spec.max_bytes;
  config.MaxAge = absl::ToInt64Nanoseconds(spec.max_age);
  config.MaxMsgSize = spec.max_msg_size;
  config.Storage = spec.memory ? js_MemoryStorage : js_FileStorage;
  config.Duplicates = absl::ToInt64Nanoseconds(spec.duplicate_window);
  jsStreamInfo* info = nullptr;
  jsErrCode error_code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_AddStream(&info, connection.admin(), &config, nullptr, &error_code);
  jsStreamInfo_Destroy(info);
  return FromNats(s, error_code, absl::StrCat("creating stream ", spec.name));
}

absl::Status CreateShardStreams(const Connection& connection,
                                const StreamSpec& spec, size_t num_shards) {
  const std::string subject =
      spec.subjects.empty() ? spec.name : spec.subjects[0];
  for (size_t shard = 0; shard < num_shards; ++shard) {
    StreamSpec one = spec;
    one.name = ShardStreamName(spec.name, shard);
    one.subjects = {ShardSubject(subject, shard)};
    if (absl::Status status = CreateStream(connection, one); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status DeleteStream(const Connection& connection, std::string_view name) {
  const std::string stream(name);
  jsErrCode error_code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_DeleteStream(connection.admin(), stream.c_str(), nullptr, &error_code);
  return FromNats(s, error_code, absl::StrCat("deleting stream ", stream));
}

absl::StatusOr<StreamState> GetStreamState(const Connection& connection,
                                           std::string_view name) {
  const std::string stream(name);
  jsStreamInfo* info = nullptr;
  jsErrCode error_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, connection.admin(),
                                        stream.c_str(), nullptr, &error_code);
  if (s != NATS_OK) {
    jsStreamInfo_Destroy(info);
    return FromNats(s, error_code, absl::StrCat("stream info of ", stream));
  }
  StreamState state;
  state.messages = info->State.Msgs;
  state.first_seq = info->State.FirstSeq;
  state.last_seq = info->State.LastSeq;
  if (info->Config != nullptr) {
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      state.subjects.emplace_back(info->Config->Subjects[i]);
    }
    state.max_msg_size = info->Config->MaxMsgSize;
  }
  if (info->Cluster != nullptr && info->Cluster->Leader != nullptr) {
    state.leader = info->Cluster->Leader;
  }
  jsStreamInfo_Destroy(info);
  return state;
}

std::string ShardStreamName(std::string_view stream, size_t shard) {
  return absl::StrCat(std::string(stream), "_", shard);
}

std::string ShardSubject(std::string_view subject, size_t shard) {
  return absl::StrCat(std::string(subject), ".", shard);
}

}  // namespace memlog::jetstream
