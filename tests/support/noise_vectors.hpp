// Known-answer vectors for the Noise core.
//
// The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s entry of the cacophony test vectors
// (haskell-cryptography/cacophony vectors/cacophony.txt; the copy in mcginty/snow
// tests/vectors/cacophony.txt adds the handshake hash). The hash is the one of snow commit
// aabed3159deec0a0dfe3d5601c43322d84700c94; an older copy (62fbfae) carries a different value
// for this entry that neither this core nor an independent Python model reproduces, while
// every message matches in both. Messages 0 and 1 are the handshake,
// 2..5 are transport messages alternating initiator -> responder and back, with counters
// 0, 0, 1, 1 per direction and empty associated data.
#pragma once

namespace meshgate::testvec {

struct NoiseMessage {
  const char* payload;
  const char* ciphertext;
};

struct CacophonyIkpsk2 {
  static constexpr const char* kProtocol = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
  static constexpr const char* kPrologue = "4a6f686e2047616c74";  // "John Galt"
  static constexpr const char* kPsk =
      "54686973206973206d7920417573747269616e20706572737065637469766521";
  static constexpr const char* kInitStatic =
      "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
  static constexpr const char* kInitEphemeral =
      "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
  static constexpr const char* kInitRemoteStatic =
      "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
  static constexpr const char* kRespStatic =
      "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
  static constexpr const char* kRespEphemeral =
      "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
  static constexpr const char* kHandshakeHash =
      "f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5";

  static constexpr NoiseMessage kMessages[6] = {
      {"4c756477696720766f6e204d69736573",
       "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8e2ad"
       "57527207feb56253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab5000980c84831"
       "215f2441eba616548e832985464cf17e51ee93109008399a21f7e13f"},
      {"4d757272617920526f746862617264",
       "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b8f00"
       "7572dab0322217755c0632f365717edbf34d33e87a"},
      {"462e20412e20486179656b", "8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7"},
      {"4361726c204d656e676572", "07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef"},
      {"4a65616e2d426170746973746520536179",
       "6ab1467c0448cc78394494abaaf23afce0e234315d6e2624dcbfa8a21c1c4d073d"},
      {"457567656e2042f6686d20766f6e2042617765726b",
       "dfc346c0d2296ae6cf1acf6f12b8456a1dba228cf8d8b774aacf1c47fc53aa80ebc7a4c292"},
  };
};

}  // namespace meshgate::testvec
