// Fuzz target: STUN and TURN messages and coordination messages.
//  - the bytes as a STUN/TURN message, through nat/stun.cpp's parser and its attribute getters,
//    stun_auth's checks (long-term key), and nat/coord.cpp's decoder, directly;
//  - the same bytes as a UDP payload from the STUN and TURN server to the gateway's listen port,
//    through the worker's demux to the control thread's STUN client and TURN client (response
//    handling). When the first byte is odd, the message's transaction ID is replaced by the one of
//    the last request the gateway sent, so the fuzzer's answers match a request in flight.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_gateway.hpp"
#include "meshgate/nat/coord.hpp"
#include "meshgate/nat/stun.hpp"

namespace meshgate::fuzz {
namespace {

void parse_directly(const std::uint8_t* d, std::size_t n) {
  namespace stun = nat::stun;
  stun::Message m;
  if (stun::parse(d, n, m) == stun::ParseError::none) {
    (void)stun::get_xor_address(m, stun::attr::kXorMappedAddress);
    (void)stun::get_xor_address(m, stun::attr::kXorRelayedAddress);
    (void)stun::get_address(m, stun::attr::kMappedAddress);
    (void)stun::get_string(m, stun::attr::kRealm);
    (void)stun::get_string(m, stun::attr::kNonce);
    (void)stun::get_u32(m, stun::attr::kLifetime);
    (void)stun::get_error_code(m);
    (void)stun::get_channel_number(m);
    (void)stun::get_requested_transport(m);
    (void)stun::get_change_request(m);
    const auto key = stun::long_term_key("fuzz", "example.org", "fuzz-password");
    (void)stun::verify_message(m, as_bytes(key));
    (void)stun::check_fingerprint(m);
  }
  nat::coord::Message c;
  nat::coord::DecodeError why;
  if (nat::coord::decode(d, n, c, why)) {
    // What decodes must encode to something that decodes again (the lighthouse relays it).
    std::vector<std::uint8_t> out(nat::coord::kMaxMessageSize);
    const std::size_t len = nat::coord::encode(c, out.data());
    if (len > out.size() || !nat::coord::decode(out.data(), len, c, why)) __builtin_trap();
  }
}

}  // namespace
}  // namespace meshgate::fuzz

using meshgate::fuzz::FuzzGateway;
using meshgate::fuzz::World;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  meshgate::fuzz::parse_directly(data + 1, size - 1);
  auto& g = FuzzGateway::get();
  std::vector<std::uint8_t> msg(data + 1, data + size);
  if ((data[0] & 1) != 0 && msg.size() >= 20) {
    std::memcpy(msg.data() + 8, g.last_stun_tid().data(), g.last_stun_tid().size());
  }
  const auto frame =
      FuzzGateway::udp_to_us({World::turn_v4(), World::kTurnPort}, msg.data(), msg.size());
  g.inject(true, frame.data(), frame.size());
  g.step(meshgate::millis(10));
  return 0;
}
