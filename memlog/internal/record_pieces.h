// Copyright memlog authors.
//
// internal::RecordPieces: the bytes of one record given as pieces that are
// stored one after the other. Not part of the public API.
//
// A sharded log stores [key length][key][data]. Handing the segment the three
// pieces, which it copies straight to the record's place, writes each byte
// once, where assembling them in a buffer first would copy them twice.
//
// A segment stores either a std::string_view or a RecordPieces: RecordSize()
// and CopyRecord() are the two things it asks of them.

#ifndef MEMLOG_INTERNAL_RECORD_PIECES_H_
#define MEMLOG_INTERNAL_RECORD_PIECES_H_

#include <cstddef>
#include <cstring>
#include <string_view>

namespace memlog::internal {

// Refers to the caller's bytes, which must stay valid while it is used.
class RecordPieces {
 public:
  RecordPieces(std::string_view first, std::string_view second,
               std::string_view third)
      : pieces_{first, second, third},
        size_(first.size() + second.size() + third.size()) {}

  size_t size() const { return size_; }

  // Copies the pieces, in order, to `out`, which has room for size() bytes.
  void CopyTo(char* out) const {
    for (const std::string_view piece : pieces_) {
      // memcpy of an empty piece's null pointer is undefined.
      if (!piece.empty()) std::memcpy(out, piece.data(), piece.size());
      out += piece.size();
    }
  }

 private:
  std::string_view pieces_[3];
  size_t size_;
};

inline size_t RecordSize(std::string_view bytes) { return bytes.size(); }
inline size_t RecordSize(const RecordPieces& pieces) { return pieces.size(); }

// Copies the record's bytes to `out`, which has room for RecordSize() bytes.
inline void CopyRecord(std::string_view bytes, char* out) {
  std::memcpy(out, bytes.data(), bytes.size());
}
inline void CopyRecord(const RecordPieces& pieces, char* out) {
  pieces.CopyTo(out);
}

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_RECORD_PIECES_H_
