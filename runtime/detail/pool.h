// A per-thread free-list allocator for coroutine frames and task states.
//
// Why: a spawn+join costs a frame and a task state; glibc's malloc/free pair
// is ~20 ns each, the budget for the whole spawn+join is 60 ns. Blocks are
// kept per size class (multiples of 32 bytes up to 2 KiB), carved from
// 64 KiB chunks, and never returned to malloc while the thread lives;
// larger blocks go straight to malloc. Precondition: a block is freed on the
// thread that allocated it (one loop per thread).
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
  static constexpr std::size_t kGranule = 32;
  static constexpr std::size_t kClasses = 64;  // up to 2 KiB
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  static void* Allocate(std::size_t n) {
#ifdef ASYNCSPEC_NO_POOL
    return ::operator new(n);
#else
    const std::size_t c = (n + kGranule - 1) / kGranule;
    if (c >= kClasses) return ::operator new(n);
    Lists& l = Get();
    Node* p = l.heads[c];
    if (!p) p = l.Refill(c);
    l.heads[c] = p->next;
    return p;
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
    Lists& l = Get();
    Node* node = static_cast<Node*>(p);
    node->next = l.heads[c];
    l.heads[c] = node;
#endif
  }

 private:
  struct Node {
    Node* next;
  };
  // Blocks are carved from 64 KiB chunks, so a burst of a million spawns
  // costs a few thousand mallocs, not a million. Chunks are freed when the
  // thread ends.
  struct Lists {
    Node* heads[kClasses] = {};
    Node* chunks = nullptr;  // each chunk's first word links the next
    Node* Refill(std::size_t c) {
      const std::size_t block = c * kGranule;
      char* chunk = static_cast<char*>(::operator new(kChunkBytes));
      reinterpret_cast<Node*>(chunk)->next = chunks;
      chunks = reinterpret_cast<Node*>(chunk);
      Node* head = nullptr;
      // The first granule holds the chunk link; blocks follow.
      const std::size_t count = (kChunkBytes - kGranule) / block;
      for (std::size_t i = count; i-- > 0;) {
        Node* b = reinterpret_cast<Node*>(chunk + kGranule + i * block);
        b->next = head;
        head = b;
      }
      heads[c] = head;
      return head;
    }
    ~Lists() {
      while (chunks) {
        Node* next = chunks->next;
        ::operator delete(chunks);
        chunks = next;
      }
    }
  };
  static Lists& Get() {
    thread_local Lists lists;
    return lists;
  }
};

}  // namespace asyncspec::rt::detail

#endif  // ASYNCSPEC_RUNTIME_DETAIL_POOL_H_
