package dev.amalgam.generate;

import dev.amalgam.BoundedJson;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ids that end generation. Checkpoints spread them over three files (chat models often list extra ones,
 * such as {@code <|im_end|>} next to {@code <|endoftext|>}, only in generation_config.json), so all are taken.
 */
public final class EosTokens {
  private EosTokens() {}

  public static Set<Integer> of(Path modelDir, ModelConfig config, HfTokenizer tokenizer) {
    Set<Integer> ids = new TreeSet<>(config.eosTokenIds());
    Path generationConfig = modelDir.resolve("generation_config.json");
    if (Files.exists(generationConfig)) {
      ids.addAll(ModelConfig.tokenIds(BoundedJson.read(generationConfig, 1 << 20, "generation_config.json")
          .get("eos_token_id"), generationConfig + ": `eos_token_id`"));
    }
    tokenizer.eosTokenId().ifPresent(ids::add);
    return ids;
  }
}
