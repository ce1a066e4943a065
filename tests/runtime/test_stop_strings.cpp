// StopMatcher tests: stops within one push and spread over several, held-back prefixes
// and their release, overlapping stop strings, the earliest stop winning, a stop at the
// very start, the state after stopping, and the check of every split point of a text
// against the whole-text answer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/stop_strings.h"

namespace loom::runtime {
namespace {

// Pushes the chunks in order; returns everything emitted, finish() included.
std::string feed(StopMatcher& m, const std::vector<std::string>& chunks) {
    std::string out;
    for (const std::string& c : chunks) out += m.push(c);
    out += m.finish();
    return out;
}

// The answer for the whole text at once: the text before the earliest stop, or all of it.
std::string reference(const std::string& text, const std::vector<std::string>& stops) {
    size_t first = std::string::npos;
    for (const std::string& s : stops) first = std::min(first, text.find(s));
    return first == std::string::npos ? text : text.substr(0, first);
}

TEST(StopMatcher, NoStopStringsPassesEverythingThrough) {
    StopMatcher m({});
    EXPECT_EQ(m.push("hello "), "hello ");
    EXPECT_EQ(m.push("world"), "world");
    EXPECT_EQ(m.finish(), "");
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopWithinOnePush) {
    StopMatcher m({"STOP"});
    EXPECT_EQ(m.push("abc STOP def"), "abc ");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(m.push("more"), "") << "pushes after the stop are ignored";
    EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, StopSplitAcrossPushes) {
    StopMatcher m({"<end>"});
    EXPECT_EQ(m.push("one <e"), "one ");  // "<e" could begin the stop: held
    EXPECT_FALSE(m.stopped());
    EXPECT_EQ(m.push("n"), "");
    EXPECT_EQ(m.push("d> two"), "");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, HeldTextIsReleasedWhenTheStopDoesNotComplete) {
    StopMatcher m({"<end>"});
    EXPECT_EQ(m.push("a <en"), "a ");
    EXPECT_EQ(m.push("tity"), "<entity");  // no longer a prefix: all of it goes out
    EXPECT_EQ(m.push(" <"), " ");
    EXPECT_EQ(m.finish(), "<") << "finish() releases what is still held";
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, HoldsTheLongestPossibleStart) {
    // "aab" ends with "a" and with "aa", both prefixes of "aaab": the longer one is held.
    StopMatcher m({"aaab"});
    EXPECT_EQ(m.push("xaa"), "x");
    EXPECT_EQ(m.push("a"), "");
    EXPECT_EQ(m.push("a"), "a");  // "aaaa": the first a can no longer start the stop
    EXPECT_EQ(m.push("b!"), "");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, OverlappingStopStrings) {
    // "abc" and "bcd" both occur in "xabcd"; "abc" starts first.
    StopMatcher whole({"abc", "bcd"});
    EXPECT_EQ(feed(whole, {"xabcd"}), "x");
    StopMatcher split({"abc", "bcd"});
    EXPECT_EQ(split.push("xab"), "x");
    EXPECT_EQ(split.push("cd"), "");
    EXPECT_TRUE(split.stopped());
    StopMatcher reversed({"bcd", "abc"});  // the order of the list does not matter
    EXPECT_EQ(feed(reversed, {"xa", "b", "c", "d"}), "x");
}

TEST(StopMatcher, TheEarliestStopInTheTextWins) {
    StopMatcher m({"STOP1", "END", "xyz"});
    EXPECT_EQ(m.push("hello END middle STOP1 tail"), "hello ");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, TheFirstStopToCompleteWinsAcrossPushes) {
    // "cd" completes while "abcdef" could still; generation stops at the completed one.
    StopMatcher m({"abcdef", "cd"});
    EXPECT_EQ(m.push("abc"), "");
    EXPECT_EQ(m.push("d"), "ab");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, StopAtTheVeryStart) {
    StopMatcher m({"\n\n"});
    EXPECT_EQ(m.push("\n"), "");
    EXPECT_EQ(m.push("\nrest"), "");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, EmptyPushesChangeNothing) {
    StopMatcher m({"ab"});
    EXPECT_EQ(m.push(""), "");
    EXPECT_EQ(m.push("a"), "");
    EXPECT_EQ(m.push(""), "");
    EXPECT_EQ(m.push("b"), "");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, ResetStartsOver) {
    StopMatcher m({"ab"});
    EXPECT_EQ(m.push("xab"), "x");
    m.reset();
    EXPECT_FALSE(m.stopped());
    EXPECT_EQ(m.push("a"), "");
    m.reset();
    EXPECT_EQ(m.finish(), "") << "held text is dropped by reset()";
    EXPECT_EQ(m.push("yy"), "yy");
}

TEST(StopMatcher, MultiByteUtf8StopStrings) {
    // Bytes, not characters: a stop of two 3-byte characters split inside a character.
    const std::string stop = "\xE3\x80\x82\xE2\x80\xA6";  // U+3002 U+2026
    StopMatcher m({stop});
    EXPECT_EQ(m.push("ok\xE3\x80"), "ok");
    EXPECT_EQ(m.push("\x82\xE2"), "");
    EXPECT_EQ(m.push("\x80\xA6 after"), "");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, EverySplitAgreesWithTheWholeText) {
    // No stop string here contains another, so the first to complete is also the
    // earliest in the whole text, however the text is split.
    const std::vector<std::string> stops = {"abc", "bcd", "cab", "dd", "aaaa"};
    const std::vector<std::string> texts = {"xabcd",        "zzcabc",    "aaabcaaaab", "abdcbdd",
                                            "nothing here", "aaab aaaa", "bcabca",     "ddd"};
    for (const std::string& text : texts) {
        const std::string want = reference(text, stops);
        for (size_t i = 0; i <= text.size(); ++i) {
            for (size_t j = i; j <= text.size(); ++j) {
                StopMatcher m(stops);
                EXPECT_EQ(feed(m, {text.substr(0, i), text.substr(i, j - i), text.substr(j)}), want)
                    << "text " << text << " split at " << i << ", " << j;
            }
        }
        StopMatcher bytewise(stops);
        std::vector<std::string> bytes;
        for (char c : text) bytes.emplace_back(1, c);
        EXPECT_EQ(feed(bytewise, bytes), want) << "text " << text << " byte by byte";
    }
}

TEST(StopMatcher, EmptyStopStringIsRejected) {
    try {
        StopMatcher m({"ok", ""});
        FAIL() << "accepted an empty stop string";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("stop string 2 of 2 is empty"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace loom::runtime
