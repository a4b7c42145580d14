// Copyright memlog authors.

#include "jetstream/internal/pub_ack.h"

#include <cctype>
#include <charconv>

namespace memlog::jetstream::internal {
namespace {

// A scanner for the small JSON objects JetStream replies with: objects,
// strings (escapes kept as they are, which is enough for the error text),
// integers, true, false and null. Arrays and fractions never occur there;
// meeting one fails the parse.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  bool String(std::string_view& out) {
    if (!Consume('"')) return false;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    }
    if (pos_ >= text_.size()) return false;
    out = text_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }

  bool Integer(int64_t& out) {
    SkipSpace();
    const char* begin = text_.data() + pos_;
    const char* end = text_.data() + text_.size();
    const auto [ptr, error] = std::from_chars(begin, end, out);
    if (error != std::errc()) return false;
    pos_ += static_cast<size_t>(ptr - begin);
    return true;
  }

  bool Literal(std::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Skips one value of any kind this scanner knows.
  bool SkipValue() {
    std::string_view ignored;
    int64_t number = 0;
    if (Peek('"')) return String(ignored);
    if (Peek('{')) {
      return Object([this](std::string_view) { return SkipValue(); });
    }
    return Integer(number) || Literal("true") || Literal("false") ||
           Literal("null");
  }

  // Reads an object, calling `member(key)` with the scanner at its value;
  // `member` reads (or skips) the value.
  template <typename Member>
  bool Object(Member member) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    do {
      std::string_view key;
      if (!String(key) || !Consume(':') || !member(key)) return false;
    } while (Consume(','));
    return Consume('}');
  }

  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  const std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<PubAck> ParsePubAck(std::string_view json) {
  PubAck ack;
  bool has_sequence = false;
  bool has_error = false;
  Scanner scan(json);
  const bool parsed = scan.Object([&](std::string_view key) {
    if (key == "seq") {
      int64_t seq = 0;
      if (!scan.Integer(seq) || seq < 0) return false;
      ack.sequence = static_cast<uint64_t>(seq);
      has_sequence = true;
      return true;
    }
    if (key == "duplicate") {
      ack.duplicate = scan.Literal("true");
      return ack.duplicate || scan.Literal("false");
    }
    if (key == "error") {
      has_error = true;
      return scan.Object([&](std::string_view field) {
        if (field == "err_code") return scan.Integer(ack.error_code);
        if (field == "description") {
          std::string_view text;
          if (!scan.String(text)) return false;
          ack.error = std::string(text);
          return true;
        }
        return scan.SkipValue();
      });
    }
    return scan.SkipValue();
  });
  if (!parsed || !scan.AtEnd() || (!has_sequence && !has_error)) {
    return std::nullopt;
  }
  ack.stored = !has_error;
  return ack;
}

}  // namespace memlog::jetstream::internal
