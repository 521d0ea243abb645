// AeadBatch, both backends: RFC 8439 A.5 known answer, tamper rejection, and every burst size
// from 1 to 128 (plus chunked larger ones) against one-by-one aead_seal, in place and out of
// place.
#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "aead_vectors.hpp"
#include "meshgate/crypto/aead.hpp"
#include "test_hex.hpp"

namespace meshgate::crypto {

// Names the backend in failure messages (found by GoogleTest through ADL, so not in the
// anonymous namespace).
void PrintTo(AeadBackend b, std::ostream* os) {
  *os << to_string(b);
}

namespace {

using test::hex;
using test::text;
using test::unhex;

class AeadBatchTest : public ::testing::TestWithParam<AeadBackend> {};

std::string backend_name(const ::testing::TestParamInfo<AeadBackend>& info) {
  return info.param == AeadBackend::ipsec_mb ? "ipsec_mb" : "sodium";
}

INSTANTIATE_TEST_SUITE_P(Backends, AeadBatchTest,
                         ::testing::Values(AeadBackend::ipsec_mb, AeadBackend::sodium),
                         backend_name);

// A.5 through the batch: open recovers the plaintext, seal reproduces ciphertext and tag; each
// both in place and out of place.
TEST_P(AeadBatchTest, Rfc8439AppendixA5) {
  using V = test::Rfc8439_A5;
  AeadBatch batch(GetParam());
  const auto key = unhex(V::key);
  const auto aad = unhex(V::aad);
  const auto ct = unhex(V::ciphertext);
  const auto tag = unhex(V::tag);
  const ByteSpan pt = text(V::plaintext);
  const auto len = static_cast<std::uint32_t>(ct.size());

  for (bool in_place : {false, true}) {
    SCOPED_TRACE(in_place ? "in place" : "out of place");
    std::vector<std::uint8_t> src(ct);
    std::vector<std::uint8_t> tag_in(tag);
    std::vector<std::uint8_t> dst(len);
    AeadJob j{.key = key.data(),
              .counter = V::counter,
              .src = src.data(),
              .dst = in_place ? src.data() : dst.data(),
              .len = len,
              .aad = aad.data(),
              .aad_len = static_cast<std::uint32_t>(aad.size()),
              .tag = tag_in.data()};
    EXPECT_EQ(batch.open({&j, 1}), 1u);
    EXPECT_TRUE(j.ok);
    EXPECT_EQ(hex(j.dst, len), hex(pt));

    std::vector<std::uint8_t> plain(pt.begin(), pt.end());
    std::vector<std::uint8_t> tag_out(kAeadTagLen);
    AeadJob s{.key = key.data(),
              .counter = V::counter,
              .src = plain.data(),
              .dst = in_place ? plain.data() : dst.data(),
              .len = len,
              .aad = aad.data(),
              .aad_len = static_cast<std::uint32_t>(aad.size()),
              .tag = tag_out.data()};
    batch.seal({&s, 1});
    EXPECT_TRUE(s.ok);
    EXPECT_EQ(hex(s.dst, len), hex(ct));
    EXPECT_EQ(hex(tag_out), hex(tag));
  }
}

TEST_P(AeadBatchTest, TamperedTagCiphertextOrAadFailsToOpen) {
  using V = test::Rfc8439_A5;
  AeadBatch batch(GetParam());
  const auto key = unhex(V::key);
  const auto aad = unhex(V::aad);
  const auto ct = unhex(V::ciphertext);
  const auto tag = unhex(V::tag);
  const auto len = static_cast<std::uint32_t>(ct.size());

  // Job 0 is intact; 1 has a flipped tag bit, 2 a flipped ciphertext bit, 3 a flipped AAD bit.
  std::vector<std::vector<std::uint8_t>> src(4, ct), tags(4, tag), aads(4, aad);
  std::vector<std::vector<std::uint8_t>> dst(4, std::vector<std::uint8_t>(len));
  tags[1][15] ^= 0x80;
  src[2][100] ^= 0x01;
  aads[3][0] ^= 0x02;
  std::vector<AeadJob> jobs(4);
  for (std::size_t i = 0; i < 4; ++i) {
    jobs[i] = AeadJob{.key = key.data(),
                      .counter = V::counter,
                      .src = src[i].data(),
                      .dst = dst[i].data(),
                      .len = len,
                      .aad = aads[i].data(),
                      .aad_len = static_cast<std::uint32_t>(aads[i].size()),
                      .tag = tags[i].data()};
  }
  EXPECT_EQ(batch.open(jobs), 1u);
  EXPECT_TRUE(jobs[0].ok);
  EXPECT_FALSE(jobs[1].ok);
  EXPECT_FALSE(jobs[2].ok);
  EXPECT_FALSE(jobs[3].ok);
}

// One packet of the sweep: its own key, counter, AAD and length, buffers owned here.
struct Packet {
  Bytes<32> key{};
  std::uint64_t counter = 0;
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> aad;
  std::vector<std::uint8_t> buf;  // ciphertext (or plaintext when in place) || tag
  std::vector<std::uint8_t> out;  // out-of-place destination || tag
};

// Deterministic lengths 0..1500 that hit 0, block edges (16, 64) from both sides and odd sizes,
// and the jumbo sizes a 9000-byte tunnel MTU seals (8920 is the MTU of a 9000-byte link).
std::uint32_t length_for(std::size_t i, std::size_t n) {
  static constexpr std::uint32_t kEdges[] = {0,    1,    15,   16,   17,   63,   64,
                                             65,   127,  128,  129,  255,  1419, 1420,
                                             1499, 1500, 8919, 8920, 8999, 9000};
  if (i % 3 == 0) return kEdges[(i / 3 + n) % std::size(kEdges)];
  return static_cast<std::uint32_t>((i * 977 + n * 131) % 1501);
}

std::vector<Packet> make_packets(std::size_t n) {
  std::vector<Packet> ps(n);
  for (std::size_t i = 0; i < n; ++i) {
    Packet& p = ps[i];
    for (std::size_t b = 0; b < 32; ++b) p.key[b] = static_cast<std::uint8_t>(i * 31 + b * 7 + n);
    // Distinct counters, including ones that use the high bytes of the 64-bit nonce field.
    p.counter = (i % 4 == 3) ? ~std::uint64_t{0} - i : i * 0x0101010101ull + n;
    p.plain.resize(length_for(i, n));
    for (std::size_t b = 0; b < p.plain.size(); ++b) {
      p.plain[b] = static_cast<std::uint8_t>(b * 13 + i);
    }
    if (i % 5 == 1) p.aad.assign(i % 29 + 1, static_cast<std::uint8_t>(0xa0 + i));
  }
  return ps;
}

std::vector<std::uint8_t> reference_seal(const Packet& p) {
  std::vector<std::uint8_t> want(p.plain.size() + kAeadTagLen);
  aead_seal(want.data(), SecretKey::from(p.key), p.counter, p.plain.data(), p.plain.size(), p.aad);
  return want;
}

// Sets job i up to run over packet i: in place over buf, or from buf into out. The tag follows
// the data: written after dst when sealing, read after src when opening.
std::vector<AeadJob> make_jobs(std::vector<Packet>& ps, bool in_place, bool sealing) {
  std::vector<AeadJob> jobs(ps.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    Packet& p = ps[i];
    const auto len = static_cast<std::uint32_t>(p.plain.size());
    std::uint8_t* dst = in_place ? p.buf.data() : p.out.data();
    std::uint8_t* tag = (sealing ? dst : p.buf.data()) + len;
    jobs[i] = AeadJob{.key = p.key.data(),
                      .counter = p.counter,
                      .src = p.buf.data(),
                      .dst = dst,
                      .len = len,
                      .aad = p.aad.data(),
                      .aad_len = static_cast<std::uint32_t>(p.aad.size()),
                      .tag = tag};
  }
  return jobs;
}

// Spoils a sealed packet in one of four ways, picked by `kind`: a tag bit, a ciphertext bit
// (the tag when there is no ciphertext), the AAD, or the counter.
void corrupt_packet(Packet& p, std::size_t kind) {
  const std::size_t len = p.plain.size();
  switch (kind % 4) {
    case 0:
      p.buf[len + kind % kAeadTagLen] ^= 0x01;
      break;
    case 1:
      p.buf[len == 0 ? 0 : (kind * 5) % len] ^= 0x40;
      break;
    case 2:
      if (p.aad.empty()) {
        p.aad.push_back(0);  // AAD where there was none changes the MAC input too
      } else {
        p.aad.back() ^= 0x08;
      }
      break;
    default:
      p.counter += 1;
      break;
  }
}

// Seals a burst of n, checks it against aead_seal, opens it back, then opens it again with a
// few packets corrupted and expects exactly those to fail.
void check_burst(AeadBatch& batch, std::size_t n, bool in_place) {
  SCOPED_TRACE(testing::Message() << "burst " << n << (in_place ? " in place" : " out of place"));
  std::vector<Packet> ps = make_packets(n);
  for (Packet& p : ps) {
    p.buf = p.plain;
    p.buf.resize(p.plain.size() + kAeadTagLen);
    p.out.assign(p.plain.size() + kAeadTagLen, 0xee);
  }
  std::vector<AeadJob> jobs = make_jobs(ps, in_place, true);
  batch.seal(jobs);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& sealed = in_place ? ps[i].buf : ps[i].out;
    ASSERT_TRUE(jobs[i].ok) << "packet " << i;
    ASSERT_EQ(sealed, reference_seal(ps[i])) << "packet " << i << " len " << ps[i].plain.size();
  }

