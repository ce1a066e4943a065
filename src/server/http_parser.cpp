// HttpParser: the incremental request parser (RFC 9112). Bytes go either into line_
// (request line, header lines, chunk-size lines) or straight into the body; each byte
// is copied once and each completed line is examined once, so feeding a request one
// byte at a time costs the same as feeding it whole. What the end of the header section
// decides (Host, keep-alive, Expect, body length) is in http_parser_framing.cpp.
#include "server/http_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/format.h"

namespace loom::server {

namespace {

constexpr size_t kMaxMethodBytes = 32;
// The request line is the target plus a method (at most kMaxMethodBytes), two spaces
// and "HTTP/x.y": a line longer than the target limit plus this is a 414 at once.
constexpr size_t kRequestLineSlack = kMaxMethodBytes + 2 + 8 + 1;
// A chunk-size line with extensions; extensions carry nothing Loom uses.
constexpr size_t kMaxChunkLineBytes = 1024;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A byte allowed in a field value or chunk extension: VCHAR, obs-text, SP, HTAB
// (RFC 9110 §5.5). CR, LF, NUL and the other controls are not.
bool is_field_byte(char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string byte_hex(char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
    return buf;
}

bool starts_with_scheme(std::string_view target, std::string_view scheme) {
    return target.size() >= scheme.size() && ascii_iequals(target.substr(0, scheme.size()), scheme);
}

}  // namespace

HttpParser::HttpParser(const HttpLimits& limits) : limits_(limits) {}

void HttpParser::reset() {
    state_ = State::RequestLine;
    request_ = HttpRequest{};
    error_ = HttpParseError{};
    line_.clear();
    line_wire_bytes_ = 0;
    header_bytes_ = 0;
    header_lines_ = 0;
    remaining_ = 0;
}

HttpRequest HttpParser::take_request() {
    HttpRequest request = std::move(request_);
    reset();
    return request;
}

bool HttpParser::wants_continue() const noexcept {
    switch (state_) {
        case State::Body:
        case State::ChunkSize:
        case State::ChunkData:
        case State::ChunkDataEnd:
        case State::Trailers: return request_.expect_continue;
        default: return false;
    }
}

bool HttpParser::in_progress() const noexcept {
    return state_ != State::RequestLine || !line_.empty();
}

void HttpParser::fail(int status, std::string message) {
    state_ = State::Error;
    error_.status = status;
    error_.message = std::move(message);
}

ParseResult HttpParser::feed(std::string_view data) {
    size_t pos = 0;
    for (;;) {
        if (state_ == State::Complete) return {ParseStatus::Complete, pos};
        if (state_ == State::Error) return {ParseStatus::Error, pos};
        if (pos == data.size()) return {ParseStatus::NeedMore, pos};

        if (state_ == State::Body || state_ == State::ChunkData) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
            request_.body.append(data.data() + pos, n);
            pos += n;
            remaining_ -= n;
            if (remaining_ == 0) {
                state_ = state_ == State::Body ? State::Complete : State::ChunkDataEnd;
            }
            continue;
        }

        if (!take_line(data, pos)) continue;  // out of data, or failed
        switch (state_) {
            case State::RequestLine: on_request_line(); break;
            case State::Headers: on_header_line(); break;
            case State::ChunkSize: on_chunk_size_line(); break;
            case State::ChunkDataEnd:
                if (!line_.empty()) {
                    fail(400, "chunked body: chunk data is not followed by CRLF");
                } else {
                    state_ = State::ChunkSize;
                }
                break;
            case State::Trailers: on_trailer_line(); break;
            default: break;  // unreachable: the other states do not read lines
        }
        line_.clear();
    }
}

// Moves bytes up to the next LF into line_. True when line_ holds a whole line (its
// LF and one CR before it removed); false when the data ran out or a limit was hit.
bool HttpParser::take_line(std::string_view data, size_t& pos) {
    const char* begin = data.data() + pos;
    size_t avail = data.size() - pos;
    const char* lf = static_cast<const char*>(std::memchr(begin, '\n', avail));
    size_t take = lf ? static_cast<size_t>(lf - begin) : avail;
    size_t wire = line_.size() + take + (lf ? 1 : 0);  // the line's bytes so far

    switch (state_) {
        case State::RequestLine:
            if (wire > limits_.max_target_bytes + kRequestLineSlack) {
                // A valid method ends within kMaxMethodBytes + 1 bytes: a space there means
                // the method was fine and the target is what is long.
                std::string head = line_.substr(0, kMaxMethodBytes + 1);
                head.append(begin, std::min(take, kMaxMethodBytes + 1 - head.size()));
                bool method_ok = head.find(' ') != std::string::npos;
                if (method_ok) {
                    fail(414, "request line: the target is longer than the limit of " +
                                  std::to_string(limits_.max_target_bytes) + " bytes");
                } else {
                    fail(400, "request line: expected \"METHOD TARGET HTTP/1.1\", got " +
                                  quote_for_message(head, 40));
                }
                return false;
            }
            break;
        case State::Headers:
        case State::Trailers:
            if (header_bytes_ + wire > limits_.max_header_bytes) {
                fail(431, std::string(state_ == State::Headers ? "header section" : "trailers") +
                              " is over the limit of " + std::to_string(limits_.max_header_bytes) +
                              " bytes");
                return false;
            }
            break;
        case State::ChunkSize:
            if (wire > kMaxChunkLineBytes) {
                fail(400, "chunked body: chunk-size line is longer than " +
                              std::to_string(kMaxChunkLineBytes) + " bytes");
                return false;
            }
            break;
        default:  // ChunkDataEnd: only CRLF may follow chunk data
            if (wire > 2) {  // the message names no bytes: it must not depend on the split
                fail(400, "chunked body: chunk data is not followed by CRLF");
                return false;
            }
            break;
    }

    line_.append(begin, take);
    if (!lf) {
        pos = data.size();
        return false;
    }
    pos += take + 1;
    line_wire_bytes_ = line_.size() + 1;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
}

void HttpParser::on_request_line() {
    std::string_view line = line_;
    if (line.empty()) return;  // blank lines before a request are ignored (RFC 9112 §2.2)

    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        fail(400, "request line: expected \"METHOD TARGET HTTP/1.1\" with single spaces, got " +
                      quote_for_message(line, 60));
        return;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);

