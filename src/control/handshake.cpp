// Handshake messages on the control thread (protocol.md 3, 3.8-3.10, 5).
#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "meshgate/control/control.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

namespace {

/// Kernel-style "under load": this many handshake packets waiting makes mac2 mandatory.
constexpr unsigned kUnderLoadBacklog = 128;
constexpr Nanos kUnderLoadLinger = seconds(1);

template <class Msg>
const Msg& as(const std::uint8_t* p) {
  return *reinterpret_cast<const Msg*>(p);
}

}  // namespace

bool Control::under_load(Nanos now) {
  if (rte_ring_count(dp_.to_control) >= kUnderLoadBacklog) under_load_until_ = now + kUnderLoadLinger;
  return now < under_load_until_;
}

template <class Msg>
bool Control::admit(const Msg& msg, const Endpoint& src, Nanos now) {
  // protocol.md 3.8: mac1 always, before any DH; under load, mac2 or a cookie reply, then the
  // per-source rate limiter.
  const bool load = under_load(now);
  switch (cookie_checker_.validate(msg, identity_, src, load, now)) {
    case noise::MacVerdict::invalid_mac1:
      ++stats_.handshake_drops[static_cast<int>(noise::HandshakeDrop::bad_mac1)];
      return false;
    case noise::MacVerdict::valid_mac1:
      if (!load) return true;
      {
        wire::MessageCookieReply reply;
        cookie_checker_.create_reply(reply, msg, identity_, src, now);
        send_udp(src, reinterpret_cast<const std::uint8_t*>(&reply), sizeof reply, now);
        ++stats_.cookies_sent;
      }
      return false;
    case noise::MacVerdict::valid_mac1_and_mac2:
      if (load && !rate_limiter_.allow(src, now)) {
        ++stats_.rate_limited;
        return false;
      }
      return true;
  }
  return false;
}

void Control::handle_handshake(rte_mbuf* m, Nanos now, WallTime wall) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  wire::FrameInfo f = wire::classify_frame(p, m->data_len);
  if (!f.ok()) return;
  const std::uint8_t* msg = p + f.payload_off;
  const std::size_t len = f.payload_len;
  const Endpoint src{f.is_v6() ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port};
  const std::uint32_t type = load_le32(msg);
  const bool size_ok = (type == 1 && len == wire::spec::kInitiationSize) ||
                       (type == 2 && len == wire::spec::kResponseSize) ||
                       (type == 3 && len == wire::spec::kCookieReplySize);
  if (!size_ok) {
    tx_.drops().add(dataplane::Drop::wg_bad_size);
    return;
  }
  if (type == 1) {
    handle_initiation(msg, src, now, wall);
  } else if (type == 2) {
    handle_response(msg, src, now, wall);
  } else {
    handle_cookie_reply(msg, now);
  }
}

void Control::handle_initiation(const std::uint8_t* raw, const Endpoint& src, Nanos now,
                                WallTime wall) {
  const auto& msg = as<wire::MessageInitiation>(raw);
  ++stats_.initiations_received;
  if (!identity_.has_private_key) return;
  if (!admit(msg, src, now)) return;

  PeerId peer = dataplane::kNoPeer;
  auto lookup = [&](const Key32& key) -> noise::Handshake* {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return nullptr;
    peer = it->second;
    return &peers_[peer]->hs;
  };
  noise::Handshake* hs = nullptr;
  noise::HandshakeDrop d = noise::consume_initiation(msg, identity_, lookup, now, &hs);
  if (d != noise::HandshakeDrop::none) {
    ++stats_.handshake_drops[static_cast<int>(d)];
    return;
  }
  PeerState& ps = *peers_[peer];
  // An authenticated initiation replaces whatever handshake we had in flight (protocol.md 3.10).
  if (ps.pending_index != 0) {
    handshake_index_.erase(ps.pending_index);
    dp_.keypairs.free(ps.pending_index);
    ps.pending_index = 0;
  }
  ps.settings.endpoint = src;
  update_route(peer, now);
  ps.timers.on_any_authenticated_packet_received(now);
  ps.timers.on_any_authenticated_packet_traversal(now);

  auto index = dp_.keypairs.reserve();
  if (!index) return;
  wire::MessageResponse resp;
  d = noise::create_response(resp, ps.hs, identity_, *index);
  noise::Keypair kp;
  if (d == noise::HandshakeDrop::none) d = noise::begin_session(ps.hs, kp, now);
  if (d != noise::HandshakeDrop::none) {
    dp_.keypairs.free(*index);
    ++stats_.handshake_drops[static_cast<int>(d)];
    return;
  }
  ps.cookie.add_macs(resp, now);
  install_keypair(peer, kp, /*initiator=*/false, now);
  send_udp(src, reinterpret_cast<const std::uint8_t*>(&resp), sizeof resp, now);
  ++stats_.responses_sent;
  ps.timers.on_handshake_response_sent(now);
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
  (void)wall;
}

