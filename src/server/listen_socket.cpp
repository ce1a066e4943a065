// open_listen_socket: getaddrinfo, then the first address that binds.
#include "server/listen_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace loom::server {

ListenSocket open_listen_socket(const std::string& host, uint16_t port) {
    std::string where = "HTTP server: " + host + ":" + std::to_string(port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
        throw Error(ErrorCode::Io, where + ": cannot resolve the host: " + ::gai_strerror(rc));
    }
    std::string last_error = "no address";
    ListenSocket result;
    for (addrinfo* ai = found; ai != nullptr && result.fd < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai->ai_protocol);
        if (fd < 0) {
            last_error = std::string("socket: ") + std::strerror(errno);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            last_error = std::string("bind: ") + std::strerror(errno);
            ::close(fd);
            continue;
        }
        if (::listen(fd, SOMAXCONN) != 0) {
            last_error = std::string("listen: ") + std::strerror(errno);
            ::close(fd);
            continue;
        }
        sockaddr_storage bound{};
        socklen_t length = sizeof bound;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
            last_error = std::string("getsockname: ") + std::strerror(errno);
            ::close(fd);
            continue;
        }
        result.fd = fd;
        result.port = bound.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    ::freeaddrinfo(found);
    if (result.fd < 0) {
        std::string hint = last_error.find("Address already in use") != std::string::npos
                               ? " (another server holds the port: choose another one, or 0)"
                               : "";
        throw Error(ErrorCode::Io, where + ": " + last_error + hint);
    }
    return result;
}

}  // namespace loom::server
