// Fuzz target: any frame on the gateway's Internet port, through the worker's admission and
// classification (admit_frame, classify_frame, the listen-port rules, nat::stun::demux,
// unwrap_channel_data) and on to whatever takes it: the AEAD open and replay window, the control
// thread's handshake, STUN/TURN, ARP/ND and local-traffic handling.
#include <cstddef>
#include <cstdint>

#include "fuzz_gateway.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& g = meshgate::fuzz::FuzzGateway::get();
  g.inject(true, data, size);
  g.step();
  return 0;
}
