// The fiber scheduler behind cuda_emu.h. See the header for the model.
#include "cuda_emu.h"

#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace nst::emu {

uint3 thread_idx, block_idx;
dim3 block_dim, grid_dim;

namespace {

enum class State { Ready, AtBlockBarrier, AtWarpBarrier, Done };

struct Fiber {
  ucontext_t ctx;
  State state = State::Ready;
  uint3 tid;
};

// One launch's scheduler: the block's fibers, their stacks, and the exchange slots for shuffles.
struct Block {
  static constexpr std::size_t kStackBytes = 64 * 1024;
  std::vector<Fiber> fibers;
  std::vector<std::unique_ptr<char[]>> stacks;
  std::vector<double> slots;  // one per thread: the value offered to a shuffle
  std::vector<unsigned char> shared;
  const std::function<void()>* body = nullptr;
  ucontext_t scheduler;
  int current = -1;
};

Block* g_block = nullptr;
cudaError_t g_last_error = cudaSuccess;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "cuda_emu: %s (block %u,%u,%u)\n", what, block_idx.x, block_idx.y, block_idx.z);
  std::abort();
}

void fiber_main() {
  (*g_block->body)();
  g_block->fibers[g_block->current].state = State::Done;
  // Returning ends the fiber: uc_link brings control back to the scheduler.
}

// Called by a fiber: park in `state` until the scheduler releases the barrier.
void wait(State state) {
  Block& b = *g_block;
  if (!g_block || b.current < 0) die("barrier outside a kernel");
  int me = b.current;
  b.fibers[me].state = state;
  swapcontext(&b.fibers[me].ctx, &b.scheduler);
}

int linear(const uint3& t) { return int(t.x + block_dim.x * (t.y + block_dim.y * t.z)); }

// Releases barriers whose every live participant has arrived; false when nothing could be released.
bool release(Block& b) {
  bool any = false;
  int n = int(b.fibers.size()), live = 0, at_block = 0;
  for (const Fiber& f : b.fibers) {
    live += f.state != State::Done;
    at_block += f.state == State::AtBlockBarrier;
  }
  if (live > 0 && at_block == live) {
    for (Fiber& f : b.fibers)
      if (f.state == State::AtBlockBarrier) f.state = State::Ready;
    return true;
  }
  for (int w0 = 0; w0 < n; w0 += kWarpSize) {
    int w1 = std::min(n, w0 + kWarpSize), wl = 0, wa = 0;
    for (int i = w0; i < w1; ++i) {
      wl += b.fibers[i].state != State::Done;
      wa += b.fibers[i].state == State::AtWarpBarrier;
    }
    if (wl > 0 && wa == wl) {
      for (int i = w0; i < w1; ++i)
        if (b.fibers[i].state == State::AtWarpBarrier) b.fibers[i].state = State::Ready;
      any = true;
    }
  }
  return any;
}

void run_block(Block& b) {
  int n = int(b.fibers.size());
  for (int i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    f.state = State::Ready;
    f.tid = uint3{unsigned(i) % block_dim.x, unsigned(i) / block_dim.x % block_dim.y, unsigned(i) / (block_dim.x * block_dim.y)};
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = b.stacks[i].get();
    f.ctx.uc_stack.ss_size = Block::kStackBytes;
    f.ctx.uc_link = &b.scheduler;
    makecontext(&f.ctx, fiber_main, 0);
  }
  std::fill(b.shared.begin(), b.shared.end(), 0);
  for (;;) {
    bool ran = false;
    for (int i = 0; i < n; ++i) {
      if (b.fibers[i].state != State::Ready) continue;
      b.current = i;
      thread_idx = b.fibers[i].tid;
      swapcontext(&b.scheduler, &b.fibers[i].ctx);
      ran = true;
    }
    b.current = -1;
    bool done = true;
    for (const Fiber& f : b.fibers) done &= f.state == State::Done;
    if (done) return;
    if (!release(b) && !ran) die("deadlock: threads wait at different barriers (divergent __syncthreads/__syncwarp)");
  }
}

}  // namespace

cudaError_t launch(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, const std::function<void()>& body) {
  unsigned threads = block.x * block.y * block.z;
  if (grid.x * grid.y * grid.z == 0 || threads == 0 || threads > kMaxThreadsPerBlock ||
      dynamic_shared_bytes > kMaxSharedBytes) {
    g_last_error = cudaErrorInvalidConfiguration;
    return g_last_error;
  }
  if (g_block) die("nested launch");
  Block b;
  b.fibers.resize(threads);
  b.stacks.resize(threads);
  for (auto& s : b.stacks) s = std::make_unique<char[]>(Block::kStackBytes);
  b.slots.assign(threads, 0.0);
  b.shared.assign(dynamic_shared_bytes, 0);
  b.body = &body;
  g_block = &b;
  grid_dim = grid;
  block_dim = block;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        block_idx = uint3{x, y, z};
        run_block(b);
      }
  g_block = nullptr;
  return cudaSuccess;
}

void syncthreads() { wait(State::AtBlockBarrier); }
void syncwarp() { wait(State::AtWarpBarrier); }

void* dynamic_shared() {
  if (!g_block) die("dynamic shared memory outside a kernel");
  return g_block->shared.data();
}

int lane_id() { return linear(thread_idx) % kWarpSize; }

double exchange(double value, int src_lane) {
  Block& b = *g_block;
  int me = linear(thread_idx), base = me - me % kWarpSize;
  b.slots[me] = value;
  syncwarp();  // every lane has offered its value
  int src = base + src_lane;
  double got = (src < int(b.fibers.size()) && b.fibers[src].state != State::Done) ? b.slots[src] : value;
  syncwarp();  // every lane has read before anyone offers again
  return got;
}

}  // namespace nst::emu

cudaError_t cudaGetLastError() {
  cudaError_t e = nst::emu::g_last_error;
  nst::emu::g_last_error = cudaSuccess;
  return e;
}