  // Open: the sealed bytes become the source.
  for (Packet& p : ps) {
    if (!in_place) p.buf = p.out;
    p.out.assign(p.plain.size() + kAeadTagLen, 0xee);
  }
  std::vector<std::vector<std::uint8_t>> sealed(n);
  for (std::size_t i = 0; i < n; ++i) sealed[i] = ps[i].buf;
  jobs = make_jobs(ps, in_place, false);
  EXPECT_EQ(batch.open(jobs), n);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(jobs[i].ok) << "packet " << i;
    ASSERT_TRUE(std::equal(ps[i].plain.begin(), ps[i].plain.end(), jobs[i].dst)) << "packet " << i;
  }

  // Corrupt every 7th packet (tag, ciphertext, AAD or counter in turn) and open again.
  std::vector<bool> corrupt(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    Packet& p = ps[i];
    p.buf = sealed[i];
    if (i % 7 != 2) continue;
    corrupt[i] = true;
    corrupt_packet(p, i / 7);
  }
  jobs = make_jobs(ps, in_place, false);
  std::size_t want_good = 0;
  for (bool c : corrupt) want_good += !c;
  EXPECT_EQ(batch.open(jobs), want_good);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(jobs[i].ok, !corrupt[i]) << "packet " << i;
  }
}

