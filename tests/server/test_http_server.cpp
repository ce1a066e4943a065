// Tests of HttpServer and Responder over real loopback sockets: round trips, keep-alive
// and pipelining, streaming that arrives piece by piece, cancellation on disconnect,
// backpressure, the connection limit, timeouts, errors, and shutdown with a stream in
// flight. Waits are on condition variables and socket reads (with a 5 s safety
// timeout that only a bug reaches), never on sleeps.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>

#include "core/error.h"
#include "http_client.h"
#include "server/http_server.h"

namespace loom::server {
namespace {

using namespace std::chrono_literals;
using test::TestClient;

// Hands responders from the handler (I/O thread) to the test thread.
class Slot {
public:
    void put(std::shared_ptr<Responder> responder) {
        std::lock_guard<std::mutex> lock(mutex_);
        items_.push_back(std::move(responder));
        cv_.notify_all();
    }
    std::shared_ptr<Responder> take() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, 5s, [&] { return !items_.empty(); })) return nullptr;
        auto r = std::move(items_.front());
        items_.pop_front();
        return r;
    }
    Handler handler() {
        return [this](HttpRequest, std::shared_ptr<Responder> r) { put(std::move(r)); };
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Responder>> items_;
};

void echo(HttpRequest request, std::shared_ptr<Responder> responder) {
    HttpResponse r{
        200, {}, request.method + " " + request.path + "?" + request.query + " " + request.body};
    r.headers.add("Content-Type", "text/plain");
    responder->respond(r);
}

ServerOptions test_options() {
    ServerOptions options;
    options.port = 0;
    return options;
}

std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

// A promise for "on_cancel ran", shareable with the callback.
std::future<void> cancel_future(Responder& responder) {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    responder.on_cancel([promise] { promise->set_value(); });
    return future;
}

TEST(HttpServer, GetAndPostRoundTrip) {
    HttpServer server(test_options(), echo);
    ASSERT_NE(server.port(), 0);
    TestClient client(server.port());
    client.send(get("/v1/models?x=1"));
    auto r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /v1/models?x=1 ");
    EXPECT_EQ(*r.headers.find("content-type"), "text/plain");
    EXPECT_TRUE(r.headers.has("date"));

    std::string body(300000, 'q');  // several reads and sends on both sides
    client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
    r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /v1/chat/completions? " + body);
}

TEST(HttpServer, KeepAliveAndPipelinedRequestsOnOneConnection) {
    HttpServer server(test_options(), echo);
    TestClient client(server.port());
    client.send(get("/one"));
    EXPECT_EQ(client.read_response().body, "GET /one? ");
    client.send(get("/two"));
    EXPECT_EQ(client.read_response().body, "GET /two? ");
    // Three at once: answered in order.
    client.send(get("/a") + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" +
                get("/c", "Connection: close\r\n"));
    EXPECT_EQ(client.read_response().body, "GET /a? ");
    EXPECT_EQ(client.read_response().body, "POST /b? hi");
    auto last = client.read_response();
    EXPECT_EQ(last.body, "GET /c? ");
    EXPECT_EQ(*last.headers.find("connection"), "close");
    EXPECT_TRUE(client.read_to_eof());
}

