// HttpParser: an incremental HTTP/1.1 request parser (RFC 9112). Bytes are fed as they
// arrive, in pieces of any size; the parser says NeedMore, Complete or Error. An error
// is a value (an HTTP status to answer and a message saying what and where), never an
// exception, and the parser never allocates more than the limits allow. Each byte is
// examined a bounded number of times, so byte-at-a-time input costs linear time.
//
//   HttpParser parser(limits);
//   for (;;) {
//       ParseResult r = parser.feed(bytes);        // bytes: what the socket gave
//       if (r.status == ParseStatus::Complete) {
//           HttpRequest request = parser.take_request();  // parser is ready again
//           bytes.remove_prefix(r.consumed);       // the rest starts the next request
//       } else if (r.status == ParseStatus::Error) {
//           answer parser.error().status, close the connection
//       } else break;                              // NeedMore: all bytes were taken
//   }
//
// What it accepts: origin-form ("/path?query"), absolute-form ("http://host/path") and
// "*" (OPTIONS only) targets; HTTP/1.0 and 1.x (a higher 1.x minor is read as 1.1,
// RFC 9110 §2.5); CRLF or bare LF line ends (RFC 9112 §2.2); Content-Length bodies
// (repeated identical values allowed) and chunked bodies (extensions skipped, trailers
// validated and dropped). What it rejects, with the status:
//   400  malformed request line, header line, chunk framing, or Content-Length; bare CR;
//        obsolete line folding; missing or repeated Host in HTTP/1.1; both
//        Content-Length and Transfer-Encoding; Transfer-Encoding in HTTP/1.0 or not
//        ending in chunked (RFC 9112 §6.1, §6.3)
//   413  body (declared or received) over max_body_bytes
//   414  request target over max_target_bytes
//   417  an Expect other than 100-continue
//   431  header section (or trailers) over max_header_bytes or max_header_count
//   501  a transfer coding other than chunked
//   505  an HTTP major version other than 1
// After Error the parser stays in error (feed returns Error, consuming nothing): the
// connection must be closed after the answer, since the framing is lost.
// Not handled here: authority-form (CONNECT; a proxy's job), upgrades, content codings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http_headers.h"

namespace loom::server {

struct HttpLimits {
    size_t max_target_bytes = 8 * 1024;  // request target (path + query)
    // Header field lines and the blank line ending them, line ends included; trailers of
    // a chunked body count against the same budget.
    size_t max_header_bytes = 32 * 1024;
    size_t max_header_count = 128;             // header field lines
    size_t max_body_bytes = 16 * 1024 * 1024;  // decoded body
};

enum class HttpVersion { Http10, Http11 };

struct HttpRequest {
    std::string method;  // case-sensitive token ("GET", "POST")
    std::string target;  // the request target exactly as sent
    std::string path;    // target up to '?' ("/v1/chat/completions"); "/" for "http://h"
    std::string query;   // after '?', without it; empty when there is none
    HttpVersion version = HttpVersion::Http11;
    HttpHeaders headers;
    std::string body;              // decoded (chunked framing removed)
    bool keep_alive = true;        // connection stays open after the response
    bool expect_continue = false;  // client sent "Expect: 100-continue" (HTTP/1.1 only)
};

enum class ParseStatus { NeedMore, Complete, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::NeedMore;
    size_t consumed = 0;  // bytes of this feed used; all of them unless Complete
};

struct HttpParseError {
    int status = 0;       // the HTTP status to answer with
    std::string message;  // what, where, expected, got (untrusted bytes quoted)
};

class HttpParser {
public:
    explicit HttpParser(const HttpLimits& limits = {});

    ParseResult feed(std::string_view data);

    // The request after Complete; resets the parser for the next request on the same
    // connection. Only valid after Complete.
    HttpRequest take_request();

    // The error after Error.
    const HttpParseError& error() const noexcept { return error_; }

    // True once the headers of a request that expects 100-continue are parsed and its
    // body is not complete: the server sends "100 Continue" then.
    bool wants_continue() const noexcept;

    // True when bytes of a request have arrived (beyond blank lines) but it is not
    // complete: a timeout then is a 408, not a quiet keep-alive close.
    bool in_progress() const noexcept;

    // Forgets everything, including an error.
    void reset();

private:
    enum class State {
        RequestLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Complete,
        Error
    };

    bool take_line(std::string_view data, size_t& pos);
    void on_request_line();
    void on_header_line();
    void on_headers_end();
    void on_chunk_size_line();
    void on_trailer_line();
    bool check_field_line(std::string_view line, const char* section);
    void fail(int status, std::string message);

    HttpLimits limits_;
    State state_ = State::RequestLine;
    HttpRequest request_;
    HttpParseError error_;
    std::string line_;            // the line being received, without its line end
    size_t line_wire_bytes_ = 0;  // bytes of the last complete line, line end included
    size_t header_bytes_ = 0;     // header (and trailer) bytes so far, line ends included
    size_t header_lines_ = 0;     // header (and trailer) field lines so far
    uint64_t remaining_ = 0;      // body or chunk bytes still to come
};

}  // namespace loom::server
