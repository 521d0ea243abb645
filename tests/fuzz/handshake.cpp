// Fuzz target: WireGuard handshake messages (types 1-3) from the peer's endpoint, through the
// control thread's handshake path (Sessions: mac1/mac2 and cookies, the rate limiter,
// noise/handshake, KeySlots) of a gateway with a real identity (fixed test keys).
//
// The first input byte picks how the rest becomes the message, so the fuzzer gets past the checks
// a random message cannot pass (mac1 over the whole message, an AEAD over the static key):
//   mode 0  the bytes as they are;
//   mode 1  the bytes with mac1 computed over them with the gateway's public key, as the peer
//           would (types 1 and 2 of the right size);
//   mode 2  a real initiation from the peer (its sender index from the bytes), the rest of the
//           bytes XORed over it, then mac1: valid until the fuzzer flips a bit, then just past
//           mac1;
//   mode 3  the bytes as a response or cookie reply to the gateway's last initiation (its sender
//           index as receiver index), then mac1;
//   mode 4  the peer's real response to the gateway's last initiation, XORed and given mac1 the
//   same
//           way.
// Bit 0x80 of the first byte sends the message through the TURN server as ChannelData instead.
#include "meshgate/noise/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_gateway.hpp"
#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/wire/build.hpp"

namespace meshgate::fuzz {
namespace {

/// The peer's side of the handshake, with its fixed key, towards the gateway.
struct PeerSide {
  noise::StaticIdentity id;
  noise::Handshake hs;
  noise::CookieSender macs;      // computes mac1 with the gateway's public key
  noise::CookieChecker cookies;  // the peer's cookie replies to the gateway
  PeerSide() {
    id.set_private_key(FuzzGateway::peer_key());
    const Key32 gw = crypto::x25519_public(FuzzGateway::gateway_key());
    if (!noise::handshake_configure(hs, id, gw, nullptr)) __builtin_trap();
    macs.init(gw);
  }
};

PeerSide& peer() {
  static PeerSide p;
  return p;
}

template <class Msg>
void with_mac1(std::vector<std::uint8_t>& m, Nanos now) {
  if (m.size() != sizeof(Msg)) return;
  Msg msg;
  std::memcpy(&msg, m.data(), sizeof msg);
  peer().macs.add_macs(msg, now);
  std::memcpy(m.data(), &msg, sizeof msg);
}

void mac1_if_fits(std::vector<std::uint8_t>& m, Nanos now) {
  with_mac1<wire::MessageInitiation>(m, now);
  with_mac1<wire::MessageResponse>(m, now);
}

/// `base` with `mask` XORed over its start.
template <class Msg>
std::vector<std::uint8_t> xored(const Msg& base, const std::uint8_t* mask, std::size_t n) {
  std::vector<std::uint8_t> m(sizeof base);
  std::memcpy(m.data(), &base, sizeof base);
  for (std::size_t i = 0; i < n && i < m.size(); ++i) m[i] ^= mask[i];
  return m;
}

std::vector<std::uint8_t> real_initiation(FuzzGateway& g, const std::uint8_t* d, std::size_t n) {
  wire::MessageInitiation msg;
  const std::uint32_t index = n >= 4 ? load_le32(d) : 1;
  peer().hs.reset();
  (void)noise::create_initiation(msg, peer().hs, peer().id, index, g.wall());
  return xored(msg, d, n);
}

std::vector<std::uint8_t> real_response(FuzzGateway& g, const std::uint8_t* d, std::size_t n) {
  wire::MessageResponse msg{};
  noise::PendingInitiation pending;
  noise::Handshake& hs = peer().hs;
  hs.reset();
  hs.latest_timestamp = {};  // the peer takes every initiation as new
  hs.has_consumed_initiation = false;
  if (noise::decrypt_initiation_static(g.last_initiation(), peer().id, pending) ==
          noise::HandshakeDrop::none &&
      noise::consume_initiation(pending, g.last_initiation(), hs, g.now()) ==
          noise::HandshakeDrop::none) {
    (void)noise::create_response(msg, hs, peer().id, n >= 4 ? load_le32(d) : 1);
  }
  return xored(msg, d, n);
}

std::vector<std::uint8_t> real_cookie_reply(FuzzGateway& g, const std::uint8_t* d, std::size_t n) {
  wire::MessageCookieReply msg;
  peer().cookies.create_reply(msg, g.last_initiation(), peer().id,
                              {World::outer_v4(), World::kListen}, g.now());
  return xored(msg, d, n);
}

std::vector<std::uint8_t> message(FuzzGateway& g, unsigned mode, const std::uint8_t* d,
                                  std::size_t n) {
  std::vector<std::uint8_t> m(d, d + n);
  switch (mode) {
    case 2:
      m = real_initiation(g, d, n);
      break;
    case 3:  // receiver index at 8 in a response and at 4 in a cookie reply
      if (m.size() >= 12)
        store_le32(m.data() + (load_le32(m.data()) == 3 ? 4 : 8), g.last_initiation().sender_index);
      break;
    case 4:
      m = real_response(g, d, n);
      break;
    case 5:
      return real_cookie_reply(g, d, n);
    default:
      break;
  }
  if (mode != 0) mac1_if_fits(m, g.now());
  return m;
}

/// Every 256 inputs, a LAN packet for the peer's network: the gateway stages it and sends an
/// initiation when it has no session, so modes 3 and 4 have one to answer.
void want_initiation(FuzzGateway& g) {
  static unsigned calls = 0;
  if (calls++ % 256 != 0) return;
  std::uint8_t f[14 + 28 + 16] = {};
  wire::OuterTemplate::make(World::kHostMac, World::kInnerMac, World::host_v4(),
                            World::peer_host_v4(), 1234, 80)
      .write(f, 16, 1, 0);
  g.inject(false, f, sizeof f);
}

}  // namespace
}  // namespace meshgate::fuzz

using meshgate::fuzz::FuzzGateway;
using meshgate::fuzz::World;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& g = FuzzGateway::get();
  meshgate::fuzz::want_initiation(g);
  auto msg = meshgate::fuzz::message(g, (data[0] & 0x7f) % 6, data + 1, size - 1);
  meshgate::Endpoint from{World::peer_v4(), World::kListen};
  if ((data[0] & 0x80) != 0) {  // relayed: ChannelData from the TURN server
    std::vector<std::uint8_t> cd(meshgate::nat::stun::kChannelDataHeaderSize);
    meshgate::nat::stun::channel_data_header(cd.data(), meshgate::nat::stun::kChannelMin,
                                             static_cast<std::uint16_t>(msg.size()));
    cd.insert(cd.end(), msg.begin(), msg.end());
    cd.resize(meshgate::nat::stun::padded4(cd.size()));
    msg = std::move(cd);
    from = {World::turn_v4(), World::kTurnPort};
  }
  const auto frame = FuzzGateway::udp_to_us(from, msg.data(), msg.size());
  g.inject(true, frame.data(), frame.size());
  // 25 ms per input: past the gateway's minimum gap between initiations from one peer
  // (protocol.md 3.8), so a valid one is consumed rather than refused as a flood.
  g.step(meshgate::millis(25));
  return 0;
}
