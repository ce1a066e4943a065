// libFuzzer target for the HTTP request parser (scripts/fuzz.sh http_request), also
// compiled into the server tests, which replay fuzz/corpus/http_request/ through it.
//
// Input: byte 0 picks the limits (bit 7 set: the defaults; otherwise small limits, so
// 413 / 414 / 431 are reached by short inputs), byte 1 seeds the piece sizes, the rest
// is the bytes a client sent. They are parsed whole, in pseudo-random pieces, and one
// byte at a time; all three must give the same requests and the same final outcome,
// which is a differential check on the incremental parser. Every complete request is
// then checked for invariants, its body re-encoded as chunks and parsed back, and its
// SSE framing checked for forged lines. Any violation aborts (a crash to libFuzzer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/http_parser.h"
#include "server/http_response.h"

namespace {

using namespace loom::server;

void require(bool ok) {
    if (!ok) std::abort();
}

HttpLimits limits_from(uint8_t selector) {
    HttpLimits limits;
    if (selector & 0x80) return limits;
    limits.max_target_bytes = 8 + (selector & 7) * 16;
    limits.max_header_bytes = 32 + ((selector >> 3) & 7) * 64;
    limits.max_header_count = 1 + ((selector >> 3) & 7) * 2;
    limits.max_body_bytes = ((selector >> 5) & 3) * 64;
    return limits;
}

void check_request(const HttpRequest& r, const HttpLimits& limits) {
    require(!r.method.empty() && is_token(r.method));
    require(!r.target.empty() && r.target.size() <= limits.max_target_bytes);
    require(r.path == "*" || (!r.path.empty() && r.path[0] == '/'));
    require(r.body.size() <= limits.max_body_bytes);
    require(r.headers.size() <= limits.max_header_count);
    for (const auto& h : r.headers) {
        require(is_token(h.name));
        require(h.value.find_first_of("\r\n") == std::string::npos);
        require(trim_ows(h.value).size() == h.value.size());
    }
    if (r.version == HttpVersion::Http11) require(r.headers.count("host") == 1);
}

// The body, chunked in pieces from `seed` and parsed back, must come out unchanged.
void check_chunk_round_trip(const std::string& body, uint32_t seed) {
    std::string request = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (size_t pos = 0; pos < body.size();) {
        seed = seed * 1103515245u + 12345u;
        size_t n = std::min<size_t>(body.size() - pos, 1 + (seed >> 16) % 97);
        append_chunk(request, std::string_view(body).substr(pos, n));
        pos += n;
    }
    request += kLastChunk;
    HttpLimits limits;
    limits.max_body_bytes = body.size();
    HttpParser parser(limits);
    ParseResult r = parser.feed(request);
    require(r.status == ParseStatus::Complete && r.consumed == request.size());
    require(parser.take_request().body == body);
}

// Every line of an SSE event made from untrusted text is a "data: " line: no line end
// in the text may start a field of its own.
void check_sse(const std::string& text) {
    std::string event = sse_event(text);
    require(event.size() >= 2 && event.compare(event.size() - 2, 2, "\n\n") == 0);
    size_t start = 0;
    while (start < event.size() - 1) {
        size_t end = event.find('\n', start);
        std::string_view line(event.data() + start, end - start);
        require(line.substr(0, 6) == "data: " && line.find('\r') == std::string_view::npos);
        start = end + 1;
    }
}

struct Outcome {
    std::string requests;  // every request, flattened
    int error = 0;         // the error status, or 0
    std::string message;   // the error message: it must not depend on the split either
    bool in_progress = false;
};

void flatten(std::string& out, const HttpRequest& r) {
    out += r.method + '\0' + r.target + '\0' + r.path + '\0' + r.query + '\0';
    out += r.version == HttpVersion::Http10 ? "10" : "11";
    out += r.keep_alive ? 'k' : 'c';
    out += r.expect_continue ? 'e' : '-';
    for (const auto& h : r.headers) out += h.name + ':' + h.value + '\0';
    out += std::to_string(r.body.size()) + ':' + r.body + '\0';
}

template <typename NextPiece>
Outcome parse(std::string_view input, const HttpLimits& limits, NextPiece next_piece, bool check) {
    HttpParser parser(limits);
    Outcome out;
    size_t pos = 0;
    while (pos < input.size()) {
        size_t n = std::min(next_piece(), input.size() - pos);
        std::string_view piece = input.substr(pos, n);
        pos += n;
        for (;;) {
            ParseResult r = parser.feed(piece);
            require(r.consumed <= piece.size());
            if (r.status == ParseStatus::Complete) {
                HttpRequest request = parser.take_request();
                if (check) check_request(request, limits);
                flatten(out.requests, request);
                piece.remove_prefix(r.consumed);
                continue;
            }
            if (r.status == ParseStatus::Error) {
                const HttpParseError& e = parser.error();
                require(e.status >= 400 && e.status <= 505 && !e.message.empty());
                out.error = e.status;
                out.message = e.message;
                return out;
            }
            require(r.consumed == piece.size());
            break;
        }
    }
    out.in_progress = parser.in_progress();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    HttpLimits limits = limits_from(data[0]);
    uint32_t seed = data[1];
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    Outcome whole = parse(
        input, limits, [] { return SIZE_MAX; }, true);
    uint32_t state = seed;
    Outcome pieces = parse(
        input, limits,
        [&] {
            state = state * 1103515245u + 12345u;
            return size_t{1} + (state >> 16) % 64;
        },
        false);
    Outcome bytes = parse(
        input, limits, [] { return size_t{1}; }, false);
    require(whole.requests == pieces.requests && whole.requests == bytes.requests);
    require(whole.error == pieces.error && whole.error == bytes.error);
    require(whole.message == pieces.message && whole.message == bytes.message);
    require(whole.in_progress == pieces.in_progress && whole.in_progress == bytes.in_progress);

    // Properties of the response side, on the bodies the parser produced.
    HttpParser parser(limits);
    if (parser.feed(input).status == ParseStatus::Complete) {
        std::string body = parser.take_request().body;
        check_chunk_round_trip(body, seed);
        check_sse(body);
    }
    return 0;
}
