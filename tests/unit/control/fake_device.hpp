// An in-memory uapi::Device for the unit tests: what each set call leaves, in plain maps.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "meshgate/control/uapi.hpp"

namespace meshgate::control::uapi {

struct FakePeer {
  SecretKey psk;
  Endpoint endpoint;
  std::uint16_t keepalive = 0;
  std::vector<std::string> allowed;
};

class FakeDevice : public Device {
 public:
  std::optional<SecretKey> private_key;
  Key32 own{};
  std::uint16_t port = 51820;
  std::uint32_t mark = 0;
  std::map<Key32, FakePeer> peers;
  int calls = 0;  // mutating calls

  DeviceInfo get() override {
    DeviceInfo d;
    d.private_key = private_key;
    d.listen_port = port;
    d.fwmark = mark;
    for (const auto& [k, p] : peers) {
      PeerInfo& i = d.peers.emplace_back();
      i.public_key = k;
      i.preshared_key = p.psk;
      i.endpoint = p.endpoint;
      i.persistent_keepalive = p.keepalive;
      i.allowed_ips = p.allowed;
      i.rx_bytes = 100;
      i.tx_bytes = 200;
      i.last_handshake = {1700000000, 5};
    }
    return d;
  }
  Key32 public_key() override { return own; }
  int set_private_key(const SecretKey& k) override {
    ++calls;
    if (k.is_zero()) {
      private_key.reset();
    } else {
      private_key = k;
    }
    return 0;
  }
  int set_listen_port(std::uint16_t p) override {
    ++calls;
    port = p;
    return 0;
  }
  int set_fwmark(std::uint32_t m) override {
    ++calls;
    mark = m;
    return 0;
  }
  std::optional<config::Role> role;
  int set_role(config::Role r) override {
    ++calls;
    role = r;
    return 0;
  }
  int remove_all_peers() override {
    ++calls;
    peers.clear();
    return 0;
  }
  bool has_peer(const Key32& k) override { return peers.count(k) != 0; }
  int add_peer(const Key32& k) override {
    ++calls;
    peers[k];
    return 0;
  }
  int remove_peer(const Key32& k) override {
    ++calls;
    peers.erase(k);
    return 0;
  }
  int set_preshared_key(const Key32& k, const SecretKey& psk) override {
    ++calls;
    peers[k].psk = psk;
    return 0;
  }
  int set_endpoint(const Key32& k, const Endpoint& e) override {
    ++calls;
    peers[k].endpoint = e;
    return 0;
  }
  int set_persistent_keepalive(const Key32& k, std::uint16_t s) override {
    ++calls;
    peers[k].keepalive = s;
    return 0;
  }
  int replace_allowed_ips(const Key32& k, const std::vector<Prefix>& list) override {
    ++calls;
    peers[k].allowed.clear();
    for (const Prefix& p : list) {
      for (auto& [other, op] : peers) std::erase(op.allowed, p.str());
      peers[k].allowed.push_back(p.str());
    }
    return 0;
  }
  int add_allowed_ip(const Key32& k, const Prefix& p) override {
    ++calls;
    for (auto& [other, op] : peers) std::erase(op.allowed, p.str());  // stolen, as WireGuard does
    peers[k].allowed.push_back(p.str());
    return 0;
  }
  int remove_allowed_ip(const Key32& k, const Prefix& p) override {
    ++calls;
    std::erase(peers[k].allowed, p.str());
    return 0;
  }
};

}  // namespace meshgate::control::uapi
