// StopMatcher: cuts streamed output at the first stop string, the way llama.cpp's server
// and `-r` reverse prompts do, without ever showing the start of a stop string that is
// still arriving. Text goes in as it is generated; what comes out is safe to print.
//
//   StopMatcher stop(stops);                       // e.g. {"\nUser:", "</s>"}
//   out << stop.push(text);                        // each decoded, UTF-8-complete chunk
//   if (stop.stopped()) break;                     // the stop string and what follows are dropped
//   ...
//   out << stop.finish();                          // at the end: text held back, if not stopped
//
// push() holds back the longest tail of the text seen so far that is a prefix of some
// stop string (it may still become one); when a stop string appears, possibly spread over
// several pushes, push() returns only the text before it and stopped() turns true. The
// first stop string to complete ends the output (generation would stop there); when
// several complete within one push, the one that starts earliest wins. Work per push is
// linear in the pushed text (times the number of stop strings), plus a term bounded by
// the stop strings' lengths: the output seen so far is never scanned again.
//
// Works on bytes: callers push UTF-8-complete text (after tokenizer::StreamDecoder), so
// that held-back text and the cut never split a character the caller could not.
// Not here: matching on token ids, regular expressions.
//
// Errors: the constructor throws loom::Error(InvalidArgument) for an empty stop string
// (it would match before any text). push() and finish() do not throw (but for memory).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::runtime {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops);

    // The text that is safe to emit now; empty once stopped (later pushes are ignored).
    std::string push(std::string_view text);
    // The text still held back (a partial stop string that never completed); empty when
    // stopped. The matcher is empty afterwards.
    std::string finish();
    // True once a stop string has appeared.
    bool stopped() const { return stopped_; }
    // Starts over for new output (the same stop strings): nothing held, not stopped.
    void reset();

private:
    // The length of the longest tail of held_ that is a proper prefix of a stop string.
    size_t partial_tail() const;

    std::vector<std::string> stops_;
    std::string held_;  // text received but not yet returned: always a partial stop string
    bool stopped_ = false;
};

}  // namespace loom::runtime
