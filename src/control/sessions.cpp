// Handshakes and sessions on the control thread (sessions.hpp).
#include "meshgate/control/sessions.hpp"

#include <rte_config.h>
#include <rte_ring.h>

#include "meshgate/control/tunables.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::control {

namespace {

template <class Msg>
const Msg& as(const std::uint8_t* p) {
  return *reinterpret_cast<const Msg*>(p);
}

}  // namespace

std::vector<PeerId> Sessions::set_private_key(const SecretKey& key) {
  identity_.set_private_key(key);
  std::vector<PeerId> ours;
  for (PeerId id : p_.peers.ids()) {
    if (identity_.has_private_key &&
        p_.peers.find(id)->settings.public_key == identity_.public_key) {
      ours.push_back(id);
      continue;
    }
    (void)configure(id);
    zero(id);
  }
  return ours;
}

Status Sessions::configure(PeerId peer) {
  if (!identity_.has_private_key) return ok_status();
  PeerState& ps = *p_.peers.find(peer);
  const SecretKey* psk = ps.settings.preshared_key ? &*ps.settings.preshared_key : nullptr;
  return noise::handshake_configure(ps.hs, identity_, ps.settings.public_key, psk);
}

void Sessions::count(noise::HandshakeDrop d) {
  ++stats_.handshake_drops[static_cast<int>(d)];
  p_.log.drop(noise::to_string(d), noise::describe(d));
}

bool Sessions::under_load(Nanos now) {
  rte_ring* queue = p_.dp.handshakes != nullptr ? p_.dp.handshakes : p_.dp.to_control;
  if (rte_ring_count(queue) >= impl::kUnderLoadBacklog) {
    under_load_until_ = now + impl::kUnderLoadLinger;
  }
  return now < under_load_until_;
}

