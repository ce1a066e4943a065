// Tests of response serialization and SSE framing; the chunk encoder is checked by
// decoding its output with HttpParser.
#include <gtest/gtest.h>

#include "core/error.h"
#include "parse_util.h"
#include "server/http_response.h"

namespace loom::server {
namespace {

TEST(HttpResponse, SerializesCompleteResponse) {
    HttpResponse r{200, {}, "{\"ok\":true}"};
    r.headers.add("Content-Type", "application/json");
    EXPECT_EQ(serialize_response(r, {}),
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
              "{\"ok\":true}");
    ResponseFraming framing;
    framing.date = http_date(0);
    framing.keep_alive = false;
    EXPECT_EQ(serialize_response({404, {}, "no"}, framing),
              "HTTP/1.1 404 Not Found\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
              "Connection: close\r\nContent-Length: 2\r\n\r\nno");
}

TEST(HttpResponse, FramingFollowsTheRequest) {
    ResponseFraming http10;
    http10.http10 = true;
    EXPECT_EQ(serialize_response({200, {}, "x"}, http10),
              "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx");
    ResponseFraming head;
    head.head = true;
    EXPECT_EQ(serialize_response({200, {}, "abc"}, head),
              "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");  // the length, not the bytes
    EXPECT_EQ(serialize_response({204, {}, ""}, {}), "HTTP/1.1 204 No Content\r\n\r\n");
    EXPECT_THROW(serialize_response({204, {}, "body"}, {}), Error);
}

TEST(HttpResponse, RejectsBadStatusFramingHeadersAndSplitting) {
    auto with_header = [](std::string name, std::string value) {
        HttpResponse r;
        r.headers.add(std::move(name), std::move(value));
        return r;
    };
    EXPECT_THROW(serialize_response({100, {}, ""}, {}), Error);
    EXPECT_THROW(serialize_response({600, {}, ""}, {}), Error);
    EXPECT_THROW(serialize_response(with_header("Content-Length", "5"), {}), Error);
    EXPECT_THROW(serialize_response(with_header("transfer-encoding", "chunked"), {}), Error);
    EXPECT_THROW(serialize_response(with_header("Connection", "close"), {}), Error);
    EXPECT_THROW(serialize_response(with_header("X-A", "a\r\nSet-Cookie: b"), {}), Error);
    EXPECT_THROW(serialize_response(with_header("X A", "a"), {}), Error);
    try {
        serialize_response(with_header("X-A", std::string("a\0b", 3)), {});
        FAIL() << "a NUL in a header value was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("X-A"), std::string::npos) << e.what();
    }
}

TEST(HttpResponse, StreamHeadIsChunkedOrCloseDelimited) {
    EXPECT_EQ(serialize_stream_head(200, sse_headers(), {}),
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
              "Transfer-Encoding: chunked\r\n\r\n");
    ResponseFraming http10;
    http10.http10 = true;
    EXPECT_EQ(serialize_stream_head(200, {}, http10),
              "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    EXPECT_THROW(serialize_stream_head(304, {}, {}), Error);
}

TEST(HttpResponse, ChunksDecodeBackThroughTheParser) {
    std::string chunks;
    append_chunk(chunks, "hello");
    EXPECT_EQ(chunks, "5\r\nhello\r\n");
    append_chunk(chunks, "");  // nothing: an empty chunk would end the body
    EXPECT_EQ(chunks, "5\r\nhello\r\n");
    std::string big(300, 'x');
    append_chunk(chunks, big);
    chunks += kLastChunk;
    auto p = test::parse_whole("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
                               chunks);
    ASSERT_EQ(p.requests.size(), 1u) << test::describe(p);
    EXPECT_EQ(p.requests[0].body, "hello" + big);
}

TEST(HttpResponse, SseEventSplitsEveryLineEnd) {
    EXPECT_EQ(sse_event("{\"a\":1}"), "data: {\"a\":1}\n\n");
    EXPECT_EQ(sse_event("[DONE]"), "data: [DONE]\n\n");
    EXPECT_EQ(sse_event("a\nb\r\nc\rd"), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    EXPECT_EQ(sse_event("a\n"), "data: a\ndata: \n\n");  // the client rebuilds "a\n"
    EXPECT_EQ(sse_event(""), "data: \n\n");
    EXPECT_EQ(sse_event("x", "error"), "event: error\ndata: x\n\n");
    EXPECT_THROW(sse_event("x", "a\ndata: forged"), Error);
    EXPECT_EQ(sse_comment("keep-alive"), ": keep-alive\n\n");
    EXPECT_EQ(sse_comment("a\nb"), ": a\n: b\n\n");
}

TEST(HttpResponse, ReasonsAndDates) {
    EXPECT_EQ(status_reason(200), "OK");
    EXPECT_EQ(status_reason(413), "Content Too Large");
    EXPECT_EQ(status_reason(431), "Request Header Fields Too Large");
    EXPECT_EQ(status_reason(299), "Unknown");
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
}

}  // namespace
}  // namespace loom::server
