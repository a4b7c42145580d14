// Copyright memlog authors.
//
// The publisher's reading of JetStream's publish acknowledgements, on the
// replies nats-server sends (stored, duplicate, refused) and on what it does
// not send.

#include "jetstream/internal/pub_ack.h"

#include <optional>

#include "gtest/gtest.h"

namespace memlog::jetstream::internal {
namespace {

TEST(PubAckTest, AStoredMessageGivesItsSequence) {
  const std::optional<PubAck> ack =
      ParsePubAck(R"({"stream":"EVENTS","seq":7})");
  ASSERT_TRUE(ack.has_value());
  EXPECT_TRUE(ack->stored);
  EXPECT_EQ(ack->sequence, 7u);
  EXPECT_FALSE(ack->duplicate);
}

TEST(PubAckTest, ADuplicateIsStoredAtTheOriginalsSequence) {
  const std::optional<PubAck> ack = ParsePubAck(
      R"({"stream":"EVENTS","domain":"hub","seq":18446744073709551,"duplicate":true})");
  ASSERT_TRUE(ack.has_value());
  EXPECT_TRUE(ack->stored);
  EXPECT_TRUE(ack->duplicate);
  EXPECT_EQ(ack->sequence, 18446744073709551u);
}

TEST(PubAckTest, ARefusalGivesTheServersCodeAndText) {
  const std::optional<PubAck> ack = ParsePubAck(
      R"({"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}})");
  ASSERT_TRUE(ack.has_value());
  EXPECT_FALSE(ack->stored);
  EXPECT_EQ(ack->error_code, 10071);
  EXPECT_EQ(ack->error, "wrong last sequence: 5");
}

TEST(PubAckTest, ARefusalWinsOverASequence) {
  const std::optional<PubAck> ack = ParsePubAck(
      R"( { "stream" : "S", "seq" : 3, "error" : { "code" : 503, "description" : "say \"no\"" } } )");
  ASSERT_TRUE(ack.has_value());
  EXPECT_FALSE(ack->stored);
  EXPECT_EQ(ack->error, R"(say \"no\")");
}

TEST(PubAckTest, AnythingElseIsNotAnAcknowledgement) {
  for (const char* text :
       {"", "{}", R"({"stream":"S"})", R"({"seq":-1})", R"({"seq":1.5})",
        R"({"seq":1)", R"({"seq":1} trailing)", R"({"seq":[1]})",
        R"({"duplicate":maybe,"seq":1})", "not json"}) {
    EXPECT_FALSE(ParsePubAck(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace memlog::jetstream::internal
