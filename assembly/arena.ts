// Shared by every kernel: one scratch arena starting at the heap base. The host asks for the
// bytes a call needs, lays out inputs and outputs inside, and calls the kernel with pointers.
// Kernels never allocate per call, so there is nothing to free and no GC in the hot path.

// @ts-ignore: decorator
@inline const PAGE: usize = 65536;

/** Returns the (64-byte aligned) start of a scratch region of at least `bytes` bytes. */
export function arena(bytes: usize): usize {
  const base = (__heap_base + 63) & ~<usize>63;
  const end = base + bytes;
  const have = <usize>memory.size() * PAGE;
  if (end > have) {
    const need = <i32>((end - have + PAGE - 1) / PAGE);
    if (memory.grow(need) < 0) return 0;
  }
  return base;
}
