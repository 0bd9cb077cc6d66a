package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The radix selection's cut is the k-th largest task-vector magnitude, as a sort finds it. */
class MagnitudeThresholdsTest {
  @ParameterizedTest
  @ValueSource(doubles = {0.5, 0.3, 0.001, 0.999})
  void theCutIsTheKthLargestMagnitude(double density) {
    int n = 600_001;  // three blocks of the parallel passes, the last one short
    Random random = new Random(3);
    ByteBuffer base = bf16(random, n);
    ByteBuffer x = bf16(random, n);  // bf16 values: many equal magnitudes, so ties at the cut occur
    PlannedTensor tensor = new PlannedTensor("t", new long[] {n}, List.of(info(n), info(n)), new float[] {0, 1},
        false, DType.BF16, true, 1f, true, new Sparsification(Sparsification.Kind.MAGNITUDE,
        new double[] {1, density}, new double[2], new double[2], false, 0), null);

    MagnitudeThresholds.Cuts cuts =
        MagnitudeThresholds.of(tensor, new HostStatisticsPasses(tensor, new ByteBuffer[] {base, x}));

    int[] magnitudes = new int[n];
    for (int i = 0; i < n; i++) {
      magnitudes[i] = magnitudeBits(x, base, i);
    }
    Arrays.sort(magnitudes);
    int k = (int) (density * n);
    assertEquals(magnitudes[n - k], cuts.keepFrom()[1], "the k-th largest magnitude");
    assertEquals(MagnitudeThresholds.ALL, cuts.keepTo()[1], "nothing dropped at the top");
  }

  /** breadcrumbs: the ⌊γ·n⌋ largest dropped, the next ⌊d·n⌋ kept. */
  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.05, 0.3})
  void outliersAndTheSmallestAreCut(double gamma) {
    int n = 20_000;
    double density = 0.6;
    Random random = new Random(4);
    ByteBuffer base = bf16(random, n);
    ByteBuffer x = bf16(random, n);
    PlannedTensor tensor = new PlannedTensor("t", new long[] {n}, List.of(info(n), info(n)), new float[] {0, 1},
        false, DType.BF16, true, 1f, false, new Sparsification(Sparsification.Kind.MAGNITUDE_OUTLIERS,
        new double[] {1, density}, new double[] {0, gamma}, new double[2], false, 0), null);

    MagnitudeThresholds.Cuts cuts =
        MagnitudeThresholds.of(tensor, new HostStatisticsPasses(tensor, new ByteBuffer[] {base, x}));

    int[] magnitudes = new int[n];
    for (int i = 0; i < n; i++) {
      magnitudes[i] = magnitudeBits(x, base, i);
    }
    Arrays.sort(magnitudes);
    int top = (int) (gamma * n);
    int target = (int) (density * n);
    assertEquals(magnitudes[n - top - target], cuts.keepFrom()[1], "the smallest kept");
    assertEquals(magnitudes[n - top - 1], cuts.keepTo()[1], "the largest kept");
  }

  /** Two task vectors with their own densities and gammas: every cut of both found in the same two passes. */
  @Test
  void everyCutOfEveryTaskVectorAtOnce() {
    int n = 300_007;
    Random random = new Random(5);
    ByteBuffer base = bf16(random, n);
    ByteBuffer[] x = {bf16(random, n), bf16(random, n)};
    double[] densities = {1, 0.6, 0.3};
    double[] gammas = {0, 0.02, 0};
    PlannedTensor tensor = new PlannedTensor("t", new long[] {n}, List.of(info(n), info(n), info(n)),
        new float[] {0, 1, 1}, false, DType.BF16, true, 1f, false, new Sparsification(
            Sparsification.Kind.MAGNITUDE_OUTLIERS, densities, gammas, new double[3], false, 0), null);

    MagnitudeThresholds.Cuts cuts =
        MagnitudeThresholds.of(tensor, new HostStatisticsPasses(tensor, new ByteBuffer[] {base, x[0], x[1]}));

    for (int m = 1; m <= 2; m++) {
      int[] magnitudes = new int[n];
      for (int i = 0; i < n; i++) {
        magnitudes[i] = magnitudeBits(x[m - 1], base, i);
      }
      Arrays.sort(magnitudes);
      int top = (int) (gammas[m] * n);
      int target = (int) (densities[m] * n);
      assertEquals(magnitudes[n - top - target], cuts.keepFrom()[m], "the smallest kept of input " + m);
      assertEquals(top == 0 ? MagnitudeThresholds.ALL : magnitudes[n - top - 1], cuts.keepTo()[m],
          "the largest kept of input " + m);
    }
  }

  /** |x − base| as float32 bits, computed here from the bytes as an independent reference. */
  private static int magnitudeBits(ByteBuffer x, ByteBuffer base, int i) {
    float delta = FloatBits.bf16ToFloat(x.getShort(2 * i)) - FloatBits.bf16ToFloat(base.getShort(2 * i));
    return Float.floatToRawIntBits(delta) & 0x7FFF_FFFF;
  }

  private static TensorInfo info(int n) {
    return new TensorInfo("t", DType.BF16, new long[] {n}, Path.of("t.safetensors"), 0, 2L * n);
  }

  private static ByteBuffer bf16(Random random, int n) {
    ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putShort(FloatBits.floatToBf16((float) random.nextGaussian()));
    }
    return b.flip();
  }
}
