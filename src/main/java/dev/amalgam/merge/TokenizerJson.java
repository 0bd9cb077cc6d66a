package dev.amalgam.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.BoundedJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A model's tokenizer.json, read for the tokens and ids its embedding rows stand for. */
final class TokenizerJson {
  /** tokenizer.json of a large vocabulary is a few MB; the bound keeps a runaway file out of memory. */
  private static final long MAX_BYTES = 64L << 20;

  /** One token of a tokenizer; {@code added} is its added_tokens entry, or null for a vocabulary token. */
  interface TokenVisitor {
    void visit(String token, int id, JsonNode added);
  }

  private TokenizerJson() {}

  /** The model's tokenizer.json; empty when it has none. */
  static Optional<JsonNode> read(Path modelDir) {
    Path file = modelDir.resolve("tokenizer.json");
    return Files.isRegularFile(file) ? Optional.of(BoundedJson.read(file, MAX_BYTES, "tokenizer.json"))
        : Optional.empty();
  }

  /** Every token of {@code root}: its vocabulary's, in order, then its added tokens. */
  static void forEachToken(JsonNode root, TokenVisitor visitor) {
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isArray()) {  // Unigram: [piece, score] pairs, the id being the index
      for (int id = 0; id < vocab.size(); id++) {
        visitor.visit(vocab.get(id).path(0).asText(), id, null);
      }
    }
    vocab.fields().forEachRemaining(e -> visitor.visit(e.getKey(), e.getValue().asInt(), null));
    root.path("added_tokens").forEach(t -> visitor.visit(t.path("content").asText(), t.path("id").asInt(), t));
  }
}
