// Fuzz target: any frame on the gateway's LAN port: ARP and neighbour discovery (control/local.cpp,
// neighbours), ICMP for the gateway's own address, and the outbound path (routing, staging for a
// peer without a session, ICMP errors built by the wire builders).
#include <cstddef>
#include <cstdint>

#include "fuzz_gateway.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& g = meshgate::fuzz::FuzzGateway::get();
  g.inject(false, data, size);
  g.step();
  return 0;
}
