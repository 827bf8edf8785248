// A per-thread free-list allocator for coroutine frames and task states.
//
// Why: a spawn+join costs a frame and a task state; glibc's malloc/free pair
// is ~20 ns each, the budget for the whole spawn+join is 60 ns. Blocks are
// kept per size class (multiples of 64 bytes up to 2 KiB) and never returned
// to malloc while the thread lives; larger blocks go straight to malloc.
//
// Under AddressSanitizer the pool is bypassed so that use-after-free and
// leaks of frames are still reported (ASan cannot see inside a free list).
#ifndef ASYNCSPEC_RUNTIME_DETAIL_POOL_H_
#define ASYNCSPEC_RUNTIME_DETAIL_POOL_H_

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ASYNCSPEC_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCSPEC_NO_POOL 1
#endif
#endif

namespace asyncspec::rt::detail {

class Pool {
 public:
  static constexpr std::size_t kGranule = 64;
  static constexpr std::size_t kClasses = 32;  // up to 2 KiB

  static void* Allocate(std::size_t n) {
#ifdef ASYNCSPEC_NO_POOL
    return ::operator new(n);
#else
    const std::size_t c = (n + kGranule - 1) / kGranule;
    if (c >= kClasses) return ::operator new(n);
    Node*& head = Heads()[c];
    if (Node* p = head) {
      head = p->next;
      return p;
    }
    return ::operator new(c * kGranule);
#endif
  }

  static void Free(void* p, std::size_t n) noexcept {
#ifdef ASYNCSPEC_NO_POOL
    (void)n;
    ::operator delete(p);
#else
    const std::size_t c = (n + kGranule - 1) / kGranule;
    if (c >= kClasses) {
      ::operator delete(p);
      return;
    }
    Node* node = static_cast<Node*>(p);
    node->next = Heads()[c];
    Heads()[c] = node;
#endif
  }

 private:
  struct Node {
    Node* next;
  };
  struct Lists {
    Node* heads[kClasses] = {};
    ~Lists() {
      for (Node* h : heads) {
        while (h) {
          Node* n = h->next;
          ::operator delete(h);
          h = n;
        }
      }
    }
  };
  static Node** Heads() {
    thread_local Lists lists;
    return lists.heads;
  }
};

}  // namespace asyncspec::rt::detail

#endif  // ASYNCSPEC_RUNTIME_DETAIL_POOL_H_