    if (!is_token(method) || method.size() > kMaxMethodBytes) {
        fail(400, "request line: method " + quote_for_message(method, 40) +
                      " is not a token of at most " + std::to_string(kMaxMethodBytes) + " bytes");
        return;
    }
    if (target.size() > limits_.max_target_bytes) {
        fail(414, "request line: the target is " + std::to_string(target.size()) +
                      " bytes, over the limit of " + std::to_string(limits_.max_target_bytes));
        return;
    }
    if (target.empty()) {
        fail(400, "request line: empty target");
        return;
    }
    for (size_t i = 0; i < target.size(); ++i) {
        auto u = static_cast<unsigned char>(target[i]);
        if (u <= 0x20 || u >= 0x7f || target[i] == '#') {
            fail(400, "request target: byte " + byte_hex(target[i]) + " at offset " +
                          std::to_string(i) + " is not allowed (expected visible ASCII, no '#')");
            return;
        }
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
        version[6] != '.' || !is_digit(version[7])) {
        fail(400, "request line: expected a version \"HTTP/1.1\", got " +
                      quote_for_message(version, 20));
        return;
    }
    if (version[5] != '1') {
        fail(505, "request line: HTTP version " + std::string(version.substr(5)) +
                      " is not supported (only 1.0 and 1.1)");
        return;
    }
    request_.version = version[7] == '0' ? HttpVersion::Http10 : HttpVersion::Http11;

