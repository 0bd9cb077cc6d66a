package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cli.CliRun;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DARE and DELLA against mergekit's own runs. Their masks come from different generators, so the elements kept
 * differ; what must agree is the distribution, checked as the oracle's checker does: per tensor, the fraction of
 * elements changed from the base and the L1 of {@code out − base} within 5 sigma of mergekit's; no element
 * changed where no model differs from the base; and for one model at weight 1, where {@code out − base} is the
 * rescaled thinned task vector itself, the kept count against the keep probabilities and the L1 norm kept whole
 * by the rescale.
 */
class RandomMergeOracleTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"dare_ties", "dare_linear", "dare_linear-single", "della", "della_linear",
      "della_linear-single"})
  void keepsWhatMergekitKeepsInDistribution(String name) throws Exception {
    Path out = MergekitOracleTest.merge(name, "cpu", dir.resolve("out"));
    String yaml = Files.readString(Fixtures.MERGEKIT_ORACLE.resolve("qwen2-tiny." + name + ".yml"));
    Map<String, HostTensor> ours = TestModels.load(out);
    Map<String, HostTensor> base = TestModels.load(Fixtures.BASE);
    List<Map<String, HostTensor>> models = new ArrayList<>(List.of(TestModels.load(Fixtures.A)));
    if (yaml.contains("qwen2-tiny-b")) {
      models.add(TestModels.load(Fixtures.B));
    }
    int stride = MergekitOracleTest.rowStride(name);
    List<String> failures = new ArrayList<>();
    for (HostTensor expected : MergekitOracleTest.oracle(name).values()) {
      String tensor = expected.name();
      float[] b = OracleValues.floats(base.get(tensor));
      float[] o = OracleValues.floats(ours.get(tensor));
      untouchedWhereNoModelDiffers(tensor, b, o, models, failures);
      float[] sampledOurs = OracleValues.floats(OracleValues.sampledRows(ours.get(tensor), stride));
      float[] sampledBase = OracleValues.floats(OracleValues.sampledRows(base.get(tensor), stride));
      sameStatisticsAsMergekit(tensor, sampledOurs, OracleValues.floats(expected), sampledBase, failures);
      if (name.endsWith("-single")) {
        float[] x = OracleValues.floats(models.get(0).get(tensor));
        keepsAndRescalesOneTaskVector(tensor, yaml, base.get(tensor).shape(), b, x, o, failures);
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + (failures.isEmpty() ? "" : failures.get(0)));
  }

  /** A seed repeats a merge bit for bit, whatever the thread count; another seed gives another merge. */
  @Test
  void aSeedRepeatsTheMergeWhateverTheThreads() throws Exception {
    Path one = MergekitOracleTest.merge("della", "cpu", dir.resolve("one"), "--random-seed", "7", "--threads", "1");
    Path two = MergekitOracleTest.merge("della", "cpu", dir.resolve("two"), "--random-seed", "7", "--threads", "2");
    Path other = MergekitOracleTest.merge("della", "cpu", dir.resolve("other"), "--random-seed", "8");
    for (HostTensor t : TestModels.load(one).values()) {
      assertArrayEquals(OracleValues.bytes(t.data()), OracleValues.bytes(TestModels.load(two).get(t.name()).data()),
          t.name());
    }
    String name = "model.layers.0.mlp.up_proj.weight";
    assertFalse(Arrays.equals(OracleValues.bytes(TestModels.load(one).get(name).data()),
        OracleValues.bytes(TestModels.load(other).get(name).data())), "seeds 7 and 8 keep the same elements");
    assertTrue(Files.readString(one.resolve("mergekit_config.yml")).endsWith("random_seed: 7\n"));
  }

  /** Without a seed one is drawn, printed, and written where a later merge can take it from. */
  @Test
  void aDrawnSeedIsPrintedAndWrittenIntoTheConfig() throws Exception {
    String yaml = Files.readString(Fixtures.MERGEKIT_ORACLE.resolve("qwen2-tiny.dare_ties.yml"))
        .replace("../qwen2-tiny-base", TestModels.abs(Fixtures.BASE))
        .replace("../qwen2-tiny-a", TestModels.abs(Fixtures.A))
        .replace("../qwen2-tiny-b", TestModels.abs(Fixtures.B));
    Path first = dir.resolve("first");
    CliRun run = CliRun.of("merge", TestModels.config(dir, yaml).toString(), first.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    Matcher printed = Pattern.compile("random seed (\\d+) \\(drawn; repeat this merge with --random-seed \\1\\)")
        .matcher(run.err());
    assertTrue(printed.find(), run.err());
    String written = Files.readString(first.resolve("mergekit_config.yml"));
    assertTrue(written.endsWith("random_seed: " + printed.group(1) + "\n"), written);

    Path again = dir.resolve("again");
    CliRun repeat = CliRun.of("merge", first.resolve("mergekit_config.yml").toString(), again.toString(),
        "--device", "cpu");
    assertEquals(0, repeat.exitCode(), repeat.err());
    for (HostTensor t : TestModels.load(first).values()) {
      assertArrayEquals(OracleValues.bytes(t.data()), OracleValues.bytes(TestModels.load(again).get(t.name()).data()),
          t.name());
    }
  }

  private static void untouchedWhereNoModelDiffers(String tensor, float[] base, float[] ours,
      List<Map<String, HostTensor>> models, List<String> failures) {
    List<float[]> inputs = models.stream().map(m -> OracleValues.floats(m.get(tensor))).toList();
    int changed = 0;
    for (int i = 0; i < base.length; i++) {
      final int e = i;
      if (inputs.stream().allMatch(x -> x[e] == base[e]) && ours[i] != base[i]) {
        changed++;
      }
    }
    if (changed > 0) {
      failures.add(tensor + ": " + changed + " elements changed where no model differs from the base");
    }
  }

  /** The changed fraction and the L1 of out − base over the sampled rows, within 5 sigma of mergekit's. */
  private static void sameStatisticsAsMergekit(String tensor, float[] ours, float[] oracle, float[] base,
      List<String> failures) {
    int n = base.length;
    if (n < 64) {
      return;
    }
    double changedOurs = 0;
    double changedOracle = 0;
    double l1Ours = 0;
    double l1Oracle = 0;
    double squaresOracle = 0;
    for (int i = 0; i < n; i++) {
      changedOurs += ours[i] != base[i] ? 1 : 0;
      changedOracle += oracle[i] != base[i] ? 1 : 0;
      l1Ours += Math.abs((double) ours[i] - base[i]);
      l1Oracle += Math.abs((double) oracle[i] - base[i]);
      squaresOracle += ((double) oracle[i] - base[i]) * ((double) oracle[i] - base[i]);
    }
    double q = (changedOurs + changedOracle) / (2.0 * n);
    double fractionTolerance = 5 * Math.sqrt(2 * Math.max(q * (1 - q), 1.0 / n) / n) + 2.0 / n;
    if (Math.abs(changedOurs - changedOracle) / n > fractionTolerance) {
      failures.add(tensor + ": changed fraction " + changedOurs / n + " vs mergekit's " + changedOracle / n);
    }
    double l1Tolerance = 5 * Math.sqrt(2.0) * Math.sqrt(squaresOracle) + 0.01 * l1Oracle + 1e-12;
    if (Math.abs(l1Ours - l1Oracle) > l1Tolerance) {
      failures.add(tensor + ": L1(out - base) " + l1Ours + " vs mergekit's " + l1Oracle);
    }
  }

  /**
   * One model at weight 1: the kept count among nonzero task-vector elements within 5 sigma of the sum of their
   * keep probabilities (DARE: the density; DELLA: by magnitude rank within the row), and the L1 norm of the task
   * vector unchanged by thinning and rescaling, up to the bf16 rounding of the changed elements.
   */
  private static void keepsAndRescalesOneTaskVector(String tensor, String yaml, long[] shape, float[] base,
      float[] x, float[] ours, List<String> failures) {
    double density = parameter(yaml, "density");
    double epsilon = yaml.contains("della") ? parameter(yaml, "epsilon") : 0;
    int cols = Math.toIntExact(shape[shape.length - 1]);
    double expected = 0;
    double variance = 0;
    int kept = 0;
    int nonzero = 0;
    double l1In = 0;
    double l1Out = 0;
    double rounding = 0;
    for (int row = 0; row < base.length / cols; row++) {
      double[] p = keepProbabilities(base, x, row, cols, density, epsilon);
      for (int j = 0; j < cols; j++) {
        int i = row * cols + j;
        double delta = (double) x[i] - base[i];
        l1In += Math.abs(delta);
        l1Out += Math.abs((double) ours[i] - base[i]);
        if (ours[i] != base[i]) {
          rounding += OracleValues.bf16Ulp(ours[i]) / 2;
        }
        if (delta != 0) {
          nonzero++;
          expected += p[j];
          variance += p[j] * (1 - p[j]);
          kept += ours[i] != base[i] ? 1 : 0;
        }
      }
    }
    if (nonzero < 64) {
      return;
    }
    if (Math.abs(kept - expected) > 5 * Math.sqrt(variance) + 1) {
      failures.add(tensor + ": kept " + kept + " of " + nonzero + ", expected " + expected);
    }
    if (Math.abs(l1Out - l1In) > rounding + 1e-4 * l1In) {
      failures.add(tensor + ": L1(out - base) " + l1Out + " vs L1(model - base) " + l1In + ": the rescale differs");
    }
  }

  /** DELLA's keep probabilities along one row (by ascending magnitude rank), or DARE's constant density. */
  private static double[] keepProbabilities(float[] base, float[] x, int row, int cols, double density,
      double epsilon) {
    double[] p = new double[cols];
    Integer[] order = new Integer[cols];
    for (int j = 0; j < cols; j++) {
      order[j] = j;
    }
    int first = row * cols;
    Arrays.sort(order, (a, c) -> Double.compare(Math.abs((double) x[first + a] - base[first + a]),
        Math.abs((double) x[first + c] - base[first + c])));
    for (int r = 0; r < cols; r++) {
      p[order[r]] = cols == 1 ? density : density - epsilon + 2 * epsilon * r / (cols - 1);
    }
    return p;
  }

  private static double parameter(String yaml, String key) {
    Matcher m = Pattern.compile(key + ": ([0-9.]+)").matcher(yaml);
    assertTrue(m.find(), key + " in the case's config");
    return Double.parseDouble(m.group(1));
  }
}
