// The fiber scheduler behind cuda_emu.h. See the header for the model.
#include "cuda_emu.h"

#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace nst::emu {

uint3 thread_idx, block_idx;
dim3 block_dim, grid_dim;

namespace {

// AddressSanitizer must be told when the stack changes under it, or it reports the fibers' frames as
// stack overflows and buffer errors. Each switch is bracketed: start (naming the stack we go to) and
// finish (once there). The scheduler's stack bounds are learnt when a fiber first arrives.
#if defined(__SANITIZE_ADDRESS__)
}  // namespace
}  // namespace nst::emu
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old);
namespace nst::emu {
namespace {
void start_switch(void** fake, const void* bottom, std::size_t size) { __sanitizer_start_switch_fiber(fake, bottom, size); }
void finish_switch(void* fake, const void** bottom, std::size_t* size) { __sanitizer_finish_switch_fiber(fake, bottom, size); }
#else
void start_switch(void**, const void*, std::size_t) {}
void finish_switch(void*, const void**, std::size_t*) {}
#endif
const void* g_scheduler_stack = nullptr;
std::size_t g_scheduler_stack_size = 0;

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
  finish_switch(nullptr, &g_scheduler_stack, &g_scheduler_stack_size);
  (*g_block->body)();
  g_block->fibers[g_block->current].state = State::Done;
  start_switch(nullptr, g_scheduler_stack, g_scheduler_stack_size);  // this stack is done
  // Returning ends the fiber: uc_link brings control back to the scheduler.
}

// Called by a fiber: park in `state` until the scheduler releases the barrier.
void wait(State state) {
  Block& b = *g_block;
  if (!g_block || b.current < 0) die("barrier outside a kernel");
  int me = b.current;
  b.fibers[me].state = state;
  void* fake = nullptr;
  start_switch(&fake, g_scheduler_stack, g_scheduler_stack_size);
  swapcontext(&b.fibers[me].ctx, &b.scheduler);
  finish_switch(fake, &g_scheduler_stack, &g_scheduler_stack_size);
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

// Makes fiber i's context start at fiber_main on its own stack.
void prepare(Block& b, int i) {
  Fiber& f = b.fibers[i];
  f.state = State::Ready;
  f.tid = uint3{unsigned(i) % block_dim.x, unsigned(i) / block_dim.x % block_dim.y, unsigned(i) / (block_dim.x * block_dim.y)};
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = b.stacks[i].get();
  f.ctx.uc_stack.ss_size = Block::kStackBytes;
  f.ctx.uc_link = &b.scheduler;
  makecontext(&f.ctx, fiber_main, 0);
}

// Runs fiber i until it parks at a barrier or returns. A function of its own, so that no local of the
// scheduler's loop lives across swapcontext (which, like setjmp, may clobber it).
__attribute__((noinline)) void resume(Block& b, int i) {
  b.current = i;
  thread_idx = b.fibers[i].tid;
  void* fake = nullptr;
  start_switch(&fake, b.stacks[i].get(), Block::kStackBytes);
  swapcontext(&b.scheduler, &b.fibers[i].ctx);
  finish_switch(fake, nullptr, nullptr);
}

void run_block(Block& b) {
  int n = int(b.fibers.size());
  for (int i = 0; i < n; ++i) prepare(b, i);
  std::fill(b.shared.begin(), b.shared.end(), 0);
  for (;;) {
    bool ran = false;
    for (int i = 0; i < n; ++i) {
      if (b.fibers[i].state != State::Ready) continue;
      resume(b, i);
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

namespace {

// The kernels this process ran, written to $NST_EMU_LAUNCH_LOG/<pid>.txt when it exits.
struct LaunchLog {
  std::set<std::string> names;
  ~LaunchLog() {
    const char* dir = std::getenv("NST_EMU_LAUNCH_LOG");
    if (!dir || !*dir || names.empty()) return;
    std::ofstream out(std::string(dir) + "/" + std::to_string(::getpid()) + ".txt");
    for (const std::string& n : names) out << n << "\n";
  }
};
LaunchLog g_launches;

}  // namespace

void record_launch(const char* name) {
  std::string n(name);
  g_launches.names.insert(n.substr(0, n.find('<')));  // pool_forward<max> is the kernel pool_forward
}

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
