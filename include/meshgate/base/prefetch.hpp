// Prefetches the compiler keeps: the only ones the project uses (tools/check-prefetch).
//
// GCC takes __builtin_prefetch for an instruction without side effects. A function whose only
// work is prefetching (a helper that walks a burst and asks for its lines) is then found to be
// pure by its interprocedural analysis, and every call to it is deleted: the source reads as if
// the lines were asked for, the binary never asks. An asm statement marked volatile is kept
// wherever it is written; like the builtin, a prefetch never faults, whatever the address.
#pragma once

namespace meshgate {

/// Asks for the line holding `p` in every cache level, to read.
inline void prefetch_read(const void* p) noexcept {
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
}

/// Asks for the line holding `p` in every cache level, owned, as for a store: a line another
/// core holds is taken from it now rather than at the store.
inline void prefetch_write(const void* p) noexcept {
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
}

}  // namespace meshgate