TEST_P(AeadBatchTest, EveryBurstFrom1To128MatchesSingleSealInPlace) {
  AeadBatch batch(GetParam());
  for (std::size_t n = 1; n <= 128; ++n) {
    check_burst(batch, n, true);
    if (HasFatalFailure()) return;
  }
}

TEST_P(AeadBatchTest, EveryBurstFrom1To128MatchesSingleSealOutOfPlace) {
  AeadBatch batch(GetParam());
  for (std::size_t n = 1; n <= 128; ++n) {
    check_burst(batch, n, false);
    if (HasFatalFailure()) return;
  }
}

// Spans longer than the library's burst limit are cut into chunks; the seams must not show.
TEST_P(AeadBatchTest, SpansLongerThanOneChunk) {
  AeadBatch batch(GetParam());
  for (std::size_t n : {129u, 255u, 256u, 257u, 300u}) {
    check_burst(batch, n, true);
    check_burst(batch, n, false);
  }
}

TEST_P(AeadBatchTest, EmptySpanIsANoOp) {
  AeadBatch batch(GetParam());
  batch.seal({});
  EXPECT_EQ(batch.open({}), 0u);
}

TEST(AeadBatch, ReportsBackendAndArch) {
  AeadBatch mb(AeadBackend::ipsec_mb);
  AeadBatch na(AeadBackend::sodium);
  EXPECT_EQ(mb.backend(), AeadBackend::ipsec_mb);
  EXPECT_EQ(to_string(mb.backend()), "ipsec-mb");
  EXPECT_EQ(to_string(na.backend()), "libsodium");
  EXPECT_EQ(na.arch(), "portable");
  EXPECT_FALSE(mb.arch().empty());
  RecordProperty("ipsec_mb_arch", std::string(mb.arch()));
}

}  // namespace
}  // namespace meshgate::crypto
