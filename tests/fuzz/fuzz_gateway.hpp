// One real gateway for the fuzz targets that feed it frames: a started EAL (no hugepages, no PCI,
// 64 MiB), a control::Gateway on in-memory ring ports with fixed keys, one peer and a STUN and
// TURN server configured, stepped on the fuzzer's thread with a simulated clock. A target hands
// it a frame on the Internet or the LAN port, steps it, and everything it sent is drained.
//
// fuzz_gateway.cpp defines the targets' LLVMFuzzerInitialize, which creates it. The gateway
// lives for the whole fuzzing process (DPDK mempools live as long as the EAL), so
// state carries over between inputs as it does for a long-running daemon.
#pragma once

#include <rte_config.h>
#include <rte_ring.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/wire/headers.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::fuzz {

/// The fixed addresses of the fuzzed gateway's world.
struct World {
  static inline const wire::MacAddr kOuterMac{{0x02, 0, 0, 0, 0x22, 0x01}};  // ours, Internet
  static inline const wire::MacAddr kInnerMac{{0x02, 0, 0, 0, 0x11, 0x01}};  // ours, LAN
  static inline const wire::MacAddr kRouterMac{{0x02, 0, 0, 0, 0x22, 0x09}};
  static inline const wire::MacAddr kHostMac{{0x02, 0, 0, 0, 0x11, 0x0a}};
  static constexpr std::uint16_t kListen = 51820;
  static IpAddr outer_v4() { return *IpAddr::parse("198.51.100.2"); }
  static IpAddr peer_v4() { return *IpAddr::parse("198.51.100.3"); }   // the peer's endpoint
  static IpAddr turn_v4() { return *IpAddr::parse("198.51.100.10"); }  // STUN and TURN server
  static constexpr std::uint16_t kTurnPort = 3478;
  static IpAddr host_v4() { return *IpAddr::parse("10.1.0.2"); }       // a LAN host
  static IpAddr peer_host_v4() { return *IpAddr::parse("10.2.0.2"); }  // behind the peer
};

class FuzzGateway {
 public:
  /// The process's gateway, created (with the EAL) on first use; aborts if that fails.
  static FuzzGateway& get();

  /// The gateway's and the peer's static private keys (fixed test keys).
  static SecretKey gateway_key();
  static SecretKey peer_key();

  control::Gateway& gw() { return *gw_; }
  /// Queues a frame on the Internet (outer) or LAN (inner) port's RX ring; false when it does
  /// not fit an mbuf.
  bool inject(bool outer, const std::uint8_t* frame, std::size_t len);
  /// One step of the gateway (workers and control thread), the clock `dt` later. Then what it
  /// sent is taken off its TX rings: ARP requests and neighbour solicitations are answered (the
  /// Internet router and the LAN host own every address asked for), the rest is dropped after
  /// noting the last handshake initiation and the last STUN request it sent.
  void step(Nanos dt = millis(1));
  Nanos now() const { return now_; }
  WallTime wall() const;

  /// The last initiation the gateway sent to the peer (all zero: none yet).
  const wire::MessageInitiation& last_initiation() const { return last_initiation_; }
  /// The transaction ID of the last STUN or TURN request it sent (all zero: none yet).
  const std::array<std::uint8_t, 12>& last_stun_tid() const { return last_stun_tid_; }

  /// A UDP frame to our listen port from `from` (IPv4), carrying `payload`.
  static std::vector<std::uint8_t> udp_to_us(const Endpoint& from, const std::uint8_t* payload,
                                             std::size_t len);

 private:
  FuzzGateway();
  std::unique_ptr<control::Gateway> gw_;
  rte_ring *in_rx_ = nullptr, *in_tx_ = nullptr, *out_rx_ = nullptr, *out_tx_ = nullptr;
  void take_sent(bool outer);
  void answer_neighbour(bool outer, const std::uint8_t* f, std::size_t len);

  wire::MessageInitiation last_initiation_{};
  std::array<std::uint8_t, 12> last_stun_tid_{};
  Nanos now_ = 0;
  WallTime wall0_{};
  Nanos start_ = 0;
};

}  // namespace meshgate::fuzz
