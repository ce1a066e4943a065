// Response serialization and SSE framing.
#include "server/http_response.h"

#include <cstdio>

#include "core/error.h"
#include "core/format.h"

namespace loom::server {

namespace {

bool is_value_byte(char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

bool is_framing_header(std::string_view name) {
    return ascii_iequals(name, "content-length") || ascii_iequals(name, "transfer-encoding") ||
           ascii_iequals(name, "connection");
}

void append_status_line(std::string& out, int status) {
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += status_reason(status);
    out += "\r\n";
}

void append_headers(std::string& out, const HttpHeaders& headers, const ResponseFraming& framing) {
    if (!framing.date.empty()) {
        out += "Date: ";
        out += framing.date;
        out += "\r\n";
    }
    for (const auto& field : headers) {
        out += field.name;
        out += ": ";
        out += field.value;
        out += "\r\n";
    }
    if (!framing.keep_alive) {
        out += "Connection: close\r\n";
    } else if (framing.http10) {
        out += "Connection: keep-alive\r\n";  // HTTP/1.0 closes unless told otherwise
    }
}

// Splits text at the SSE line ends (CRLF, LF, CR) and appends each line after `prefix`.
// A final line end gives a final empty line, so the client rebuilds "a\n" exactly.
void append_lines(std::string& out, std::string_view text, std::string_view prefix) {
    size_t start = 0;
    for (;;) {
        size_t end = text.find_first_of("\r\n", start);
        out += prefix;
        out.append(text.substr(start, end == std::string_view::npos ? end : end - start));
        out += '\n';
        if (end == std::string_view::npos) return;
        start = end + 1;
        if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
    }
}

}  // namespace

std::string_view status_reason(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string http_date(std::time_t time) {
    std::tm tm{};
    gmtime_r(&time, &tm);
    char buf[40];
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

void validate_response(int status, const HttpHeaders& headers) {
    if (status < 200 || status > 599) {
        throw Error(ErrorCode::InvalidArgument,
                    "HTTP response: status " + std::to_string(status) +
                        " is outside 200..599 (1xx responses are sent by the server itself)");
    }
    for (const auto& field : headers) {
        if (!is_token(field.name)) {
            throw Error(
                ErrorCode::InvalidArgument,
                "HTTP response: header name " + quote_for_message(field.name) + " is not a token");
        }
        if (is_framing_header(field.name)) {
            throw Error(ErrorCode::InvalidArgument,
                        "HTTP response: header " + field.name +
                            " is set by the server from the framing, not by a handler");
        }
        for (char c : field.value) {
            if (!is_value_byte(c)) {
                throw Error(ErrorCode::InvalidArgument,
                            "HTTP response: header " + field.name + " value " +
                                quote_for_message(field.value) +
                                " holds a control byte (CR, LF and NUL would split the response)");
            }
        }
    }
}

std::string serialize_response(const HttpResponse& response, const ResponseFraming& framing) {
    validate_response(response.status, response.headers);
    bool bodyless = response.status == 204 || response.status == 304;
    if (bodyless && !response.body.empty()) {
        throw Error(
            ErrorCode::InvalidArgument,
            "HTTP response: status " + std::to_string(response.status) + " cannot carry a body");
    }
    std::string out;
    out.reserve(128 + response.body.size());
    append_status_line(out, response.status);
    append_headers(out, response.headers, framing);
    if (!bodyless) {
        out += "Content-Length: ";
        out += std::to_string(response.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    if (!framing.head) out += response.body;
    return out;
}

std::string serialize_stream_head(int status, const HttpHeaders& headers,
                                  const ResponseFraming& framing) {
    validate_response(status, headers);
    if (status == 204 || status == 304) {
        throw Error(ErrorCode::InvalidArgument,
                    "HTTP response: status " + std::to_string(status) + " cannot be streamed");
    }
    ResponseFraming effective = framing;
    if (framing.http10) effective.keep_alive = false;  // the close ends the body
    std::string out;
    append_status_line(out, status);
    append_headers(out, headers, effective);
    if (!framing.http10) out += "Transfer-Encoding: chunked\r\n";
    out += "\r\n";
    return out;
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    out.append(size, static_cast<size_t>(n));
    out.append(data);
    out += "\r\n";
}

HttpHeaders sse_headers() {
    HttpHeaders headers;
    headers.add("Content-Type", "text/event-stream");
    headers.add("Cache-Control", "no-cache");
    return headers;
}

std::string sse_event(std::string_view data, std::string_view event) {
    if (event.find_first_of("\r\n") != std::string_view::npos) {
        throw Error(ErrorCode::InvalidArgument,
                    "SSE event name " + quote_for_message(event) + " holds a line end");
    }
    std::string out;
    out.reserve(data.size() + event.size() + 16);
    if (!event.empty()) {
        out += "event: ";
        out += event;
        out += '\n';
    }
    append_lines(out, data, "data: ");
    out += '\n';
    return out;
}

std::string sse_comment(std::string_view text) {
    std::string out;
    append_lines(out, text, ": ");
    out += '\n';
    return out;
}

}  // namespace loom::server