void Control::handle_response(const std::uint8_t* raw, const Endpoint& src, Nanos now,
                              WallTime wall) {
  const auto& msg = as<wire::MessageResponse>(raw);
  ++stats_.responses_received;
  if (!identity_.has_private_key) return;
  if (!admit(msg, src, now)) return;
  auto it = handshake_index_.find(load_le32(&msg.receiver_index));
  if (it == handshake_index_.end()) {
    ++stats_.handshake_drops[static_cast<int>(noise::HandshakeDrop::unknown_index)];
    return;
  }
  const PeerId peer = it->second;
  PeerState& ps = *peers_[peer];
  noise::HandshakeDrop d = noise::consume_response(msg, ps.hs, identity_);
  noise::Keypair kp;
  if (d == noise::HandshakeDrop::none) d = noise::begin_session(ps.hs, kp, now);
  if (d != noise::HandshakeDrop::none) {
    ++stats_.handshake_drops[static_cast<int>(d)];
    return;
  }
  ps.settings.endpoint = src;
  update_route(peer, now);
  install_keypair(peer, kp, /*initiator=*/true, now);
  ps.timers.on_handshake_complete(now, wall);
  log_peer(peer, "handshake complete (initiator)");
  ps.timers.on_any_authenticated_packet_received(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
  // Key confirmation for the responder: our queued data, or a keepalive (protocol.md 3.5 step 4).
  if (ps.staged.empty()) {
    send_keepalive(peer, now);
  } else {
    flush_staged(peer, now);
  }
}

void Control::handle_cookie_reply(const std::uint8_t* raw, Nanos now) {
  const auto& msg = as<wire::MessageCookieReply>(raw);
  const std::uint32_t index = load_le32(&msg.receiver_index);
  PeerId peer = dataplane::kNoPeer;
  if (auto it = handshake_index_.find(index); it != handshake_index_.end()) {
    peer = it->second;
  } else if (dataplane::Keypair* kp = dp_.keypairs.lookup(index)) {
    peer = kp->peer;
  }
  if (peer == dataplane::kNoPeer || peer >= peers_.size() || !peers_[peer]) {
    ++stats_.handshake_drops[static_cast<int>(noise::HandshakeDrop::unknown_index)];
    return;
  }
  noise::HandshakeDrop d = peers_[peer]->cookie.consume_reply(msg, now);
  if (d != noise::HandshakeDrop::none) {
    ++stats_.handshake_drops[static_cast<int>(d)];
    return;
  }
  ++stats_.cookies_received;
}

void Control::send_initiation(PeerId peer, Nanos now, WallTime wall, bool retry) {
  PeerState& ps = *peers_[peer];
  if (!identity_.has_private_key || !ps.settings.endpoint.known()) return;
  if (!ps.timers.prepare_initiation(now, retry)) return;
  if (ps.pending_index != 0) {
    handshake_index_.erase(ps.pending_index);
    dp_.keypairs.free(ps.pending_index);
    ps.pending_index = 0;
  }
  auto index = dp_.keypairs.reserve();
  if (!index) return;
  wire::MessageInitiation msg;
  noise::HandshakeDrop d = noise::create_initiation(msg, ps.hs, identity_, *index, wall);
  if (d != noise::HandshakeDrop::none) {
    dp_.keypairs.free(*index);
    ++stats_.handshake_drops[static_cast<int>(d)];
    return;
  }
  ps.cookie.add_macs(msg, now);
  ps.pending_index = *index;
  handshake_index_[*index] = peer;
  send_udp(ps.settings.endpoint, reinterpret_cast<const std::uint8_t*>(&msg), sizeof msg, now);
  ++stats_.initiations_sent;
  ps.timers.on_handshake_initiated(now);
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
}

void Control::send_keepalive(PeerId peer, Nanos now) {
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr) return;
  if (tx_.send_to_peer(peer, &m, 1, now) == 0) {
    // No session: a keepalive that cannot go out asks for a handshake, as the kernel's does.
    rte_pktmbuf_free(m);
    send_initiation(peer, now, wall_now(), false);
    return;
  }
  tx_.flush();
  ++stats_.keepalives_sent;
  PeerState& ps = *peers_[peer];
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
}

}  // namespace meshgate::control