TEST(HttpServer, SseEventsArriveIncrementally) {
    Slot slot;
    HttpServer server(test_options(), slot.handler());
    TestClient client(server.port());
    client.send(get("/v1/chat/completions"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    ASSERT_TRUE(responder->begin_stream(200, sse_headers()));
    ASSERT_EQ(responder->send_event("{\"n\":1}"), WriteStatus::Ok);
    // The first event is readable before the second exists.
    ASSERT_TRUE(client.read_until("data: {\"n\":1}\n\n"));
    ASSERT_EQ(responder->send_comment("keep-alive"), WriteStatus::Ok);
    ASSERT_EQ(responder->send_event("{\"n\":2}"), WriteStatus::Ok);
    ASSERT_EQ(responder->send_event("[DONE]"), WriteStatus::Ok);
    ASSERT_TRUE(responder->end());
    EXPECT_EQ(responder->write("late"), WriteStatus::Closed);
    auto r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.chunked_complete);
    EXPECT_EQ(*r.headers.find("content-type"), "text/event-stream");
    EXPECT_EQ(r.body, "data: {\"n\":1}\n\n: keep-alive\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n");
    EXPECT_FALSE(responder->cancelled());
    // The connection is still good for another request.
    client.send(get("/next"));
    auto next = slot.take();
    ASSERT_NE(next, nullptr);
    next->respond({200, {}, "ok"});
    EXPECT_EQ(client.read_response().body, "ok");
}

TEST(HttpServer, ClientDisconnectMidStreamCancels) {
    Slot slot;
    HttpServer server(test_options(), slot.handler());
    TestClient client(server.port());
    client.send(get("/stream"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    auto cancelled = cancel_future(*responder);
    responder->begin_stream(200, sse_headers());
    responder->send_event("first");
    ASSERT_TRUE(client.read_until("data: first\n\n"));
    client.close();
    ASSERT_EQ(cancelled.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(responder->cancelled());
    EXPECT_EQ(responder->send_event("second"), WriteStatus::Closed);
    EXPECT_FALSE(responder->end());
    // A callback registered after the fact runs at once.
    bool ran = false;
    responder->on_cancel([&] { ran = true; });
    EXPECT_TRUE(ran);
}

TEST(HttpServer, ClientDisconnectBeforeTheResponseCancels) {
    Slot slot;
    HttpServer server(test_options(), slot.handler());
    TestClient client(server.port());
    client.send(get("/slow"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    auto cancelled = cancel_future(*responder);
    client.close();
    ASSERT_EQ(cancelled.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(responder->respond({200, {}, "too late"}));
}

TEST(HttpServer, BackpressureReportsFullAndRecovers) {
    Slot slot;
    ServerOptions options = test_options();
    options.max_output_bytes = 16 * 1024;
    HttpServer server(options, slot.handler());
    TestClient client(server.port());
    client.send(get("/big"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    responder->begin_stream(200, {});
    // The client reads nothing: the socket buffers fill, then the output bound is hit
    // and stays hit (a wait finds nothing draining).
    const std::string piece(8192, 'p');
    size_t written = 0;
    for (;;) {
        ASSERT_LT(written, size_t{256} << 20) << "the output bound never held";
        WriteStatus status = responder->write(piece);
        if (status == WriteStatus::Ok) {
            written += piece.size();
            continue;
        }
        ASSERT_EQ(status, WriteStatus::Full);
        if (responder->wait_writable(20ms) == WriteStatus::Full) break;
    }
    // A reader makes room; the writer gets Ok back, finishes, and nothing was lost.
    auto reader = std::async(std::launch::async, [&] { return client.read_response(); });
    ASSERT_EQ(responder->wait_writable(5s), WriteStatus::Ok);
    ASSERT_EQ(responder->write(piece), WriteStatus::Ok);
    written += piece.size();
    ASSERT_TRUE(responder->end());
    auto r = reader.get();
    EXPECT_TRUE(r.chunked_complete);
    EXPECT_EQ(r.body.size(), written);
    EXPECT_EQ(r.body.find_first_not_of('p'), std::string::npos);
}

TEST(HttpServer, ConnectionsOverTheLimitGet503) {
    ServerOptions options = test_options();
    options.max_connections = 2;
    HttpServer server(options, echo);
    TestClient a(server.port());
    TestClient b(server.port());
    // A round trip each proves both are accepted and counted.
    a.send(get("/a"));
    EXPECT_EQ(a.read_response().status, 200);
    b.send(get("/b"));
    EXPECT_EQ(b.read_response().status, 200);
    TestClient c(server.port());
    c.send(get("/c"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(*r.headers.find("connection"), "close");
    EXPECT_NE(r.body.find("limit of 2 connections"), std::string::npos) << r.body;
    EXPECT_TRUE(c.read_to_eof());
    // The two accepted connections still work.
    a.send(get("/again"));
    EXPECT_EQ(a.read_response().status, 200);
}

TEST(HttpServer, MalformedRequestsGetTheirStatusAndAClose) {
    ServerOptions options = test_options();
    options.limits.max_body_bytes = 10;
    // The OpenAI layer's JSON errors come through this hook.
    options.error_response = [](int status, std::string_view message) {
        HttpResponse r{status, {}, "{\"error\":\"" + std::string(message.substr(0, 20)) + "\"}"};
        r.headers.add("Content-Type", "application/json");
        return r;
    };
    HttpServer server(options, echo);
    struct Case {
        std::string request;
        int status;
    };
    const Case cases[] = {
        {"GARBAGE\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    };
    for (const auto& c : cases) {
        TestClient client(server.port());
        client.send(c.request);
        auto r = client.read_response();
        EXPECT_EQ(r.status, c.status) << c.request;
        EXPECT_EQ(*r.headers.find("content-type"), "application/json");
        EXPECT_EQ(*r.headers.find("connection"), "close");
        EXPECT_TRUE(client.read_to_eof()) << c.request;
    }
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponse) {
    HttpServer server(test_options(), echo);
    TestClient client(server.port());
    client.send(
        "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    ASSERT_TRUE(client.read_until("HTTP/1.1 100 Continue\r\n\r\n"));
    client.buffer().clear();
    client.send("hello");
    auto r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /up? hello");
}

TEST(HttpServer, HandlerFailuresBecome500) {
    HttpServer server(test_options(), [](HttpRequest request, std::shared_ptr<Responder>) {
        if (request.path == "/throw") throw Error(ErrorCode::InvalidArgument, "bad field 'model'");
        // Otherwise the responder is dropped without an answer.
    });
    TestClient client(server.port());
    client.send(get("/throw"));
    auto r = client.read_response();
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("bad field 'model'"), std::string::npos) << r.body;
    client.send(get("/drop"));  // the connection survived the failure
    r = client.read_response();
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("without a response"), std::string::npos) << r.body;
}

TEST(HttpServer, Http10StreamIsCloseDelimitedAndHeadHasNoBody) {
    Slot slot;
    HttpServer server(test_options(), slot.handler());
    TestClient old(server.port());
    old.send("GET /s HTTP/1.0\r\n\r\n");
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    responder->begin_stream(200, {});
    responder->write("abc");
    responder->write("def");
    responder->end();
    auto r = old.read_response();  // no length, no chunks: the body ends at the close
    EXPECT_EQ(r.body, "abcdef");
    EXPECT_EQ(*r.headers.find("connection"), "close");

    TestClient client(server.port());
    client.send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n" + get("/after"));
    responder = slot.take();
    ASSERT_NE(responder, nullptr);
    responder->respond({200, {}, "body not sent"});
    ASSERT_TRUE(client.read_until("Content-Length: 13\r\n\r\n"));
    responder = slot.take();  // the pipelined GET: its response follows the bare head
    ASSERT_NE(responder, nullptr);
    responder->respond({200, {}, "after"});
    ASSERT_TRUE(client.read_until("after"));
    EXPECT_EQ(client.buffer().find("body not sent"), std::string::npos) << client.buffer();
}

TEST(HttpServer, IdleConnectionsAreClosedAndSlowRequestsGet408) {
    ServerOptions options = test_options();
    options.idle_timeout = 20ms;
    HttpServer server(options, echo);
    TestClient client(server.port());
    EXPECT_TRUE(client.read_to_eof());  // closed by the server, quietly
    EXPECT_TRUE(client.buffer().empty());

    // The request timeout runs from a request's first byte, so this cannot race.
    ServerOptions slow = test_options();
    slow.request_timeout = 20ms;
    HttpServer slow_server(slow, echo);
    TestClient partial(slow_server.port());
    partial.send("GET / HTTP/1.1\r\n");
    auto r = partial.read_response();
    EXPECT_EQ(r.status, 408);
    EXPECT_NE(r.body.find("request timeout"), std::string::npos) << r.body;
}

TEST(HttpServer, StopCancelsAStreamAfterTheGracePeriod) {
    Slot slot;
    ServerOptions options = test_options();
    options.shutdown_grace = 0ms;
    HttpServer server(options, slot.handler());
    TestClient client(server.port());
    client.send(get("/stream"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    auto cancelled = cancel_future(*responder);
    responder->begin_stream(200, sse_headers());
    responder->send_event("one");
    ASSERT_TRUE(client.read_until("data: one\n\n"));
    server.stop();
    ASSERT_EQ(cancelled.wait_for(5s), std::future_status::ready);
    server.wait();
    EXPECT_EQ(responder->send_event("two"), WriteStatus::Closed);
    EXPECT_TRUE(client.read_to_eof());
    EXPECT_EQ(client.buffer().find("0\r\n\r\n"), std::string::npos);  // cut off, not ended
}

TEST(HttpServer, StopLetsAStreamFinishWithinTheGracePeriod) {
    Slot slot;
    ServerOptions options = test_options();
    options.shutdown_grace = 60s;  // never reached: the stream ends first
    HttpServer server(options, slot.handler());
    TestClient idle(server.port());
    idle.send(get("/warm", "Content-Length: 0\r\n"));
    auto first = slot.take();
    ASSERT_NE(first, nullptr);
    first->respond({200, {}, "warm"});
    ASSERT_EQ(idle.read_response().body, "warm");

    TestClient client(server.port());
    client.send(get("/stream"));
    auto responder = slot.take();
    ASSERT_NE(responder, nullptr);
    responder->begin_stream(200, sse_headers());
    responder->send_event("one");
    server.stop();
    // The idle keep-alive connection is closed by the shutdown: once it sees the close,
    // the shutdown has begun while the stream is still open.
    ASSERT_TRUE(idle.read_to_eof());
    ASSERT_EQ(responder->send_event("two"), WriteStatus::Ok);
    ASSERT_TRUE(responder->end());
    auto r = client.read_response();
    EXPECT_TRUE(r.chunked_complete);
    EXPECT_EQ(r.body, "data: one\n\ndata: two\n\n");
    EXPECT_TRUE(client.read_to_eof());  // no keep-alive once stopping
    server.wait();
    EXPECT_FALSE(responder->cancelled());
    EXPECT_THROW(TestClient late(server.port()), std::runtime_error);  // not listening
}

TEST(HttpServer, RejectsOptionsThatCannotWork) {
    ServerOptions options = test_options();
    options.max_output_bytes = 0;
    try {
        HttpServer server(options, echo);
        FAIL() << "max_output_bytes 0 was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("max_output_bytes"), std::string::npos) << e.what();
    }
    EXPECT_THROW(HttpServer(test_options(), Handler{}), Error);
}

TEST(HttpServer, BindingAPortInUseFails) {
    HttpServer first(test_options(), echo);
    ServerOptions options = test_options();
    options.port = first.port();
    try {
        HttpServer second(options, echo);
        FAIL() << "a second server bound the same port";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace loom::server
