package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Models whose embedding matrices ({@code embed_tokens}, {@code lm_head}) differ only in their number of rows, as
 * Qwen2 fine-tunes padded to different multiples do. mergekit merges the rows they all have (the top-left
 * submatrix); amalgam does too, but first checks, from each model's tokenizer.json, that only padding is cut: a
 * token whose id lies beyond the common rows is an error that names the models, and tokenizers that give ids
 * below them to different tokens are reported, since their rows are merged by id.
 */
final class EmbeddingRows {
  private EmbeddingRows() {}

  /** Whether a tensor holds one row per token. */
  static boolean isEmbedding(String name) {
    return name.endsWith("embed_tokens.weight") || name.equals("lm_head.weight");
  }

  /** Whether two models' tensors differ only in the rows of an embedding matrix. */
  static boolean differOnlyInRows(TensorInfo a, TensorInfo b) {
    return isEmbedding(a.name()) && a.shape().length == 2 && b.shape().length == 2 && a.shape()[1] == b.shape()[1];
  }

  /**
   * The rows every input's embedding matrices have, when some have more than others (empty when they agree),
   * checked against the models' tokenizers; {@code notes} gets what the merge should say about it.
   */
  static Optional<Long> common(List<ModelDirectory> inputs, IntFunction<String> label, List<String> notes) {
    long fewest = Long.MAX_VALUE;
    long most = 0;
    String tensor = null;
    for (TensorInfo t : inputs.get(0).tensors()) {
      if (isEmbedding(t.name()) && t.shape().length == 2) {
        for (ModelDirectory input : inputs) {
          long rows = input.tensor(t.name()).orElseThrow().shape()[0];
          fewest = Math.min(fewest, rows);
          most = Math.max(most, rows);
        }
        tensor = t.name();
      }
    }
    if (tensor == null || fewest == most) {
      return Optional.empty();
    }
    List<Map<String, Integer>> vocabularies = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Map<String, Integer> vocabulary = vocabulary(inputs.get(i).dir());
      if (vocabulary.isEmpty()) {
        notes.add("note: " + label.apply(i) + " has no tokenizer.json, so amalgam cannot check that the embedding rows "
            + "it drops are only padding");
      }
      long rows = inputs.get(i).tensor(tensor).orElseThrow().shape()[0];
      int largest = vocabulary.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
      if (largest >= fewest) {
        throw new UserError(label.apply(i) + " has " + rows + " embedding rows and a tokenizer with ids up to "
            + largest + ", but another model has only " + fewest + " rows: merging the rows they share would cut "
            + "real tokens. These models have different vocabularies; merge models that share a tokenizer "
            + "(mergekit's tokenizer_source, which builds a common one, is not supported yet)");
      }
      vocabularies.add(vocabulary);
    }
    for (int i = 1; i < inputs.size(); i++) {
      Optional<String> token = differentToken(vocabularies.get(0), vocabularies.get(i));
      if (token.isPresent()) {
        notes.add("note: " + label.apply(0) + " and " + label.apply(i) + " have different tokenizers (" + token.get()
            + "); their embedding rows are merged by id, as mergekit does without tokenizer_source");
      }
    }
    notes.add("note: the models' embedding matrices have " + fewest + " to " + most + " rows, beyond their tokenizers' "
        + vocabularies.get(0).size() + " tokens only padding: the first " + fewest + " rows are merged, as mergekit "
        + "does, and config.json gets vocab_size " + fewest);
    return Optional.of(fewest);
  }

  /** Each input's embedding rows (those of its first embedding matrix; 0 without one). */
  static long[] rows(List<ModelDirectory> inputs) {
    long[] rows = new long[inputs.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = inputs.get(i).tensors().stream().filter(t -> isEmbedding(t.name()) && t.shape().length == 2)
          .mapToLong(t -> t.shape()[0]).findFirst().orElse(0);
    }
    return rows;
  }

  /** The tensor as read over the first {@code rows} rows. */
  static TensorInfo firstRows(TensorInfo tensor, long rows) {
    long cols = tensor.shape()[1];
    return new TensorInfo(tensor.name(), tensor.dtype(), new long[] {rows, cols}, tensor.file(), tensor.fileOffset(),
        rows * cols * tensor.dtype().byteSize());
  }

  /** A token the two vocabularies give different ids, described; empty when none does. */
  private static Optional<String> differentToken(Map<String, Integer> a, Map<String, Integer> b) {
    for (Map.Entry<String, Integer> token : a.entrySet()) {
      Integer other = b.get(token.getKey());
      if (!token.getValue().equals(other)) {
        return Optional.of("`" + token.getKey() + "` is id " + token.getValue() + " in one and "
            + (other == null ? "missing" : "id " + other) + " in the other");
      }
    }
    return a.size() == b.size() ? Optional.empty() : Optional.of("one has " + a.size() + " tokens, the other "
        + b.size());
  }

  /** Every token of a model's tokenizer.json (its vocabulary and added tokens) with its id; empty without one. */
  private static Map<String, Integer> vocabulary(Path modelDir) {
    Map<String, Integer> ids = new HashMap<>();
    TokenizerJson.read(modelDir).ifPresent(root -> TokenizerJson.forEachToken(root, (token, id, added) ->
        ids.put(token, id)));
    return ids;
  }
}
