package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.cuda.KernelDType;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MergeKernelArgsTest {

  /** The C side asserts its layout with static_assert; the Java side must use exactly those numbers. */
  @Test
  void layoutMatchesTheStaticAssertsInMergeCu() throws IOException {
    String source = Files.readString(Path.of("cuda-kernels/merge.cu"));
    Map<String, Integer> asserted = new HashMap<>();
    Matcher offsets = Pattern.compile("__builtin_offsetof\\(MergeArgs, (\\w+)\\) == (\\d+)").matcher(source);
    while (offsets.find()) {
      asserted.put(offsets.group(1), Integer.parseInt(offsets.group(2)));
    }
    asserted.put("inputs", 0); // the first member, at offset 0 by the language rules
    assertEquals(asserted, MergeKernelArgs.OFFSETS);
    Matcher size = Pattern.compile("sizeof\\(MergeArgs\\) == (\\d+)").matcher(source);
    size.find();
    assertEquals(Integer.parseInt(size.group(1)), MergeKernelArgs.SIZE);
    assertEquals(MergeKernelArgs.MAX_INPUTS,
        Integer.parseInt(source.replaceAll("(?s).*#define AMALGAM_MAX_INPUTS (\\d+).*", "$1")));
  }

  @Test
  void encodesEveryFieldAtItsOffset() {
    MergeKernelArgs args = new MergeKernelArgs(new long[] {0x1000, 0x2000}, new DType[] {DType.BF16, DType.F32},
        new float[] {0.3f, 0.7f}, 1f, true, 0x3000, DType.F16, 12345, new MergeKernelArgs.TaskVectors(0.8f, true,
            new MagnitudeThresholds.Cuts(new int[] {0, 0x3f800000}, new int[] {0x7fffffff, 0x40400000}),
            new float[] {1f, 1.5f}, new float[] {1f, 0.25f}, true, 0x1_0000_0002L, 0xABCD, 1L << 33, true, 0x3e800000,
            new long[] {0, 0x5000}));
    ByteBuffer struct = ByteBuffer.wrap(args.encode().bytes()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(440, struct.capacity());
    assertEquals(0x1000, struct.getLong(0));
    assertEquals(0x2000, struct.getLong(8));
    assertEquals(0, struct.getLong(16));
    assertEquals(0x3000, struct.getLong(64));
    assertEquals(12345, struct.getLong(72));
    assertEquals(0.3f, struct.getFloat(80));
    assertEquals(0.7f, struct.getFloat(84));
    assertEquals(2, struct.getInt(112));
    assertEquals(0, struct.getInt(116));
    assertEquals(2, struct.getInt(144));
    assertEquals(1, struct.getInt(148));
    assertEquals(1f, struct.getFloat(152));
    assertEquals(1, struct.getInt(156));
    assertEquals(1, struct.getInt(160));
    assertEquals(0.8f, struct.getFloat(164));
    assertEquals(1, struct.getInt(168));
    assertEquals(0, struct.getInt(172));
    assertEquals(0x3f800000, struct.getInt(176));
    assertEquals(0x7fffffff, struct.getInt(204));
    assertEquals(0x40400000, struct.getInt(208));
    assertEquals(1f, struct.getFloat(236));
    assertEquals(1.5f, struct.getFloat(240));
    assertEquals(1f, struct.getFloat(268));
    assertEquals(0.25f, struct.getFloat(272));
    assertEquals(1, struct.getInt(300));
    assertEquals(2, struct.getInt(304));
    assertEquals(1, struct.getInt(308));
    assertEquals(0xABCD, struct.getInt(312));
    assertEquals(1L << 33, struct.getLong(320));
    assertEquals(1, struct.getInt(328));
    assertEquals(0x3e800000, struct.getInt(332));
    assertEquals(0, struct.getLong(336));
    assertEquals(0x5000, struct.getLong(344));
    assertEquals(java.util.Set.of(0, 8, 64, 336, 344),
        java.util.Arrays.stream(args.encode().pointerOffsets()).boxed().collect(java.util.stream.Collectors.toSet()));
  }

  @Test
  void encodesARulesSegmentsAndOp() {
    RuleStatistics statistics = new RuleStatistics(TensorRule.Segments.ROWS, 100, 3, new float[6], 0.25f);
    MergeKernelArgs args = new MergeKernelArgs(new long[] {0x1000, 0x2000}, new DType[] {DType.BF16, DType.F32},
        new float[2], 1f, false, 0x3000, DType.F16, 10, null,
        new MergeKernelArgs.Rule(MergeKernelArgs.OP_FUSION, 0.25f, statistics, 0x6000, 1037), DType.BF16);
    ByteBuffer struct = ByteBuffer.wrap(args.encode().bytes()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1037, struct.getLong(320));
    assertEquals(0x6000, struct.getLong(400));
    assertEquals(100, struct.getLong(408));
    assertEquals(1, struct.getInt(416));
    assertEquals(3, struct.getInt(420));
    assertEquals(2, struct.getInt(424));
    assertEquals(0.25f, struct.getFloat(428));
    assertEquals(2, struct.getInt(432));
    assertEquals(java.util.Set.of(0, 8, 64, 336, 344, 400),
        java.util.Arrays.stream(args.encode().pointerOffsets()).boxed().collect(java.util.stream.Collectors.toSet()));
  }

  @Test
  void segmentKindsAndOpsMatchTheKernelDefines() throws IOException {
    String source = Files.readString(Path.of("cuda-kernels/merge.cu"));
    for (TensorRule.Segments segments : TensorRule.Segments.values()) {
      assertEquals(segments.ordinal(), define(source, "AMALGAM_SEGMENTS_" + segments.name()));
    }
    assertEquals(MergeKernelArgs.OP_NEARSWAP, define(source, "AMALGAM_OP_NEARSWAP"));
    assertEquals(MergeKernelArgs.OP_FUSION, define(source, "AMALGAM_OP_FUSION"));
  }

  @Test
  void dtypeCodesMatchTheKernelDefines() throws IOException {
    String source = Files.readString(Path.of("cuda-kernels/merge.cu"));
    assertEquals(KernelDType.code(DType.F32), define(source, "AMALGAM_F32"));
    assertEquals(KernelDType.code(DType.F16), define(source, "AMALGAM_F16"));
    assertEquals(KernelDType.code(DType.BF16), define(source, "AMALGAM_BF16"));
  }

  private static int define(String source, String name) {
    Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(source);
    m.find();
    return Integer.parseInt(m.group(1));
  }

  @Test
  void rejectsWhatTheKernelCannotDo() {
    assertThrows(IllegalArgumentException.class, () -> new MergeKernelArgs(new long[9], new DType[9], new float[9],
        1f, false, 0, DType.BF16, 1));
    assertThrows(IllegalArgumentException.class, () -> new MergeKernelArgs(new long[1], new DType[] {DType.I32},
        new float[1], 1f, false, 0, DType.BF16, 1));
    assertThrows(IllegalArgumentException.class, () -> new MergeKernelArgs(new long[1], new DType[] {DType.BF16},
        new float[2], 1f, false, 0, DType.BF16, 1));
  }
}
