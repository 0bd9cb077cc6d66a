package dev.amalgam.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.amalgam.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer, run by the Rust {@code tokenizers} library through DJL.
 *
 * <p>Encoding never adds special tokens: a chat template already writes them into the text, where they are
 * matched literally as added tokens (so {@code <|im_start|>} becomes one id). Decoding keeps special tokens,
 * like {@code tokenizer.decode(ids)} in transformers.
 */
public final class HfTokenizer implements AutoCloseable {
  public static final String FILE_NAME = "tokenizer.json";

  static {
    // DJL "calls home" (an HTTP request) on tokenizer creation unless told not to; amalgam must work
    // offline and quietly. The native library itself is bundled in the DJL jar and only copied to a cache.
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("OPT_OUT_TRACKING", "true");
  }

  private final HuggingFaceTokenizer tokenizer;
  private final TokenizerConfig config;
  private final boolean cleanUpSpaces;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, TokenizerConfig config) {
    this.tokenizer = tokenizer;
    this.config = config;
    // transformers applies this post-processing in decode() only when the config asks for it.
    this.cleanUpSpaces = config.flag("clean_up_tokenization_spaces", false);
  }

  /** Loads {@code modelDir/tokenizer.json} and (if present) {@code modelDir/tokenizer_config.json}. */
  public static HfTokenizer load(Path modelDir) {
    Path file = modelDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new UserError("no " + FILE_NAME + " in " + modelDir + " (the tokenizer is needed to encode prompts)");
    }
    TokenizerPatterns.checkSafe(file);
    TokenizerConfig config = TokenizerConfig.load(modelDir);
    Map<String, String> options = new HashMap<>();
    options.put("addSpecialTokens", "false");
    // DJL defaults to truncating at 512 tokens and padding, which suit a BERT encoder, not a prompt.
    options.put("truncation", "false");
    options.put("padding", "false");
    // Reading the stream ourselves keeps DJL from looking at tokenizer_config.json on its own and from
    // treating the path as a hub model id.
    try (InputStream in = Files.newInputStream(file)) {
      return new HfTokenizer(HuggingFaceTokenizer.newInstance(in, options), config);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + TokenizerConfig.firstLine(e.getMessage()), e);
    } catch (RuntimeException e) {
      // The Rust side reports a corrupt file as a RuntimeException carrying serde's message.
      throw new UserError(file + " is not a valid tokenizer file: " + TokenizerConfig.firstLine(e.getMessage()), e);
    }
  }

  /** Token ids for {@code text}, without adding any special tokens; special tokens in the text still match. */
  public int[] encode(String text) {
    Encoding encoding = tokenizer.encode(text, false, false);
    long[] ids = encoding.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** The text of {@code ids}, special tokens included; invalid UTF-8 byte runs become U+FFFD. */
  public String decode(int[] ids) {
    if (ids.length == 0) {
      return "";
    }
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      wide[i] = ids[i];
    }
    String text = tokenizer.decode(wide, false);
    return cleanUpSpaces ? cleanUpTokenization(text) : text;
  }

  /** The id of a token written exactly as in the vocabulary (or an added token), if it is one token. */
  public OptionalInt tokenId(String token) {
    // Added/special tokens are matched whole by the tokenizer, so they encode to a single id. A regular
    // vocabulary entry in byte-level form (e.g. "Ġthe") would not round-trip through encode, so it is only
    // accepted when encoding gives back exactly one id whose decoding is the token itself.
    int[] ids = encode(token);
    if (ids.length == 1 && decode(ids).equals(token)) {
      return OptionalInt.of(ids[0]);
    }
    return OptionalInt.empty();
  }

  /** {@code bos_token} from tokenizer_config.json, or null when the model has none. */
  public String bosToken() {
    return config.specialToken("bos_token").orElse(null);
  }

  /** {@code eos_token} from tokenizer_config.json, or null when the model has none. */
  public String eosToken() {
    return config.specialToken("eos_token").orElse(null);
  }

  /** The id of {@link #eosToken()}, if it is set and is a single token. */
  public OptionalInt eosTokenId() {
    Optional<String> eos = config.specialToken("eos_token");
    return eos.isPresent() ? tokenId(eos.get()) : OptionalInt.empty();
  }

  /** The parsed tokenizer_config.json (empty when the file is absent). */
  public TokenizerConfig config() {
    return config;
  }

  /** A fresh decoder for streaming generated ids as text. */
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder(this);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** transformers' {@code clean_up_tokenization}: undo the spaces BERT-era tokenizers put before punctuation. */
  static String cleanUpTokenization(String text) {
    return text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
