// Address discovery on the control thread (stun.hpp).
#include "meshgate/control/stun.hpp"

#include <string>

#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::control {

void StunDiscovery::set_servers(std::vector<Endpoint> servers, Nanos now) {
  client_.set_servers(std::move(servers), now);
}

std::vector<Endpoint> StunDiscovery::local_endpoints() const {
  const std::uint16_t port = dp_.listen_port.load(std::memory_order_relaxed);
  std::vector<Endpoint> out;
  for (const IpAddr* a : {&dp_.addr.outer_v4, &dp_.addr.outer_v6}) {
    if (a->family != IpAddr::Family::none) out.push_back({*a, port});
  }
  return out;
}

void StunDiscovery::tick(Nanos now) {
  if (client_.servers().empty()) return;
  // The UAPI may change the listen port: a new port is a new NAT mapping to discover.
  client_.set_local(local_endpoints(), now);
  for (const nat::StunRequest& r : client_.poll(now)) send(r, now);
  log_events(now);
}

void StunDiscovery::send(const nat::StunRequest& r, Nanos now) {
  // Best effort (TOS 0): a late refresh costs nothing, unlike a late handshake.
  const Transmitter::Frame f = tx_.udp_frame(r.to, r.bytes.data(), r.len, /*tos=*/0);
  if (f.m == nullptr) {
    ++stats_.not_sent;
    return;
  }
  neighbours_.send(f.m, PortRole::outer, f.next_hop, now);
}

void StunDiscovery::handle(rte_mbuf* m, Nanos now) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const wire::FrameInfo f = wire::classify_frame(p, m->data_len);
  if (!f.ok()) {
    drops_.add(f.drop);
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint8_t* payload = p + f.payload_off;
  const Endpoint src{f.is_v6() ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port};
  const bool stun = nat::stun::demux(payload, f.payload_len).kind == nat::stun::PayloadKind::stun;
  // A rejected STUN message is counted twice: by its verdict (why), and as a drop (so the drop
  // counters still account for every frame the control thread was handed).
  if (!stun) {
    drops_.add(dataplane::Drop::control_rejected);
    log_.drop("stun_not_stun", "a message handed over as STUN from " + src.str() + " is not STUN");
  } else if (const nat::StunVerdict v = client_.on_message(payload, f.payload_len, src, now);
             v != nat::StunVerdict::none) {
    drops_.add(dataplane::Drop::control_rejected);
    log_.drop(nat::to_string(v), std::string(nat::describe(v)) + " (from " + src.str() + ")");
  }
  rte_pktmbuf_free(m);
  log_events(now);
}

void StunDiscovery::log_events(Nanos now) {
  for (const nat::StunEvent& e : client_.take_events()) {
    const std::string server = e.server.str();
    switch (e.kind) {
      case nat::StunEvent::Kind::reflexive_changed:
        if (e.previous.known()) {
          log_.line("reflexive address %s (via server %s), was %s", e.address.str().c_str(),
                    server.c_str(), e.previous.str().c_str());
        } else {
          log_.line("reflexive address %s (via server %s)", e.address.str().c_str(),
                    server.c_str());
        }
        break;
      case nat::StunEvent::Kind::nat_classified:
        log_.line("NAT: %s (%s, tested with server %s)", e.nat.describe().c_str(),
                  std::string(e.nat.short_name()).c_str(), server.c_str());
        break;
      case nat::StunEvent::Kind::timeout:
        // Silence is one of the answers an RFC 5780 test waits for; and a dead server would
        // otherwise log a line every 40 s until it comes back.
        if (e.probe || (timeout_logged_ >= 0 && client_.reflexive().confirmed < timeout_logged_)) {
          break;
        }
        timeout_logged_ = now;
        log_.line("STUN server %s did not answer; trying the next one", server.c_str());
        break;
      case nat::StunEvent::Kind::error_response:
        log_.line("STUN server %s answered the %s request with error %u", server.c_str(), e.what,
                  static_cast<unsigned>(e.error_code));
        break;
    }
  }
}

}  // namespace meshgate::control
