// Tests of HttpParser: valid requests, every error status, limits at their exact
// boundaries, and the same result whatever the split of the bytes (whole, byte at a
// time, random pieces), including pipelined requests.
#include <gtest/gtest.h>

#include <random>

#include "parse_util.h"

namespace loom::server {
namespace {

using test::describe;
using test::parse_bytewise;
using test::parse_whole;
using namespace std::string_literals;

TEST(HttpParser, ParsesGetWithQuery) {
    auto p = parse_whole(
        "GET /v1/models?limit=5&x HTTP/1.1\r\nHost: localhost\r\n"
        "User-Agent: t\r\n\r\n");
    ASSERT_EQ(p.requests.size(), 1u) << describe(p);
    const HttpRequest& r = p.requests[0];
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/v1/models?limit=5&x");
    EXPECT_EQ(r.path, "/v1/models");
    EXPECT_EQ(r.query, "limit=5&x");
    EXPECT_EQ(r.version, HttpVersion::Http11);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.expect_continue);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.size(), 2u);
    EXPECT_FALSE(p.in_progress);
}

TEST(HttpParser, HeaderLookupIsCaseInsensitiveAndKeepsRepeats) {
    auto p = parse_whole(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Tag: one\r\nx-tag:two  \r\n"
        "Connection: keep-alive, Upgrade\r\n\r\n");
    ASSERT_EQ(p.requests.size(), 1u) << describe(p);
    const HttpHeaders& h = p.requests[0].headers;
    ASSERT_NE(h.find("X-TAG"), nullptr);
    EXPECT_EQ(*h.find("X-TAG"), "one");
    auto all = h.find_all("x-Tag");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1], "two");  // surrounding whitespace trimmed
    EXPECT_TRUE(h.has_token("connection", "UPGRADE"));
    EXPECT_EQ(h.find("missing"), nullptr);
}

TEST(HttpParser, ParsesContentLengthBody) {
    auto p = parse_whole(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\n"
        "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}");
    ASSERT_EQ(p.requests.size(), 1u) << describe(p);
    EXPECT_EQ(p.requests[0].body, "{\"a\":\"b c\"}");
}

TEST(HttpParser, ParsesChunkedBodyWithExtensionsAndTrailers) {
    auto p = parse_whole(
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;name=value\r\nhello\r\n"
        "1 ; ext\r\n \r\n"
        "00000A\r\n0123456789\r\n"
        "0\r\nX-Checksum: 1\r\n\r\n");
    ASSERT_EQ(p.requests.size(), 1u) << describe(p);
    EXPECT_EQ(p.requests[0].body, "hello 0123456789");
    EXPECT_FALSE(p.requests[0].headers.has("X-Checksum"));  // trailers are not merged
}

TEST(HttpParser, PipelinedRequestsComeOutInOrder) {
    std::string input =
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\nhi\r\n0\r\n\r\n"
        "GET /d HTTP/1.1\r\nHo";
    auto p = parse_whole(input);
    ASSERT_EQ(p.requests.size(), 3u) << describe(p);
    EXPECT_EQ(p.requests[0].path, "/a");
    EXPECT_EQ(p.requests[1].body, "xyz");
    EXPECT_EQ(p.requests[2].body, "hi");
    EXPECT_TRUE(p.in_progress);  // the fourth is partial
    EXPECT_EQ(describe(parse_bytewise(input)), describe(p));
}

TEST(HttpParser, KeepAliveRules) {
    struct Case {
        const char* request;
        bool keep_alive;
    };
    const Case cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.7\r\nHost: h\r\n\r\n", true},  // a higher 1.x minor reads as 1.1
    };
    for (const auto& c : cases) {
        auto p = parse_whole(c.request);
        ASSERT_EQ(p.requests.size(), 1u) << c.request << describe(p);
        EXPECT_EQ(p.requests[0].keep_alive, c.keep_alive) << c.request;
    }
}

