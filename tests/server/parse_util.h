// Test helpers for HttpParser: feed a byte string in pieces chosen by a callback, take
// every complete request, and flatten the outcome into one string, so that two ways
// of splitting the same bytes can be compared with one EXPECT_EQ.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_parser.h"

namespace loom::server::test {

struct Parsed {
    std::vector<HttpRequest> requests;
    ParseStatus last = ParseStatus::NeedMore;  // Error, or NeedMore when the bytes ran out
    HttpParseError error;
    bool in_progress = false;  // a partial request was left over
};

// next_piece(left) returns the size of the next piece (clamped to [1, left]).
inline Parsed parse_pieces(std::string_view input, const HttpLimits& limits,
                           const std::function<size_t(size_t)>& next_piece) {
    HttpParser parser(limits);
    Parsed out;
    size_t pos = 0;
    while (pos < input.size()) {
        size_t left = input.size() - pos;
        size_t n = std::clamp<size_t>(next_piece(left), 1, left);
        std::string_view piece = input.substr(pos, n);
        pos += n;
        for (;;) {
            ParseResult r = parser.feed(piece);
            if (r.status == ParseStatus::Complete) {
                out.requests.push_back(parser.take_request());
                piece.remove_prefix(r.consumed);
                continue;
            }
            if (r.status == ParseStatus::Error) {
                out.last = ParseStatus::Error;
                out.error = parser.error();
                return out;
            }
            break;
        }
    }
    out.in_progress = parser.in_progress();
    return out;
}

inline Parsed parse_whole(std::string_view input, const HttpLimits& limits = {}) {
    return parse_pieces(input, limits, [](size_t left) { return left; });
}

inline Parsed parse_bytewise(std::string_view input, const HttpLimits& limits = {}) {
    return parse_pieces(input, limits, [](size_t) { return size_t{1}; });
}

// Everything observable about a parse, as text.
inline std::string describe(const Parsed& parsed) {
    std::string out;
    for (const auto& r : parsed.requests) {
        out += r.method + " [" + r.target + "] path=[" + r.path + "] query=[" + r.query + "] " +
               (r.version == HttpVersion::Http10 ? "1.0" : "1.1") +
               (r.keep_alive ? " keep" : " close") + (r.expect_continue ? " expect" : "") + "\n";
        for (const auto& h : r.headers) out += "  " + h.name + ": " + h.value + "\n";
        out += "  body(" + std::to_string(r.body.size()) + ")=" + r.body + "\n";
    }
    if (parsed.last == ParseStatus::Error) {
        out += "error " + std::to_string(parsed.error.status) + ": " + parsed.error.message + "\n";
    } else {
        out += parsed.in_progress ? "partial\n" : "end\n";
    }
    return out;
}

}  // namespace loom::server::test
