package dev.amalgam.merge;

import java.nio.charset.StandardCharsets;

/**
 * The random numbers of DARE and DELLA: a counter-based generator (Philox4x32-10, Salmon et al., SC'11) keyed
 * by the merge's seed, with the tensor, the input and the element as the counter. Each element's draw is a
 * pure function of (seed, tensor name, input, element index), so the same masks come out whatever the chunk
 * size, the thread count or the device; {@code merge.cu} computes the same function.
 *
 * <p>One Philox block gives four 32-bit words: element e takes word {@code e % 4} of block {@code e / 4}. An
 * element is kept with probability p when its uniform {@code (word >>> 8)·2⁻²⁴} is below p, the 24-bit
 * resolution torch's CPU Bernoulli has.
 */
final class KeepDraws {
  private static final int M0 = 0xD2511F53;
  private static final int M1 = 0xCD9E8D57;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final float TWO_TO_MINUS_24 = 0x1p-24f;

  private final int key0;
  private final int key1;
  private final int tensorKey;
  private final int input;
  private final int[] block = new int[4];

  /** The draws for input {@code input} of tensor {@code tensorName}; one instance per thread. */
  KeepDraws(long seed, String tensorName, int input) {
    this.key0 = (int) seed;
    this.key1 = (int) (seed >>> 32);
    this.tensorKey = tensorKey(tensorName);
    this.input = input;
  }

  /** The uniform numbers in [0, 1), multiples of 2⁻²⁴, of elements {@code [start, start + n)} into {@code out}. */
  void uniforms(long start, int n, float[] out) {
    int[] counter = {0, 0, tensorKey, input};
    long cached = -1;
    for (int i = 0; i < n; i++) {
      long e = start + i;
      long b = e >>> 2;
      if (b != cached) {
        counter[0] = (int) b;
        counter[1] = (int) (b >>> 32);
        philox4x32(counter, key0, key1, block);
        cached = b;
      }
      out[i] = (block[(int) (e & 3)] >>> 8) * TWO_TO_MINUS_24;
    }
  }

  /** Philox4x32 with 10 rounds: {@code out} = the block for {@code counter} under key (k0, k1). */
  static void philox4x32(int[] counter, int k0, int k1, int[] out) {
    int c0 = counter[0];
    int c1 = counter[1];
    int c2 = counter[2];
    int c3 = counter[3];
    for (int round = 0; round < 10; round++) {
      if (round > 0) {
        k0 += W0;
        k1 += W1;
      }
      long p0 = (M0 & 0xFFFF_FFFFL) * (c0 & 0xFFFF_FFFFL);
      long p1 = (M1 & 0xFFFF_FFFFL) * (c2 & 0xFFFF_FFFFL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  /** The tensor's part of the counter: FNV-1a over the UTF-8 bytes of its name. */
  static int tensorKey(String tensorName) {
    int hash = 0x811C9DC5;
    for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
      hash = (hash ^ (b & 0xFF)) * 0x01000193;
    }
    return hash;
  }
}
