// The server's listening socket: resolve the host, bind, listen, non-blocking. Apart
// from the event loop so that the loop file is only about connections.
#pragma once

#include <cstdint>
#include <string>

namespace loom::server {

struct ListenSocket {
    int fd = -1;
    uint16_t port = 0;  // the bound port (the kernel's choice when 0 was asked)
};

// Binds host:port with SO_REUSEADDR (a restarted server gets its port back while old
// connections sit in TIME_WAIT) and listens. Throws loom::Error(Io) saying which
// address failed and why; nothing stays open then. The caller closes fd.
ListenSocket open_listen_socket(const std::string& host, uint16_t port);

}  // namespace loom::server
