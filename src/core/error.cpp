// loom::Error implementation: codes and the context chain.
#include "core/error.h"

namespace loom {

std::string_view error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::Io: return "io";
        case ErrorCode::Format: return "format";
        case ErrorCode::Unsupported: return "unsupported";
        case ErrorCode::InvalidArgument: return "invalid_argument";
        case ErrorCode::OutOfRange: return "out_of_range";
        case ErrorCode::NotFound: return "not_found";
    }
    return "unknown";
}

Error::Error(ErrorCode code, std::string message)
    : std::runtime_error(std::move(message)), code_(code) {}

Error& Error::with_context(std::string_view context) {
    std::string message(context);
    message += ": ";
    message += what();
    static_cast<std::runtime_error&>(*this) = std::runtime_error(message);
    return *this;
}

}  // namespace loom
