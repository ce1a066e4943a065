// Global operator new/delete replaced to count allocations (see alloc_counter.h). In its
// own translation unit so that no caller sees new and free paired inline.
#include "alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local bool g_counting = false;
thread_local long g_count = 0;
}  // namespace

// Every unaligned form, so that no pointer from malloc reaches a sanitizer's own delete
// (or the reverse); the aligned forms stay the runtime's, paired among themselves.
namespace {
void* counted_malloc(std::size_t size) noexcept {
    if (g_counting) ++g_count;
    return std::malloc(size == 0 ? 1 : size);
}
void* counted_new(std::size_t size) {
    if (void* p = counted_malloc(size)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) {
    return counted_new(size);
}
void* operator new[](std::size_t size) {
    return counted_new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return counted_malloc(size);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

namespace loom::test {

AllocationCounter::AllocationCounter() {
    g_count = 0;
    g_counting = true;
}
AllocationCounter::~AllocationCounter() {
    g_counting = false;
}
long AllocationCounter::count() const {
    return g_count;
}

}  // namespace loom::test