    // The path and query: origin-form, absolute-form (the path after the authority), or
    // the asterisk-form of a server-wide OPTIONS (RFC 9112 §3.2).
    std::string_view path_and_query;
    if (target[0] == '/') {
        path_and_query = target;
    } else if (target == "*") {
        if (method != "OPTIONS") {
            fail(400, "request target \"*\" is only allowed with OPTIONS, got method " +
                          std::string(method));
            return;
        }
        path_and_query = target;
    } else if (starts_with_scheme(target, "http://") || starts_with_scheme(target, "https://")) {
        std::string_view rest = target.substr(target.find("//") + 2);
        size_t path_start = rest.find_first_of("/?");
        std::string_view authority = rest.substr(0, path_start);
        if (authority.empty()) {
            fail(400, "request target " + quote_for_message(target, 60) + " has no host");
            return;
        }
        path_and_query = path_start == std::string_view::npos ? "/" : rest.substr(path_start);
    } else {
        fail(400, "request target: expected \"/path\", an absolute http URL or \"*\", got " +
                      quote_for_message(target, 60));
        return;
    }
    size_t question = path_and_query.find('?');
    request_.method = method;
    request_.target = target;
    if (question == std::string_view::npos) {
        request_.path = path_and_query;
    } else {
        request_.path = question == 0 ? std::string_view("/") : path_and_query.substr(0, question);
        request_.query = path_and_query.substr(question + 1);
    }
    state_ = State::Headers;
}

// Validates a "name: value" line (RFC 9112 §5); false (and the error set) when bad.
bool HttpParser::check_field_line(std::string_view line, const char* section) {
    std::string where = std::string(section) + " line " + std::to_string(header_lines_);
    if (line[0] == ' ' || line[0] == '\t') {
        fail(400, where +
                      ": obsolete line folding (a line starting with whitespace) is not "
                      "accepted");
        return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        fail(400, where + ": expected \"name: value\", got " + quote_for_message(line, 60));
        return false;
    }
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) {
        fail(400, where + ": field name " + quote_for_message(name, 60) +
                      " is not a token (no whitespace is allowed before ':')");
        return false;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
        if (!is_field_byte(c)) {
            fail(400, where + " (" + quote_for_message(name, 40) + "): byte " + byte_hex(c) +
                          " is not allowed in a field value");
            return false;
        }
    }
    return true;
}

void HttpParser::on_header_line() {
    header_bytes_ += line_wire_bytes_;
    if (line_.empty()) {
        on_headers_end();
        return;
    }
    if (++header_lines_ > limits_.max_header_count) {
        fail(431, "header section has more than " + std::to_string(limits_.max_header_count) +
                      " fields");
        return;
    }
    if (!check_field_line(line_, "header")) return;
    size_t colon = line_.find(':');
    request_.headers.add(line_.substr(0, colon),
                         std::string(trim_ows(std::string_view(line_).substr(colon + 1))));
}

void HttpParser::on_chunk_size_line() {
    std::string_view line = line_;
    size_t i = 0;
    uint64_t size = 0;
    for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
        if (size > (UINT64_MAX >> 4)) {
            fail(413, "chunked body: chunk size " + quote_for_message(line.substr(0, 40), 40) +
                          " is over the body limit of " + std::to_string(limits_.max_body_bytes) +
                          " bytes");
            return;
        }
        size = size * 16 + static_cast<uint64_t>(hex_value(line[i]));
    }
    if (i == 0) {
        fail(400,
             "chunked body: expected a hexadecimal chunk size, got " + quote_for_message(line, 40));
        return;
    }
    std::string_view extensions = trim_ows(line.substr(i));
    if (!extensions.empty() && extensions[0] != ';') {
        fail(400, "chunked body: expected ';' or the line end after the chunk size, got " +
                      quote_for_message(extensions, 40));
        return;
    }
    for (char c : extensions) {
        if (!is_field_byte(c)) {
            fail(400, "chunked body: byte " + byte_hex(c) + " is not allowed in a chunk extension");
            return;
        }
    }
    if (size == 0) {
        state_ = State::Trailers;
        return;
    }
    if (size > limits_.max_body_bytes - request_.body.size()) {
        fail(413, "chunked body: more than the body limit of " +
                      std::to_string(limits_.max_body_bytes) + " bytes");
        return;
    }
    remaining_ = size;
    state_ = State::ChunkData;
}

// Trailer fields are checked like header fields and then dropped: RFC 9110 §6.5.1 says
// not to merge them into the header section, and nothing in Loom reads them.
void HttpParser::on_trailer_line() {
    header_bytes_ += line_wire_bytes_;
    if (line_.empty()) {
        state_ = State::Complete;
        return;
    }
    if (++header_lines_ > limits_.max_header_count) {
        fail(431,
             "trailers bring the header fields over " + std::to_string(limits_.max_header_count));
        return;
    }
    check_field_line(line_, "trailer");
}

}  // namespace loom::server
