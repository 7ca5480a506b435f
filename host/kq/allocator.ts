/**
 * Which end of a link may allocate a unit: even indexes the end whose ID sorts first, odd the
 * other. Both ends compute the same answer, so they never pick the same unit for two operations.
 */
export function linkAllocator(ends: readonly [string, string], index: number): string {
  const [a, b] = ends[0] < ends[1] ? ends : [ends[1], ends[0]];
  return index % 2 === 0 ? a : b;
}
