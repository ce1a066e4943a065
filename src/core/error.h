// loom::Error: the one exception type for failures that end an operation (a model load,
// a request). It carries a stable code and a chain of context lines, innermost first,
// so that a message reads "what, where, expected, got" plus where it was called from.
// Not for expected outcomes (end of stream, a kernel declining a shape): those are
// return values. Caught at layer edges (cli main, server handler) and turned into an
// exit code or an HTTP error. See STYLE.md §6.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace loom {

enum class ErrorCode {
    Io,            // a file could not be opened, read, mapped or written
    Format,        // bytes that do not follow the format (GGUF, JSON, ...)
    Unsupported,   // well-formed but not handled (a version, a type)
    InvalidArgument,  // a bad flag or parameter from the user
    OutOfRange,    // a value outside its allowed range
    NotFound,      // a key, tensor or file that is not there
};

std::string_view error_code_name(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, std::string message);

    ErrorCode code() const noexcept { return code_; }

    // Adds an outer context ("loading model.gguf") in front of the message.
    Error& with_context(std::string_view context);

private:
    ErrorCode code_;
};

}  // namespace loom