template <class Msg>
bool Sessions::admit(const Msg& msg, const Endpoint& src, Nanos now) {
  // protocol.md 3.8: mac1 always, before any DH; under load, mac2 or a cookie reply,
  // then the per-source rate limiter.
  const bool load = under_load(now);
  switch (cookie_checker_.validate(msg, identity_, src, load, now)) {
    case noise::MacVerdict::invalid_mac1:
      count(noise::HandshakeDrop::bad_mac1);
      return false;
    case noise::MacVerdict::valid_mac1:
      if (!load) return true;
      {
        wire::MessageCookieReply reply;
        cookie_checker_.create_reply(reply, msg, identity_, src, now);
        send_udp(src, &reply, sizeof reply, now);
        ++stats_.cookies_sent;
        count(noise::HandshakeDrop::cookie_required);
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

void Sessions::handle(rte_mbuf* m, Nanos now, WallTime wall) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const wire::FrameInfo f = wire::classify_frame(p, m->data_len);
  if (!f.ok()) {
    p_.drops.add(f.drop);
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint8_t* msg = p + f.payload_off;
  std::size_t len = f.payload_len;
  Endpoint src{f.is_v6() ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port};
  // Relayed by our TURN server (the worker unwrapped it by the same rule): the message inside,
  // from the relayed endpoint, so the answer goes back through the relay.
  if (const nat::stun::Demuxed d = nat::stun::demux(msg, len);
      d.kind == nat::stun::PayloadKind::channel_data) {
    const dataplane::Relayed r = dataplane::unwrap_channel_data(d, msg, src, p_.dp.turn_server);
    if (!r.ok()) {
      p_.drops.add(r.drop);
      rte_pktmbuf_free(m);
      return;
    }
    msg += nat::stun::kChannelDataHeaderSize;
    len = r.len;
    src = r.source;
  }
  const std::uint32_t type = load_le32(msg);
  if (!wire::is_handshake_message(msg, len)) {
    p_.drops.add(dataplane::Drop::wg_bad_size);
  } else if (type == 1) {
    handle_initiation(msg, src, now);
  } else if (type == 2) {
    handle_response(msg, src, now, wall);
  } else {
    handle_cookie_reply(msg, now);
  }
  rte_pktmbuf_free(m);
}

void Sessions::learn_endpoint(PeerId peer, const Endpoint& src, Nanos now) {
  p_.peers.find(peer)->settings.endpoint = src;
  if (p_.routes.update(peer, now)) p_.staging.flush(peer, now);
}

void Sessions::handle_initiation(const std::uint8_t* raw, const Endpoint& src, Nanos now) {
  const auto& msg = as<wire::MessageInitiation>(raw);
  ++stats_.initiations_received;
  if (!identity_.has_private_key) return count(noise::HandshakeDrop::no_identity);
  if (!admit(msg, src, now)) return;

  PeerId peer = dataplane::kNoPeer;
  auto lookup = [&](const Key32& key) -> noise::Handshake* {
    const auto id = p_.peers.find(key);
    if (!id) return nullptr;
    peer = *id;
    return &p_.peers.find(peer)->hs;
  };
  noise::Handshake* hs = nullptr;
  noise::HandshakeDrop d = noise::consume_initiation(msg, identity_, lookup, now, &hs);
  if (d != noise::HandshakeDrop::none) return count(d);
  PeerState& ps = *p_.peers.find(peer);
  // An authenticated initiation replaces whatever handshake we had in flight (protocol.md 3.10).
  p_.keys.drop_pending(peer);
  count_bytes(peer, sizeof msg, false);
  learn_endpoint(peer, src, now);
  ps.timers.on_any_authenticated_packet_received(now);
  ps.timers.on_any_authenticated_packet_traversal(now);

  const auto index = p_.keys.reserve();
  if (!index) return count(noise::HandshakeDrop::no_free_index);
  wire::MessageResponse resp;
  d = noise::create_response(resp, ps.hs, identity_, *index);
  noise::SessionKeys kp;
  if (d == noise::HandshakeDrop::none) d = noise::begin_session(ps.hs, kp, now);
  if (d != noise::HandshakeDrop::none) {
    p_.keys.release(*index);
    return count(d);
  }
  ps.cookie.add_macs(resp, now);
  p_.keys.install(peer, kp, /*initiator=*/false, p_.routes.tag(peer));
  ++ps.handshakes;
  ps.timers.on_session_derived(now);
  if (send_udp(src, &resp, sizeof resp, now)) count_bytes(peer, sizeof resp, true);
  ++stats_.responses_sent;
  ps.timers.on_handshake_response_sent(now);
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
}

void Sessions::handle_response(const std::uint8_t* raw, const Endpoint& src, Nanos now,
                               WallTime wall) {
  const auto& msg = as<wire::MessageResponse>(raw);
  ++stats_.responses_received;
  if (!identity_.has_private_key) return count(noise::HandshakeDrop::no_identity);
  if (!admit(msg, src, now)) return;
  const auto peer = p_.keys.pending_peer(load_le32(&msg.receiver_index));
  if (!peer) return count(noise::HandshakeDrop::unknown_index);
  PeerState& ps = *p_.peers.find(*peer);
  noise::HandshakeDrop d = noise::consume_response(msg, ps.hs, identity_);
  noise::SessionKeys kp;
  if (d == noise::HandshakeDrop::none) d = noise::begin_session(ps.hs, kp, now);
  if (d != noise::HandshakeDrop::none) return count(d);
  count_bytes(*peer, sizeof msg, false);
  learn_endpoint(*peer, src, now);
  p_.keys.install(*peer, kp, /*initiator=*/true, p_.routes.tag(*peer));
  ++ps.handshakes;
  ps.timers.on_session_derived(now);
  ps.timers.on_handshake_complete(now, wall);
  p_.log.peer(ps, "handshake complete (initiator)");
  ps.timers.on_any_authenticated_packet_received(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
  // Key confirmation for the responder: our queued data, or a keepalive (protocol.md 3.5 step 4).
  if (p_.staging.count(*peer) == 0) {
    send_keepalive(*peer, now);
  } else {
    p_.staging.flush(*peer, now);
  }
}

void Sessions::handle_cookie_reply(const std::uint8_t* raw, Nanos now) {
  const auto& msg = as<wire::MessageCookieReply>(raw);
  const std::uint32_t index = load_le32(&msg.receiver_index);
  PeerId peer = dataplane::kNoPeer;
  if (const auto pending = p_.keys.pending_peer(index)) {
    peer = *pending;
  } else if (const dataplane::Keypair* kp = p_.dp.keypairs.lookup(index)) {
    peer = kp->peer;
  }
  PeerState* ps = peer == dataplane::kNoPeer ? nullptr : p_.peers.find(peer);
  if (ps == nullptr) return count(noise::HandshakeDrop::unknown_index);
  const noise::HandshakeDrop d = ps->cookie.consume_reply(msg, now);
  if (d != noise::HandshakeDrop::none) return count(d);
  ++stats_.cookies_received;
}

void Sessions::send_initiation(PeerId peer, Nanos now, WallTime wall, bool retry) {
  PeerState& ps = *p_.peers.find(peer);
  if (!identity_.has_private_key || !ps.settings.endpoint.known()) return;
  // A standby sends nothing; not even the timers may count an initiation as sent, so the one
  // Control::set_role starts on becoming active goes out at once.
  if (p_.dp.standby.load(std::memory_order_relaxed)) return;
  if (!ps.timers.prepare_initiation(now, retry)) return;
  p_.keys.drop_pending(peer);
  const auto index = p_.keys.reserve();
  if (!index) return count(noise::HandshakeDrop::no_free_index);
  wire::MessageInitiation msg;
  const noise::HandshakeDrop d = noise::create_initiation(msg, ps.hs, identity_, *index, wall);
  if (d != noise::HandshakeDrop::none) {
    p_.keys.release(*index);
    return count(d);
  }
  ps.cookie.add_macs(msg, now);
  p_.keys.set_pending(peer, *index);
  if (send_udp(ps.settings.endpoint, &msg, sizeof msg, now)) count_bytes(peer, sizeof msg, true);
  ps.last_initiation = msg;
  ps.last_initiation_at = now;
  ++stats_.initiations_sent;
  ps.timers.on_handshake_initiated(now);
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
}

void Sessions::copy_initiation_to(PeerId peer, const Endpoint& to, Nanos now) {
  const PeerState& ps = *p_.peers.find(peer);
  if (ps.last_initiation_at < 0 || now - ps.last_initiation_at >= wire::spec::kRekeyTimeout) return;
  if (send_udp(to, &ps.last_initiation, sizeof ps.last_initiation, now)) {
    count_bytes(peer, sizeof ps.last_initiation, true);
  }
  ++stats_.initiations_sent;
}

void Sessions::send_keepalive(PeerId peer, Nanos now) {
  if (p_.dp.standby.load(std::memory_order_relaxed)) return;  // as in send_initiation
  rte_mbuf* m = rte_pktmbuf_alloc(p_.dp.pool);
  if (m == nullptr) return;
  if (p_.tx.send_to_peer(peer, &m, 1, now) == 0) {
    // No session: a keepalive that cannot go out asks for a handshake, as the kernel's does.
    rte_pktmbuf_free(m);
    send_initiation(peer, now, wall_now(), false);
    return;
  }
  p_.tx.flush();
  ++stats_.keepalives_sent;
  PeerState& ps = *p_.peers.find(peer);
  ps.timers.on_any_authenticated_packet_sent(now);
  ps.timers.on_any_authenticated_packet_traversal(now);
}

void Sessions::confirm(PeerId peer, std::uint32_t index, Nanos now, WallTime wall) {
  PeerState* ps = p_.peers.find(peer);
  if (ps == nullptr || !p_.keys.confirm_next(peer, index)) return;
  ps->timers.on_handshake_complete(now, wall);
  p_.log.peer(*ps, "handshake complete (responder, key confirmed)");
  p_.staging.flush(peer, now);
}

void Sessions::zero(PeerId peer) {
  p_.keys.zero(peer);
  p_.peers.find(peer)->hs.reset();
}

bool Sessions::send_udp(const Endpoint& to, const void* payload, std::size_t len, Nanos now) {
  const Transmitter::Frame f =
      p_.tx.udp_frame(to, static_cast<const std::uint8_t*>(payload), len, impl::kHandshakeTos);
  if (f.m == nullptr) return false;
  p_.neighbours.send(f.m, PortRole::outer, f.next_hop, now);
  return true;
}

void Sessions::count_bytes(PeerId peer, std::size_t len, bool sent) noexcept {
  dataplane::PeerActivity& a = p_.dp.activity(p_.dp.workers, peer);
  dataplane::PeerActivity::add(sent ? a.tx_bytes : a.rx_bytes, len);
}

}  // namespace meshgate::control
