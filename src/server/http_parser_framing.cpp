// HttpParser::on_headers_end: the rules applied once a request's header section is
// complete, which decide what follows it: Host (RFC 9112 §3.2), keep-alive (RFC 9112
// §9.3), Expect (RFC 9110 §10.1.1), and the body length from Transfer-Encoding or
// Content-Length (RFC 9112 §6). Apart from http_parser.cpp because this is where
// request smuggling is stopped, and it reads best on its own.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/format.h"
#include "server/http_parser.h"

namespace loom::server {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void HttpParser::on_headers_end() {
    const HttpHeaders& headers = request_.headers;
    bool http11 = request_.version == HttpVersion::Http11;
    if (http11) {
        size_t hosts = headers.count("host");
        if (hosts != 1) {
            fail(400, hosts == 0 ? "missing Host header (required in HTTP/1.1, RFC 9112 §3.2)"
                                 : "Host header sent " + std::to_string(hosts) +
                                       " times (exactly one is allowed)");
            return;
        }
        request_.keep_alive = !headers.has_token("connection", "close");
    } else {
        request_.keep_alive = headers.has_token("connection", "keep-alive") &&
                              !headers.has_token("connection", "close");
    }

    // RFC 9110 §10.1.1: an HTTP/1.0 client cannot handle 100 Continue; ignore it there.
    auto expects = headers.find_all("expect");
    if (http11 && !expects.empty()) {
        if (expects.size() != 1 || !ascii_iequals(expects[0], "100-continue")) {
            fail(417, "Expect " + quote_for_message(expects[0], 40) +
                          " is not supported (only 100-continue)");
            return;
        }
        request_.expect_continue = true;
    }

    auto encodings = headers.find_all("transfer-encoding");
    if (!encodings.empty()) {
        if (!http11) {
            fail(400,
                 "Transfer-Encoding in an HTTP/1.0 request: the body length is unknown "
                 "(RFC 9112 §6.1)");
            return;
        }
        if (headers.has("content-length")) {
            fail(400, "both Content-Length and Transfer-Encoding are present (RFC 9112 §6.3)");
            return;
        }
        std::vector<std::string_view> codings;
        for (std::string_view line : encodings) {
            for (std::string_view coding : split_list(line)) codings.push_back(coding);
        }
        if (codings.empty() || !ascii_iequals(codings.back(), "chunked")) {
            fail(400, "Transfer-Encoding " + quote_for_message(encodings.back(), 40) +
                          " does not end in chunked: the body length is unknown (RFC 9112 §6.3)");
            return;
        }
        for (size_t i = 0; i + 1 < codings.size(); ++i) {
            if (ascii_iequals(codings[i], "chunked")) {
                fail(400, "Transfer-Encoding applies chunked more than once");
                return;
            }
            fail(501, "transfer coding " + quote_for_message(codings[i], 40) +
                          " is not supported (only chunked)");
            return;
        }
        state_ = State::ChunkSize;
        return;
    }

    auto lengths = headers.find_all("content-length");
    if (lengths.empty()) {
        state_ = State::Complete;
        return;
    }
    // Repeated Content-Length lines or list elements are allowed when they agree
    // (RFC 9112 §6.3 item 5).
    bool have = false;
    uint64_t length = 0;
    for (std::string_view line : lengths) {
        auto items = split_list(line);
        if (items.empty()) {
            fail(400, "Content-Length is empty");
            return;
        }
        for (std::string_view item : items) {
            uint64_t value = 0;
            for (char c : item) {
                if (!is_digit(c)) {
                    fail(400, "Content-Length " + quote_for_message(item, 40) +
                                  " is not a decimal number");
                    return;
                }
                if (value > (UINT64_MAX - 9) / 10) {
                    fail(413, "Content-Length " + quote_for_message(item, 40) +
                                  " is over the body limit of " +
                                  std::to_string(limits_.max_body_bytes) + " bytes");
                    return;
                }
                value = value * 10 + static_cast<uint64_t>(c - '0');
            }
            if (have && value != length) {
                fail(400, "Content-Length values differ (" + std::to_string(length) + " and " +
                              std::to_string(value) + ")");
                return;
            }
            have = true;
            length = value;
        }
    }
    if (length > limits_.max_body_bytes) {
        fail(413, "Content-Length " + std::to_string(length) + " is over the body limit of " +
                      std::to_string(limits_.max_body_bytes) + " bytes");
        return;
    }
    remaining_ = length;
    state_ = length == 0 ? State::Complete : State::Body;
}

}  // namespace loom::server
