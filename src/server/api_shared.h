// What the API's handlers and their jobs' callbacks (on the scheduler thread) share:
// the request counters /metrics reports and the one way replies are sent, so every
// answer is counted by status. Internal to server/.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "server/openai_types.h"
#include "server/responder.h"

namespace loom::server {

struct ApiShared {
    std::mutex mutex;
    std::map<int, uint64_t> requests_by_status;  // guarded by mutex

    void count(int status);
    // A JSON response with this status; false when the client is gone.
    bool reply(Responder& responder, int status, std::string body);
    // OpenAI's error object with the error's status (503 adds Retry-After).
    bool reply_error(Responder& responder, const ApiError& error);
};

}  // namespace loom::server
