//===- Status.h - errors of the runtime, without exceptions -----*- C++ -*-===//
//
// The runtime builds without LLVM, so it cannot use llvm::Error. Status is
// the small replacement: ok, or an error carrying one message. Expected<T>
// holds a T or the Status that explains why there is none. Both are
// [[nodiscard]]. Messages name what is at fault, outermost first:
// "model.safetensors: tensor 'w': data_offsets [0, 8) ...".
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_STATUS_H
#define LATHE_RUNTIME_SUPPORT_STATUS_H

#include <cassert>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

namespace lathe::rt {

class [[nodiscard]] Status {
public:
  /// An ok status.
  Status() = default;

  static Status success() { return Status(); }
  /// An error; an empty message still makes an error.
  static Status error(std::string message) {
    Status s;
    s.failed = true;
    s.text = std::move(message);
    return s;
  }

  bool ok() const { return !failed; }
  const std::string &message() const { return text; }

  /// The same error with "prefix: " in front; ok stays ok.
  Status withContext(const std::string &prefix) const {
    if (ok())
      return *this;
    return error(prefix + ": " + text);
  }

private:
  bool failed = false;
  std::string text;
};

/// An error whose message is its arguments streamed one after another.
template <typename... Args> Status makeError(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return Status::error(os.str());
}

template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : val(std::move(value)) {}
  /// Only from an error: an ok Status carries no value.
  Expected(Status error) : err(std::move(error)) {
    assert(!err.ok() && "Expected built from an ok Status");
    if (err.ok())
      err = Status::error("internal error: Expected built from an ok Status");
  }

  bool ok() const { return val.has_value(); }
  explicit operator bool() const { return ok(); }

  /// The error, or an ok Status when there is a value.
  const Status &status() const { return err; }

  T &value() & {
    assert(ok());
    return *val;
  }
  const T &value() const & {
    assert(ok());
    return *val;
  }
  T &&value() && {
    assert(ok());
    return std::move(*val);
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

private:
  std::optional<T> val;
  Status err;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_STATUS_H
