// Copyright memlog authors.
//
// Errors that must be made without failing: the status of an allocation
// failure and of a user callback that threw. Not part of the public API.
//
// memlog's libraries keep exceptions from leaving their API: each public call
// that may allocate catches std::bad_alloc and returns OutOfMemoryError(),
// and each call of user code (a clock, a sharder) is wrapped so that what it
// throws becomes CallbackFailedError().

#ifndef MEMLOG_INTERNAL_ERRORS_H_
#define MEMLOG_INTERNAL_ERRORS_H_

#include <exception>
#include <string_view>

#include "absl/status/status.h"

namespace memlog::internal {

// Returns the kOutOfMemory status for `what` ("a record of 17 bytes"). If
// memory is so short that the message cannot be made, returns a bare
// kResourceExhausted status with no message, which IsOutOfMemory() also
// recognises. Never throws.
absl::Status OutOfMemoryError(std::string_view what) noexcept;

// Returns the kCallbackFailed status for an exception thrown by the user
// callback `callback` ("Options::clock"), naming the exception when it is a
// std::exception. Must be called inside the catch block. Never throws.
absl::Status CallbackFailedError(std::string_view callback) noexcept;

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_ERRORS_H_
