package dev.amalgam.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.config.HfJson;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The output vocabulary of a merge with {@code tokenizer_source} (mergekit's tokenizer/build.py and embed.py), and
 * each model's embedding matrices re-indexed to it before the merge method sees them:
 * <ul>
 *   <li>{@code base}: the base model's tokenizer (the first model's without a base); a model's own tokenizer
 *       names one; {@code union}: the base's, then every token another model has and it lacks (its vocabulary's
 *       first, then the added ones), appended as added tokens;
 *   <li>each model's tokens are those of its tokenizer.json whose ids fall inside its embedding rows;
 *   <li>a model's row for an output token is its own where it has the token; otherwise, as mergekit decides once per
 *       token: the row of the one model that has it, zero where none has, the base's where the base has it, else
 *       the mean of the rows of the models that have it;
 *   <li>rows up to a multiple of {@code pad_to_multiple_of} are the mean of the model's real rows.
 * </ul>
 */
final class VocabularyPlan {
  /** Per model, its tokens by id (the model's own numbering), ids by token, and the tokenizer.json read. */
  private record Vocabulary(List<String> byId, Map<String, Integer> ids, Map<String, JsonNode> added,
      JsonNode tokenizer) {}

  private final int tokens;
  private final int rows;
  /** [model][output id]: the model's own id of the output token, or −1 where it lacks it. */
  private final int[][] sourceIds;
  private final int base;
  private final Path tokenizerDir;
  /** The union's tokenizer.json, or null where the source's files are copied as they are. */
  private final String unionTokenizer;
  /** The re-indexed matrices, by the very TensorInfo the plan hands out for them. */
  private final Map<TensorInfo, Supplier<ByteBuffer>> views = Collections.synchronizedMap(new IdentityHashMap<>());

  private VocabularyPlan(int tokens, int rows, int[][] sourceIds, int base, Path tokenizerDir, String unionTokenizer) {
    this.tokens = tokens;
    this.rows = rows;
    this.sourceIds = sourceIds;
    this.base = base;
    this.tokenizerDir = tokenizerDir;
    this.unionTokenizer = unionTokenizer;
  }

  /**
   * The vocabulary {@code spec} asks for over {@code inputs} ({@code base} the index of the base model, or of the
   * first model without one), each model's tokens limited to its embedding rows {@code embeddingRows[m]}.
   */
  static VocabularyPlan build(MergeConfig.TokenizerSource spec, List<ModelDirectory> inputs, int base,
      long[] embeddingRows, IntFunction<String> label) {
    List<Vocabulary> vocabularies = new ArrayList<>();
    for (int m = 0; m < inputs.size(); m++) {
      vocabularies.add(read(inputs.get(m).dir(), embeddingRows[m], label.apply(m)));
    }
    int source = base;
    if (spec.kind().equals(MergeConfig.TokenizerSource.MODEL)) {
      Path wanted = spec.model().orElseThrow().path();
      source = -1;
      for (int m = 0; m < inputs.size(); m++) {
        if (inputs.get(m).dir().toAbsolutePath().normalize().equals(wanted.toAbsolutePath().normalize())) {
          source = m;
        }
      }
      if (source < 0) {
        throw new UserError("tokenizer_source " + spec.model().get().written() + " is not one of the merged models; "
            + "name one of them, base or union");
      }
    }
    List<String> output = new ArrayList<>(vocabularies.get(source).byId());
    Map<String, Integer> outputIds = new LinkedHashMap<>(vocabularies.get(source).ids());
    ObjectNode union = null;
    if (spec.kind().equals(MergeConfig.TokenizerSource.UNION)) {
      union = (ObjectNode) vocabularies.get(base).tokenizer();
      // The other models' vocabularies first, then every added token, as mergekit appends them.
      for (boolean added : new boolean[] {false, true}) {
        for (Vocabulary vocabulary : vocabularies) {
          for (String token : vocabulary.byId()) {
            if (token != null && vocabulary.added().containsKey(token) == added && !outputIds.containsKey(token)) {
              outputIds.put(token, output.size());
              JsonNode entry = vocabulary.added().get(token);
              ((ArrayNode) union.withArray("added_tokens")).addObject().put("id", output.size()).put("content", token)
                  .put("single_word", false).put("lstrip", false).put("rstrip", false)
                  .put("normalized", entry == null || !entry.path("special").asBoolean())
                  .put("special", entry != null && entry.path("special").asBoolean());
              output.add(token);
            }
          }
        }
      }
    }
    int tokens = output.size();
    int rows = (tokens + spec.padToMultipleOf() - 1) / spec.padToMultipleOf() * spec.padToMultipleOf();
    int[][] sourceIds = new int[inputs.size()][tokens];
    for (int m = 0; m < inputs.size(); m++) {
      for (int id = 0; id < tokens; id++) {
        String token = output.get(id);
        sourceIds[m][id] = token == null ? -1 : vocabularies.get(m).ids().getOrDefault(token, -1);
      }
    }
    return new VocabularyPlan(tokens, rows, sourceIds, base, inputs.get(source).dir(),
        union == null ? null : HfJson.write(union));
  }

  /** The output's embedding rows (tokens, then padding). */
  int rows() {
    return rows;
  }

