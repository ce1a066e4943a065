// A blocking HTTP client over a real loopback socket, for the server tests. Reads time
// out after 5 s (SO_RCVTIMEO) so that a server bug fails a test instead of hanging it;
// no test waits on that time to pass.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "server/http_headers.h"

namespace loom::server::test {

struct ClientResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;               // decoded (chunks joined)
    bool chunked_complete = false;  // the last chunk arrived
};

class TestClient {
public:
    explicit TestClient(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            std::string why = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("connect failed: " + why);
        }
    }
    ~TestClient() { close(); }
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

    // Reads until buffer() holds `needle` after `from`; false on EOF, error or timeout.
    bool read_until(std::string_view needle, size_t from = 0) {
        while (buffer_.find(needle, from) == std::string::npos) {
            if (!read_some()) return false;
        }
        return true;
    }

    // Reads until the server closes; true when it did (EOF or reset), false on timeout.
    bool read_to_eof() {
        while (read_some()) {
        }
        return eof_;
    }

    // Reads and removes one response from the buffer. Throws on EOF or timeout first.
    ClientResponse read_response() {
        if (!read_until("\r\n\r\n")) throw std::runtime_error("no response head: " + buffer_);
        size_t head_end = buffer_.find("\r\n\r\n");
        std::string head = buffer_.substr(0, head_end);
        size_t pos = head_end + 4;
        ClientResponse r;
        r.status = std::stoi(head.substr(9, 3));
        size_t line = head.find("\r\n");
        while (line != std::string::npos) {
            size_t next = head.find("\r\n", line + 2);
            std::string field =
                head.substr(line + 2, next == std::string::npos ? next : next - line - 2);
            size_t colon = field.find(':');
            r.headers.add(field.substr(0, colon), std::string(trim_ows(field.substr(colon + 1))));
            line = next;
        }
        const std::string* te = r.headers.find("transfer-encoding");
        const std::string* cl = r.headers.find("content-length");
        if (te != nullptr) {
            for (;;) {
                if (!read_until("\r\n", pos)) throw std::runtime_error("chunk size missing");
                size_t eol = buffer_.find("\r\n", pos);
                size_t size = std::stoul(buffer_.substr(pos, eol - pos), nullptr, 16);
                pos = eol + 2;
                while (buffer_.size() < pos + size + 2) {
                    if (!read_some()) throw std::runtime_error("chunk cut short");
                }
                if (size == 0) {
                    r.chunked_complete = true;
                    pos += 2;
                    break;
                }
                r.body += buffer_.substr(pos, size);
                pos += size + 2;
            }
        } else if (cl != nullptr) {
            size_t size = std::stoul(*cl);
            while (buffer_.size() < pos + size) {
                if (!read_some()) throw std::runtime_error("body cut short");
            }
            r.body = buffer_.substr(pos, size);
            pos += size;
        } else {
            read_to_eof();
            r.body = buffer_.substr(pos);
            pos = buffer_.size();
        }
        buffer_.erase(0, pos);
        return r;
    }

    std::string& buffer() { return buffer_; }
    bool eof() const { return eof_; }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    // One recv into the buffer; false on EOF (eof_ set), reset, or timeout.
    bool read_some() {
        char chunk[16384];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<size_t>(n));
            return true;
        }
        if (n == 0 || errno == ECONNRESET) eof_ = true;
        return false;
    }

    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

}  // namespace loom::server::test
