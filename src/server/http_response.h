// Response serialization for the HTTP/1.1 server: the status line and headers, a body
// framed by Content-Length or sent as chunks (RFC 9112 §6, §7.1), and Server-Sent
// Events framing for streamed responses (the WHATWG HTML "Server-sent events" section,
// which OpenAI's streaming API uses: "data: {json}\n\n" ... "data: [DONE]\n\n").
//
//   HttpResponse r{200, {}, "{\"ok\":true}"};
//   r.headers.add("Content-Type", "application/json");
//   std::string wire = serialize_response(r, {.keep_alive = true});
//
//   std::string head = serialize_stream_head(200, sse_headers(), framing);
//   append_chunk(wire, sse_event("{\"delta\":\"Hi\"}"));   ... then kLastChunk
//
// Framing headers (Content-Length, Transfer-Encoding, Connection) are the serializer's:
// a handler that sets one, or a header name that is not a token, or a value with a CR,
// LF or NUL (response splitting), gets loom::Error(InvalidArgument) and nothing is sent.
// Not here: sockets, keep-alive decisions (the server makes them), content codings.
#pragma once

#include <ctime>
#include <functional>
#include <string>
#include <string_view>

#include "server/http_headers.h"

namespace loom::server {

struct HttpResponse {
    int status = 200;
    HttpHeaders headers;  // without framing headers; the serializer adds those
    std::string body;
};

// Builds the response the server sends for its own errors (parse errors, 408, 503, a
// handler that threw or answered nothing). The OpenAI layer passes one that writes its
// JSON error body; the server adds the framing headers.
using ErrorResponder = std::function<HttpResponse(int status, std::string_view message)>;

// How the response is framed for this request.
struct ResponseFraming {
    bool keep_alive = true;  // false: "Connection: close" and the server closes after it
    bool head = false;       // the request was HEAD: headers only, no body bytes
    bool http10 = false;     // HTTP/1.0 client: no chunking; keep-alive must be explicit
    std::string date;        // value of the Date header; empty: none (tests)
};

// "OK", "Not Found", ...; "Unknown" for codes without a registered phrase.
std::string_view status_reason(int status) noexcept;

// An HTTP-date (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t time);

// Throws loom::Error(InvalidArgument) for a status outside 200..599 (1xx are the
// server's), a framing header, a name that is not a token, or a bad value byte.
void validate_response(int status, const HttpHeaders& headers);

// A complete response with Content-Length (none for 204 and 304, which carry no body;
// a body there is an error). Validates first (see above).
std::string serialize_response(const HttpResponse& response, const ResponseFraming& framing);

// The head of a streamed response: chunked for HTTP/1.1, close-delimited for HTTP/1.0
// (the body then ends when the connection closes, so keep-alive is off). Validates first.
std::string serialize_stream_head(int status, const HttpHeaders& headers,
                                  const ResponseFraming& framing);

// Appends one chunk: hex size, CRLF, data, CRLF. Empty data appends nothing (an empty
// chunk would end the body).
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Headers of an SSE stream: Content-Type text/event-stream, Cache-Control no-cache.
HttpHeaders sse_headers();

// One SSE event: an optional "event: name" line, then every line of `data` (split at
// CRLF, LF or CR, the SSE line ends) as a "data: " line, then the blank line that
// dispatches the event. Throws loom::Error(InvalidArgument) for an event name with a
// line end (it would forge fields).
std::string sse_event(std::string_view data, std::string_view event = {});

// An SSE comment (": text" per line), which clients ignore: the keep-alive that stops
// proxies and clients from timing out an idle stream while a long prompt is processed.
std::string sse_comment(std::string_view text);

}  // namespace loom::server
