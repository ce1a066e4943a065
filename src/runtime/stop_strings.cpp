// Stop strings over streamed text (see stop_strings.h).
#include "runtime/stop_strings.h"

#include <algorithm>

#include "core/error.h"

namespace loom::runtime {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
    for (size_t i = 0; i < stops_.size(); ++i) {
        if (stops_[i].empty()) {
            throw Error(ErrorCode::InvalidArgument,
                        "stop string " + std::to_string(i + 1) + " of " +
                            std::to_string(stops_.size()) +
                            " is empty (it would stop before any text)");
        }
    }
}

size_t StopMatcher::partial_tail() const {
    size_t best = 0;
    for (const std::string& stop : stops_) {
        // Longest first; a tail as long as the stop itself would be a full match, which
        // push() has already ruled out.
        for (size_t len = std::min(stop.size() - 1, held_.size()); len > best; --len) {
            if (held_.compare(held_.size() - len, len, stop, 0, len) == 0) {
                best = len;
                break;
            }
        }
    }
    return best;
}

std::string StopMatcher::push(std::string_view text) {
    if (stopped_) return {};
    // held_ is shorter than the longest stop string, so each search reads the new text
    // plus a bounded prefix: the output before it is never rescanned.
    held_.append(text);
    size_t first = std::string::npos;
    for (const std::string& stop : stops_) first = std::min(first, held_.find(stop));
    if (first != std::string::npos) {
        stopped_ = true;
        std::string out = held_.substr(0, first);
        held_.clear();
        return out;
    }
    const size_t emit = held_.size() - partial_tail();
    std::string out = held_.substr(0, emit);
    held_.erase(0, emit);
    return out;
}

std::string StopMatcher::finish() {
    std::string out;
    if (!stopped_) out.swap(held_);
    held_.clear();
    return out;
}

void StopMatcher::reset() {
    held_.clear();
    stopped_ = false;
}

}  // namespace loom::runtime
