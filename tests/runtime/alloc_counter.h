// Counts operator new calls on the current thread while a scope is active, for tests
// that check "nothing is allocated per token". alloc_counter.cpp replaces the global
// operator new/delete of the test binary (forwarding to malloc/free): the only way to
// see every allocation, vector growth included. Inert while no counter is active.
#pragma once

namespace loom::test {

class AllocationCounter {
public:
    AllocationCounter();   // starts counting on this thread (not nestable)
    ~AllocationCounter();  // stops
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;

    long count() const;  // operator new calls since construction
};

}  // namespace loom::test
