package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The argument slots cuLaunchKernel reads: each value where the signature says, and a wrong one refused. */
class KernelArgsTest {
  private static final KernelSignature RMS_NORM = KernelSignature.of("norm.cu", "rms_norm", KernelParam.POINTER,
      KernelParam.POINTER, KernelParam.POINTER, KernelParam.FLOAT, KernelParam.INT);

  @Test
  void argumentsAreEncodedInTheirSlotsAndChecked() {
    try (KernelArgs args = new KernelArgs(RMS_NORM)) {
      args.set(0x1000L, 0x2000L, 0x3000L, 1e-6f, 1536);
      assertEquals(0x1000L, args.slotBits(0));
      assertEquals(0x3000L, args.slotBits(2));
      assertEquals(Float.floatToRawIntBits(1e-6f), (int) args.slotBits(3));
      assertEquals(1536, (int) args.slotBits(4));
      assertThrows(IllegalArgumentException.class, () -> args.set(0x1000L, 0x2000L, 0x3000L, 1e-6, 1536));
      assertThrows(IllegalArgumentException.class, () -> args.set(0x1000L, 0x2000L, 0x3000L, 1e-6f, 1536L));
      assertThrows(IllegalArgumentException.class, () -> args.set(0x1000L, 0x2000L, 0x3000L, 1e-6f));
    }
  }

  @Test
  void aStructIsCopiedWholeIntoItsSlot() {
    KernelSignature merge = KernelSignature.of("merge.cu", "merge_weighted_sum", KernelParam.struct(16));
    byte[] bytes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    try (KernelArgs args = new KernelArgs(merge)) {
      args.set(new KernelStruct(bytes, new int[0]));
      assertEquals(0x0807060504030201L, args.slotBits(0));
      assertThrows(IllegalArgumentException.class, () -> args.set(new KernelStruct(new byte[8], new int[0])));
    }
  }
}
