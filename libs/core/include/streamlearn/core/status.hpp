#pragma once
// Errors are values: functions that can fail return Status or Result<T>.
// Exceptions are caught at the edges (CLI, third-party callbacks) and turned into these.

#include <string>
#include <utility>
#include <variant>

namespace streamlearn {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user: config, event, flag
  kNotFound,
  kCorruption,       // stored bytes that do not decode
  kIoError,          // disk or network
  kUnavailable,      // a broker or peer that may come back
  kFailedPrecondition,
  kInternal,
  kUnimplemented,    // an operation this kind of object does not offer
};

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {ErrorCode::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {ErrorCode::kUnimplemented, std::move(m)}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like expected<T>
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace streamlearn

// Early return on error, the way the codebase prefers over nesting.
#define SL_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::streamlearn::Status _sl_st = (expr);  \
    if (!_sl_st.ok()) return _sl_st;        \
  } while (0)
