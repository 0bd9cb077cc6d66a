package dev.amalgam.merge;

import static dev.amalgam.testing.TestModels.abs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weights as mergekit defines them (scalars, gradients, filters), 3+ models, normalize on and off, tied models. */
class MergeParametersTest {
  @TempDir Path tmp;

  private Map<String, HostTensor> merge(String yaml) throws Exception {
    Path out = tmp.resolve("out-" + System.nanoTime());
    MergeConfig config = MergeConfig.parse(TestModels.config(tmp, yaml), yaml);
    try (MergePlan plan = MergePlanner.plan(config); MergeEngine engine = new CpuMergeEngine(2)) {
      Merger.toDisk(plan, engine, new Merger.OutputOptions(out, false, Long.MAX_VALUE, false),
          MergeEngine.MergeProgress.NONE);
    }
    return TestModels.load(out);
  }

  /** Independent float32 reference: Σ wᵢ·xᵢ in model order, divided by Σ wᵢ, rounded once to bf16. */
  private static short[] reference(float[] weights, boolean normalize, HostTensor... inputs) {
    short[][] values = new short[inputs.length][];
    for (int m = 0; m < inputs.length; m++) {
      values[m] = TestModels.shorts(inputs[m]);
    }
    float sum = 0;
    for (float w : weights) {
      sum += w;
    }
    short[] out = new short[values[0].length];
    for (int i = 0; i < out.length; i++) {
      float acc = 0;
      for (int m = 0; m < inputs.length; m++) {
        float term = FloatBits.bf16ToFloat(values[m][i]) * weights[m];
        acc = m == 0 ? term : acc + term;
      }
      out[i] = FloatBits.floatToBf16(normalize ? acc / sum : acc);
    }
    return out;
  }

  private static void assertTensor(short[] expected, HostTensor actual) {
    short[] got = TestModels.shorts(actual);
    assertEquals(expected.length, got.length);
    for (int i = 0; i < got.length; i++) {
      if (expected[i] != got[i]) {
        throw new AssertionError(actual.name() + "[" + i + "]: expected " + expected[i] + " got " + got[i]);
      }
    }
  }

  private static String model(Path p, String weight) {
    return "  - model: " + abs(p) + "\n    parameters:\n      weight: " + weight + "\n";
  }

  @Test
  void threeModelsWithoutNormalizeAreAPlainWeightedSum() throws Exception {
    Path c = TestModels.derive(Fixtures.A, tmp.resolve("c"), t -> t.replaceAll((n, h) -> negate(h)), cfg -> cfg);
    var out = merge("models:\n" + model(Fixtures.A, "0.5") + model(Fixtures.B, "0.9") + model(c, "0.25")
        + "merge_method: linear\nparameters:\n  normalize: false\n");
    var a = TestModels.load(Fixtures.A);
    var b = TestModels.load(Fixtures.B);
    var cc = TestModels.load(c);
    for (String name : a.keySet()) {
      assertTensor(reference(new float[] {0.5f, 0.9f, 0.25f}, false, a.get(name), b.get(name), cc.get(name)), out.get(name));
    }
  }

  @Test
  void weightsThatDoNotSumToOneAreNormalized() throws Exception {
    var out = merge("models:\n" + model(Fixtures.A, "3") + model(Fixtures.B, "7") + "merge_method: linear\n");
    var a = TestModels.load(Fixtures.A);
    var b = TestModels.load(Fixtures.B);
    for (String name : a.keySet()) {
      assertTensor(reference(new float[] {3f, 7f}, true, a.get(name), b.get(name)), out.get(name));
    }
  }

  @Test
  void gradientInterpolatesAcrossLayersAndEmbeddingsTakeTheFirstValue() throws Exception {
    var out = merge("models:\n" + model(Fixtures.A, "[0.0, 1.0]") + model(Fixtures.B, "[1.0, 0.0]")
        + "merge_method: linear\n");
    var a = TestModels.load(Fixtures.A);
    var b = TestModels.load(Fixtures.B);
    String mid = "model.layers.1.mlp.down_proj.weight"; // layer 1 of 4: t = 1/3
    assertTensor(TestModels.shorts(b.get("model.embed_tokens.weight")), out.get("model.embed_tokens.weight"));
    assertTensor(TestModels.shorts(b.get("lm_head.weight")), out.get("lm_head.weight"));
    assertTensor(TestModels.shorts(b.get("model.norm.weight")), out.get("model.norm.weight"));
    assertTensor(TestModels.shorts(b.get("model.layers.0.self_attn.q_proj.weight")), out.get("model.layers.0.self_attn.q_proj.weight"));
    assertTensor(TestModels.shorts(a.get("model.layers.3.self_attn.q_proj.weight")), out.get("model.layers.3.self_attn.q_proj.weight"));
    float wa = (float) ((1 - 1.0 / 3.0) * 0.0 + (1.0 / 3.0) * 1.0);
    float wb = (float) ((1 - 1.0 / 3.0) * 1.0 + (1.0 / 3.0) * 0.0);
    assertTensor(reference(new float[] {wa, wb}, true, a.get(mid), b.get(mid)), out.get(mid));
  }