  /**
   * The inputs of an embedding matrix as the merge reads them: each re-indexed to the output vocabulary, read
   * through {@link #map} (the originals from {@code models}, in the vocabulary's model order).
   */
  List<TensorInfo> reindex(List<TensorInfo> originals, List<ModelDirectory> models) {
    List<TensorInfo> reindexed = new ArrayList<>();
    for (int m = 0; m < originals.size(); m++) {
      TensorInfo original = originals.get(m);
      long cols = original.shape()[1];
      TensorInfo view = new TensorInfo(original.name(), original.dtype(), new long[] {rows, cols},
          original.file().resolveSibling(original.file().getFileName() + "#" + original.name() + "@vocabulary"), 0,
          rows * cols * original.dtype().byteSize());
      int model = m;
      views.put(view, () -> {
        ByteBuffer[] mapped = new ByteBuffer[originals.size()];
        for (int k = 0; k < mapped.length; k++) {
          mapped[k] = models.get(k).map(originals.get(k));
        }
        return reindexed(model, originals, mapped);
      });
      reindexed.add(view);
    }
    return reindexed;
  }

  /** The bytes of a re-indexed matrix ({@link #reindex}), or null for any other tensor. */
  ByteBuffer map(TensorInfo tensor) {
    Supplier<ByteBuffer> view = views.get(tensor);
    return view == null ? null : view.get();
  }

  /** Where the output's tokenizer files come from. */
  Path tokenizerDir() {
    return tokenizerDir;
  }

  /** The union's tokenizer.json, written over the copied one; empty for base or a model's vocabulary. */
  Optional<String> unionTokenizer() {
    return Optional.ofNullable(unionTokenizer);
  }

  /**
   * Model {@code m}'s embedding matrix re-indexed to the output vocabulary, in the dtype of its input, from every
   * model's matrix ({@code originals}, laid out as {@code inputs}).
   */
  private ByteBuffer reindexed(int m, List<TensorInfo> inputs, ByteBuffer[] originals) {
    int cols = (int) inputs.get(m).shape()[1];
    DType dtype = inputs.get(m).dtype();
    ByteBuffer out = ByteBuffer.allocate(rows * cols * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    double[] sum = new double[cols];
    for (int id = 0; id < tokens; id++) {
      float[] values = sourceIds[m][id] >= 0 ? row(originals[m], dtype, sourceIds[m][id], cols)
          : defaultRow(id, inputs, originals, cols);
      for (int c = 0; c < cols; c++) {
        sum[c] += values[c];
      }
      put(out, dtype, values);
    }
    float[] mean = new float[cols];
    for (int c = 0; c < cols; c++) {
      mean[c] = (float) (sum[c] / tokens);
    }
    for (int id = tokens; id < rows; id++) {
      put(out, dtype, mean);
    }
    return out.flip();
  }

  private static void put(ByteBuffer out, DType dtype, float[] values) {
    for (float v : values) {
      switch (dtype) {
        case F32 -> out.putFloat(v);
        case F16 -> out.putShort(FloatBits.floatToF16(v));
        default -> out.putShort(FloatBits.floatToBf16(v));
      }
    }
  }

  /** The row of an output token some model lacks, as mergekit decides it once for all models. */
  private float[] defaultRow(int id, List<TensorInfo> inputs, ByteBuffer[] originals, int cols) {
    List<Integer> having = new ArrayList<>();
    for (int m = 0; m < sourceIds.length; m++) {
      if (sourceIds[m][id] >= 0) {
        having.add(m);
      }
    }
    if (having.isEmpty()) {
      return new float[cols];
    }
    if (having.size() == 1 || having.contains(base)) {
      int m = having.size() == 1 ? having.get(0) : base;
      return row(originals[m], inputs.get(m).dtype(), sourceIds[m][id], cols);
    }
    float[] mean = new float[cols];
    for (int m : having) {
      float[] r = row(originals[m], inputs.get(m).dtype(), sourceIds[m][id], cols);
      for (int c = 0; c < cols; c++) {
        mean[c] += r[c];
      }
    }
    for (int c = 0; c < cols; c++) {
      mean[c] /= having.size();
    }
    return mean;
  }

  private static float[] row(ByteBuffer matrix, DType dtype, int id, int cols) {
    float[] out = new float[cols];
    TaskVectorView.values(matrix, dtype, (long) id * cols, cols, out, new short[cols]);
    return out;
  }

  /** A model's tokens whose ids fall inside its {@code rows} embedding rows. */
  private static Vocabulary read(Path dir, long rows, String label) {
    JsonNode root = TokenizerJson.read(dir).orElseThrow(() -> new UserError(label + " has no tokenizer.json, which "
        + "tokenizer_source needs (amalgam reads fast tokenizers only, as mergekit builds them)"));
    List<String> byId = new ArrayList<>();
    Map<String, Integer> ids = new LinkedHashMap<>();
    Map<String, JsonNode> added = new LinkedHashMap<>();
    TokenizerJson.forEachToken(root, (token, id, entry) -> {
      if (put(byId, ids, token, id, rows) && entry != null) {
        added.put(token, entry);
      }
    });
    return new Vocabulary(byId, ids, added, root);
  }

  private static boolean put(List<String> byId, Map<String, Integer> ids, String token, int id, long rows) {
    if (id < 0 || id >= rows) {
      return false;
    }
    while (byId.size() <= id) {
      byId.add(null);
    }
    byId.set(id, token);
    ids.put(token, id);
    return true;
  }
}
