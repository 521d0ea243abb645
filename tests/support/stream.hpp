// Numbered packets between two LAN hosts of RingGateways, for tests that must see every packet
// arrive once and unaltered (rekeys, churn, spreading over workers).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "lan_host.hpp"
#include "meshgate/base/bytes.hpp"
#include "packets.hpp"

namespace meshgate::test {

/// Numbered UDP packets from one LAN host to another, and what arrived of them.
class Stream {
 public:
  Stream(LanHost& from, LanHost& to, std::uint16_t port) : from_(from), to_(to), port_(port) {}

  /// The packet numbered `seq`: its number in the first 8 payload bytes, then a pattern of it.
  std::vector<std::uint8_t> packet(std::uint64_t seq) const {
    std::vector<std::uint8_t> payload = pattern(64 + seq % 512, static_cast<std::uint8_t>(seq));
    store_be64(payload.data(), seq);
    return udp_packet(from_.ip4, to_.ip4, port_, port_, payload);
  }
  bool send() {
    if (!from_.send_ip(packet(next_))) return false;
    ++next_;
    return true;
  }
  /// Takes this stream's packets out of the receiver's list; each must be one that was sent,
  /// unaltered but for the TTL the two gateways took off, and new.
  void collect() {
    auto& got = to_.received;
    for (auto it = got.begin(); it != got.end();) {
      if (it->size() < 28 + 8 || load_be16(it->data() + 22) != port_) {
        ++it;
        continue;
      }
      const std::uint64_t seq = load_be64(it->data() + 28);
      EXPECT_LT(seq, next_) << "a packet nobody sent";
      EXPECT_EQ(*it, forwarded(packet(seq), 2)) << "packet " << seq << " altered";
      if (!delivered_.empty() && seq < *delivered_.rbegin()) ++out_of_order_;
      EXPECT_TRUE(delivered_.insert(seq).second) << "packet " << seq << " delivered twice";
      it = got.erase(it);
    }
  }
  std::uint64_t sent() const { return next_; }
  std::uint64_t delivered() const { return delivered_.size(); }
  /// Packets that arrived after one sent later than them.
  std::uint64_t out_of_order() const { return out_of_order_; }

 private:
  LanHost& from_;
  LanHost& to_;
  std::uint16_t port_;
  std::uint64_t next_ = 0;
  std::set<std::uint64_t> delivered_;
  std::uint64_t out_of_order_ = 0;
};

}  // namespace meshgate::test
