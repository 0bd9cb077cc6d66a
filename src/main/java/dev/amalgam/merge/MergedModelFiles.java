package dev.amalgam.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.chat.ChatTemplate;
import dev.amalgam.config.HfJson;
import dev.amalgam.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** The non-tensor files of a merged model folder: config, tokenizer and chat template, card, merge config. */
final class MergedModelFiles {
  /** Tokenizer, chat template and generation files HF may look for, copied when the template model has them. */
  static final List<String> TOKENIZER_FILES = List.of(
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
      "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json",
      "generation_config.json");

  private MergedModelFiles() {}

  static void write(MergePlan plan, Path folder, String title, boolean copyTokenizer) {
    try {
      Files.writeString(folder.resolve("config.json"), plan.outputConfig().withDType(plan.outDType()));
      Files.writeString(folder.resolve("mergekit_config.yml"), plan.config().yamlText(), StandardCharsets.UTF_8);
      Files.writeString(folder.resolve("README.md"), ModelCard.render(plan.config(), plan.method(), title), StandardCharsets.UTF_8);
      if (copyTokenizer) {
        for (String name : TOKENIZER_FILES) {
          Path source = plan.tokenizerDir().resolve(name);
          if (Files.isRegularFile(source)) {
            Files.copy(source, folder.resolve(name));
          }
        }
        if (plan.chatTemplate().isPresent()) {
          writeChatTemplate(folder, plan.chatTemplate().get());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write model files into " + folder, e);
    }
  }

  /** A temporary folder with {@code source}'s tokenizer files and {@code tokenizerJson} as its tokenizer.json. */
  static Path unionTokenizerFolder(Path source, String tokenizerJson) {
    try {
      Path folder = Files.createTempDirectory("amalgam-union-tokenizer");
      for (String name : TOKENIZER_FILES) {
        if (Files.isRegularFile(source.resolve(name))) {
          Files.copy(source.resolve(name), folder.resolve(name));
        }
      }
      Files.writeString(folder.resolve("tokenizer.json"), tokenizerJson, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
      return folder;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the union's tokenizer files", e);
    }
  }

  /**
   * The config's chat template as the output's: chat_template.jinja, which transformers reads first, and the
   * tokenizer_config.json entry where there is one, so that the two never disagree.
   */
  private static void writeChatTemplate(Path folder, String template) throws IOException {
    Files.writeString(folder.resolve(ChatTemplate.JINJA_FILE), template, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    Path config = folder.resolve(TokenizerConfig.FILE_NAME);
    if (Files.isRegularFile(config)) {
      ObjectNode root = (ObjectNode) new ObjectMapper().readTree(config.toFile());
      if (root.has("chat_template")) {
        root.put("chat_template", template);
        Files.writeString(config, HfJson.write(root), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
      }
    }
  }
}