  @Test
  void filtersPickTheFirstMatchingRule() throws Exception {
    var out = merge("models:\n"
        + model(Fixtures.A, "\n        - filter: mlp\n          value: 1.0\n        - value: 0.0")
        + model(Fixtures.B, "\n        - filter: mlp\n          value: 0.0\n        - value: 1.0")
        + "merge_method: linear\n");
    var a = TestModels.load(Fixtures.A);
    var b = TestModels.load(Fixtures.B);
    for (String name : a.keySet()) {
      HostTensor expected = name.contains("mlp") ? a.get(name) : b.get(name);
      assertTensor(TestModels.shorts(expected), out.get(name));
    }
  }

  @Test
  void topLevelWeightIsADefaultForModelsWithoutOne() throws Exception {
    var out = merge("models:\n  - model: " + abs(Fixtures.A) + "\n" + model(Fixtures.B, "0.7")
        + "merge_method: linear\nparameters:\n  weight: 0.3\n");
    assertTensor(TestModels.shorts(TestModels.load(Fixtures.MERGED).get("lm_head.weight")), out.get("lm_head.weight"));
  }

  @Test
  void tiedModelsMergeWithoutInventingAnLmHead() throws Exception {
    Path tiedA = TestModels.derive(Fixtures.A, tmp.resolve("ta"), t -> t.remove("lm_head.weight"),
        cfg -> cfg.put("tie_word_embeddings", true));
    Path tiedB = TestModels.derive(Fixtures.B, tmp.resolve("tb"), t -> t.remove("lm_head.weight"),
        cfg -> cfg.put("tie_word_embeddings", true));
    var out = merge("models:\n" + model(tiedA, "0.3") + model(tiedB, "0.7") + "merge_method: linear\n");
    assertFalse(out.containsKey("lm_head.weight"));
    assertTensor(TestModels.shorts(TestModels.load(Fixtures.MERGED).get("model.embed_tokens.weight")),
        out.get("model.embed_tokens.weight"));
  }

  @Test
  void tiedAndUntiedModelsAreRefusedBeforeAnyWork() throws Exception {
    Path tiedA = TestModels.derive(Fixtures.A, tmp.resolve("ta"), t -> t.remove("lm_head.weight"),
        cfg -> cfg.put("tie_word_embeddings", true));
    String yaml = "models:\n" + model(tiedA, "0.3") + model(Fixtures.B, "0.7") + "merge_method: linear\n";
    UserError e = assertThrows(UserError.class, () -> MergePlanner.plan(MergeConfig.parse(TestModels.config(tmp, yaml), yaml)));
    assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("ties"), e.getMessage());
  }

  @Test
  void differentShapesAreRefused() throws Exception {
    Path wide = TestModels.derive(Fixtures.B, tmp.resolve("wide"), t -> {
      HostTensor norm = t.get("model.norm.weight");
      ByteBuffer bigger = ByteBuffer.allocate(2 * 256).order(ByteOrder.LITTLE_ENDIAN);
      t.put(norm.name(), new HostTensor(norm.name(), DType.BF16, new long[] {256}, bigger));
    }, cfg -> cfg);
    String yaml = "models:\n" + model(Fixtures.A, "0.3") + model(wide, "0.7") + "merge_method: linear\n";
    UserError e = assertThrows(UserError.class, () -> MergePlanner.plan(MergeConfig.parse(TestModels.config(tmp, yaml), yaml)));
    assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("[256]"), e.getMessage());
  }

  @Test
  void outDtypeFloat32KeepsTheUnroundedSum() throws Exception {
    var out = merge("models:\n" + model(Fixtures.A, "0.3") + model(Fixtures.B, "0.7")
        + "merge_method: linear\nout_dtype: float32\n");
    HostTensor norm = out.get("model.norm.weight");
    assertEquals(DType.F32, norm.dtype());
    var a = TestModels.shorts(TestModels.load(Fixtures.A).get("model.norm.weight"));
    var b = TestModels.shorts(TestModels.load(Fixtures.B).get("model.norm.weight"));
    ByteBuffer data = norm.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < a.length; i++) {
      float expected = (FloatBits.bf16ToFloat(a[i]) * 0.3f + FloatBits.bf16ToFloat(b[i]) * 0.7f) / (0.3f + 0.7f);
      assertEquals(expected, data.getFloat(i * 4));
    }
  }

  private static HostTensor negate(HostTensor t) {
    ByteBuffer copy = ByteBuffer.allocate(t.data().remaining()).order(ByteOrder.LITTLE_ENDIAN);
    short[] values = TestModels.shorts(t);
    for (short v : values) {
      copy.putShort((short) (v ^ 0x8000));
    }
    return new HostTensor(t.name(), t.dtype(), t.shape(), copy.flip());
  }
}