TEST(HttpParser, ExpectContinueIsReportedBetweenHeadersAndBody) {
    HttpParser parser;
    std::string head =
        "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
    EXPECT_EQ(parser.feed(head.substr(0, 20)).status, ParseStatus::NeedMore);
    EXPECT_FALSE(parser.wants_continue());
    EXPECT_EQ(parser.feed(head.substr(20)).status, ParseStatus::NeedMore);
    EXPECT_TRUE(parser.wants_continue());
    EXPECT_EQ(parser.feed("body").status, ParseStatus::Complete);
    EXPECT_FALSE(parser.wants_continue());
    EXPECT_TRUE(parser.take_request().expect_continue);

    // HTTP/1.0 clients cannot take a 100 response: the expectation is ignored.
    auto p = parse_whole("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
    ASSERT_EQ(p.requests.size(), 1u) << describe(p);
    EXPECT_FALSE(p.requests[0].expect_continue);
}

TEST(HttpParser, AcceptsAbsoluteFormAsteriskBlankLinesAndBareLf) {
    auto p = parse_whole(
        "\r\n\r\nGET http://localhost:8080/v1/x?q=1 HTTP/1.1\nHost: h\n\n"
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(p.requests.size(), 3u) << describe(p);
    EXPECT_EQ(p.requests[0].path, "/v1/x");
    EXPECT_EQ(p.requests[0].query, "q=1");
    EXPECT_EQ(p.requests[1].path, "*");
    EXPECT_EQ(p.requests[2].path, "/");
}

struct ErrorCase {
    const char* name;
    std::string request;
    int status;
};

HttpLimits small_limits() {
    HttpLimits limits;
    limits.max_target_bytes = 64;
    limits.max_header_bytes = 256;
    limits.max_header_count = 4;
    limits.max_body_bytes = 100;
    return limits;
}

TEST(HttpParser, EveryErrorStatus) {
    const std::string h = "Host: h\r\n";
    const ErrorCase cases[] = {
        {"no spaces", "GET\r\n\r\n", 400},
        {"double space", "GET  / HTTP/1.1\r\n" + h + "\r\n", 400},
        {"method not a token", "G(T / HTTP/1.1\r\n" + h + "\r\n", 400},
        {"method too long", std::string(40, 'A') + " / HTTP/1.1\r\n" + h + "\r\n", 400},
        {"garbage line over the limit", std::string(200, 'x') + "\r\n", 400},
        {"relative target", "GET v1 HTTP/1.1\r\n" + h + "\r\n", 400},
        {"control byte in target", "GET /a\x01 HTTP/1.1\r\n" + h + "\r\n", 400},
        {"fragment in target", "GET /a#b HTTP/1.1\r\n" + h + "\r\n", 400},
        {"asterisk with GET", "GET * HTTP/1.1\r\n" + h + "\r\n", 400},
        {"absolute form without host", "GET http:///x HTTP/1.1\r\n" + h + "\r\n", 400},
        {"bad version", "GET / HTTP/1.10\r\n" + h + "\r\n", 400},
        {"lowercase version", "GET / http/1.1\r\n" + h + "\r\n", 400},
        {"bare CR in request line", "GET / HTTP/1.1\r\r\n" + h + "\r\n", 400},
        {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
        {"NUL in value", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s, 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"no colon", "GET / HTTP/1.1\r\n" + h + "Nonsense\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\n" + h + "X: a\r\n  b\r\n\r\n", 400},
        {"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
        {"two Hosts", "GET / HTTP/1.1\r\n" + h + h + "\r\n", 400},
        {"bad Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1e3\r\n\r\n", 400},
        {"signed Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\n", 400},
        {"empty Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: \r\n\r\n", 400},
        {"differing Content-Lengths",
         "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400},
        {"Content-Length and chunked",
         "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"Transfer-Encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"chunked not last", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n",
         400},
        {"chunked twice",
         "POST / HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
         400},
        {"chunk size not hex",
         "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"chunk size junk", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5 x\r\n",
         400},
        {"chunk without CRLF",
         "POST / HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n\r\n"
             "2\r\nhiXX\r\n",
         400},
        {"chunk line too long",
         "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1;" +
             std::string(2000, 'e') + "\r\n",
         400},
        {"bad trailer",
         "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n", 400},
        {"declared body too large", "POST / HTTP/1.1\r\n" + h + "Content-Length: 101\r\n\r\n", 413},
        {"Content-Length overflows",
         "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n", 413},
        {"chunked body too large",
         "POST / HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n\r\n"
             "40\r\n" +
             std::string(64, 'a') + "\r\n40\r\n",
         413},
        {"chunk size overflows",
         "POST / HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n\r\n"
             "fffffffffffffffff0\r\n",
         413},
        {"target too long", "GET /" + std::string(64, 'a') + " HTTP/1.1\r\n" + h + "\r\n", 414},
        {"target far too long", "GET /" + std::string(1000, 'a'), 414},
        {"unknown expectation", "POST / HTTP/1.1\r\n" + h + "Expect: 200-ok\r\n\r\n", 417},
        {"header bytes", "GET / HTTP/1.1\r\n" + h + "X: " + std::string(300, 'v') + "\r\n\r\n",
         431},
        {"header count", "GET / HTTP/1.1\r\n" + h + "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", 431},
        {"trailer count",
         "POST / HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n\r\n0\r\n"
             "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n",
         431},
        {"gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"HTTP/2", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
        {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505},
    };
    for (const auto& c : cases) {
        auto whole = parse_whole(c.request, small_limits());
        ASSERT_EQ(whole.last, ParseStatus::Error) << c.name << "\n" << describe(whole);
        EXPECT_EQ(whole.error.status, c.status) << c.name << ": " << whole.error.message;
        EXPECT_FALSE(whole.error.message.empty()) << c.name;
        EXPECT_EQ(describe(parse_bytewise(c.request, small_limits())), describe(whole)) << c.name;
    }
}

TEST(HttpParser, ErrorIsStickyUntilReset) {
    HttpParser parser;
    ASSERT_EQ(parser.feed("BAD\r\n").status, ParseStatus::Error);
    ParseResult again = parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(again.status, ParseStatus::Error);
    EXPECT_EQ(again.consumed, 0u);
    parser.reset();
    EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n").status, ParseStatus::Complete);
}

TEST(HttpParser, LimitsAreExactBoundaries) {
    HttpLimits limits = small_limits();
    // Target: exactly the limit passes, one more is 414.
    std::string target(limits.max_target_bytes, 'a');
    target[0] = '/';
    EXPECT_EQ(parse_whole("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", limits).requests.size(),
              1u);
    EXPECT_EQ(parse_whole("GET " + target + "a HTTP/1.1\r\nHost: h\r\n\r\n", limits).error.status,
              414);

    // Header section: "Host: h\r\n" (9) + "X: v...\r\n" + "\r\n" (2) = max_header_bytes.
    std::string value(limits.max_header_bytes - 9 - 2 - 5, 'v');
    std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\n";
    EXPECT_EQ(parse_whole(fits, limits).requests.size(), 1u) << describe(parse_whole(fits, limits));
    EXPECT_EQ(
        parse_whole("GET / HTTP/1.1\r\nHost: h\r\nX: v" + value + "\r\n\r\n", limits).error.status,
        431);

    // Header count: exactly max_header_count fields pass.
    EXPECT_EQ(parse_whole("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\n\r\n", limits)
                  .requests.size(),
              1u);

    // Body: exactly max_body_bytes passes, by Content-Length and chunked.
    std::string body(limits.max_body_bytes, 'b');
    EXPECT_EQ(
        parse_whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + body, limits)
            .requests.size(),
        1u);
    std::string chunked =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "32\r\n" +
        body.substr(0, 50) + "\r\n32\r\n" + body.substr(50) + "\r\n";
    EXPECT_EQ(parse_whole(chunked + "0\r\n\r\n", limits).requests.size(), 1u);
    EXPECT_EQ(parse_whole(chunked + "1\r\nb\r\n0\r\n\r\n", limits).error.status, 413);
}

// Huge limits, fed one byte at a time: a 1 MiB header value and a 1 MiB body. A parser
// that rescanned its buffer per byte would take ~10^12 steps here and never finish.
TEST(HttpParser, HugeRequestByteAtATimeStaysLinear) {
    HttpLimits limits;
    limits.max_header_bytes = 2 << 20;
    limits.max_body_bytes = 1 << 20;
    std::string value(1 << 20, 'v');
    std::string body(1 << 20, 'b');
    std::string request = "POST / HTTP/1.1\r\nHost: h\r\nX-Big: " + value +
                          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto p = parse_bytewise(request, limits);
    ASSERT_EQ(p.requests.size(), 1u) << p.error.message;
    EXPECT_EQ(p.requests[0].headers.find("x-big")->size(), value.size());
    EXPECT_EQ(p.requests[0].body.size(), body.size());
}

TEST(HttpParser, RandomSplitsGiveTheSameResult) {
    const std::string h = "Host: h\r\n";
    const std::string inputs[] = {
        "GET /a?b HTTP/1.1\r\n" + h + "\r\nPOST /c HTTP/1.1\r\n" + h +
            "Content-Length: 5\r\n\r\n12345",
        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n" +
            std::string(16, 'z') + "\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "\r\nGET http://x/y HTTP/1.1\n" + h + "Expect: 100-continue\nContent-Length: 2\n\nhi",
        "GET / HTTP/1.1\r\n" + h + "X: " + std::string(300, 'v') + "\r\n\r\n",          // 431
        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n2\r\nhiXX\r\n",  // 400
        "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n",                              // 414
    };
    std::mt19937 rng(20261130);
    for (const auto& input : inputs) {
        std::string expected = describe(parse_whole(input, small_limits()));
        EXPECT_EQ(describe(parse_bytewise(input, small_limits())), expected);
        for (int trial = 0; trial < 200; ++trial) {
            auto random_piece = [&](size_t left) {
                return std::uniform_int_distribution<size_t>(1, std::min<size_t>(left, 40))(rng);
            };
            ASSERT_EQ(describe(test::parse_pieces(input, small_limits(), random_piece)), expected)
                << "trial " << trial;
        }
    }
}

}  // namespace
}  // namespace loom::server
