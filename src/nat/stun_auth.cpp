// MESSAGE-INTEGRITY, FINGERPRINT and long-term credentials (RFC 8489 9.2.2, 14.5, 14.7).
#include <array>
#include <cstring>
#include <vector>

#include "meshgate/base/secret.hpp"
#include "meshgate/crypto/legacy_hash.hpp"
#include "meshgate/nat/stun.hpp"

namespace meshgate::nat::stun {

namespace {

constexpr const char* kAuthNames[] = MESHGATE_REASON_NAMES(MESHGATE_STUN_AUTH_VERDICTS);
constexpr const char* kAuthTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_STUN_AUTH_VERDICTS, "ok");

// Byte-at-a-time table for the reflected polynomial 0xEDB88320: FINGERPRINT covers one small
// message on the control thread, so a 1 KiB table is plenty and keeps nat/ free of DPDK.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

// Where the attribute at `index` starts (its 4-byte header), which is where the bytes an
// integrity or fingerprint value covers end.
std::size_t attr_start(const Message& m, int index) noexcept {
  return m.attrs[static_cast<std::size_t>(index)].offset - kAttrHeaderSize;
}

}  // namespace

std::string_view to_string(AuthVerdict v) noexcept {
  return reason_lookup(kAuthNames, v, "?");
}
std::string_view describe(AuthVerdict v) noexcept {
  return reason_lookup(kAuthTexts, v, "?");
}

std::uint32_t crc32(ByteSpan data) noexcept {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Bytes<16> long_term_key(std::string_view username, std::string_view realm,
                        std::string_view password) noexcept {
  std::string joined;
  joined.reserve(username.size() + realm.size() + password.size() + 2);
  joined.append(username).append(":").append(realm).append(":").append(password);
  auto key =
      crypto::md5(ByteSpan(reinterpret_cast<const std::uint8_t*>(joined.data()), joined.size()));
  secure_wipe(joined.data(), joined.size());  // it holds the password
  return key;
}

AuthVerdict check_fingerprint(const Message& m) noexcept {
  if (m.fingerprint < 0) return AuthVerdict::missing_fingerprint;
  // parse() rejects anything after FINGERPRINT, so the length field already ends with it, as
  // the CRC input must (14.7): no header fix-up needed.
  const std::size_t covered = attr_start(m, m.fingerprint);
  const std::uint32_t want = crc32(ByteSpan(m.data, covered)) ^ kFingerprintXor;
  const std::uint32_t got = load_be32(m.data + covered + kAttrHeaderSize);
  return want == got ? AuthVerdict::none : AuthVerdict::bad_fingerprint;
}

AuthVerdict check_integrity(const Message& m, ByteSpan key) {
  if (m.integrity < 0) return AuthVerdict::missing_integrity;
  // 14.5: the HMAC covers the message up to the attribute, with the header's length field
  // saying the message ends right after MESSAGE-INTEGRITY (attributes after it, such as
  // FINGERPRINT, are not counted). The received bytes stay untouched: we hash a copy.
  const std::size_t covered = attr_start(m, m.integrity);
  std::vector<std::uint8_t> copy(m.data, m.data + covered);
  store_be16(copy.data() + 2,
             static_cast<std::uint16_t>(covered + kAttrHeaderSize + kIntegritySize - kHeaderSize));
  const auto mac = crypto::hmac_sha1(key, ByteSpan(copy.data(), copy.size()));
  const std::uint8_t* got = m.data + covered + kAttrHeaderSize;
  return ct_equal(mac.data(), got, kIntegritySize) ? AuthVerdict::none : AuthVerdict::bad_integrity;
}

AuthVerdict verify_message(const Message& m, ByteSpan key) {
  if (m.fingerprint >= 0) {
    const AuthVerdict fp = check_fingerprint(m);
    if (fp != AuthVerdict::none) return fp;
  }
  return check_integrity(m, key);
}

}  // namespace meshgate::nat::stun
