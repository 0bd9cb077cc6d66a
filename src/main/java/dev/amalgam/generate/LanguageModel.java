package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import dev.amalgam.chat.ChatTemplate;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import dev.amalgam.tokenizer.HfTokenizer;
import dev.amalgam.tokenizer.StreamingDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ObjIntConsumer;

/**
 * A model ready to generate text: weights on a backend, its tokenizer and its EOS ids. Weights come from a
 * checkpoint folder, or from a merge held in memory with the folder supplying config.json and the tokenizer.
 */
public final class LanguageModel implements AutoCloseable {
  private final Path folder;
  private final Transformer transformer;
  private final HfTokenizer tokenizer;
  private final Set<Integer> eosIds;
  /** Parsed on first use and kept, since a prompts file renders it once per line. */
  private ChatTemplate chatTemplate;

  private LanguageModel(Path folder, Transformer transformer, HfTokenizer tokenizer, Set<Integer> eosIds) {
    this.folder = folder;
    this.transformer = transformer;
    this.tokenizer = tokenizer;
    this.eosIds = eosIds;
  }

  /** Loads config.json, the safetensors weights and the tokenizer of a Hugging Face model folder. */
  public static LanguageModel open(Backend backend, Path modelDir) {
    // The backend copies every weight on upload, so the mapped files can be closed once loading is done.
    try (ModelDirectory dir = ModelDirectory.open(modelDir)) {
      return assemble(backend, modelDir, dir.config(), WeightSource.of(dir));
    }
  }

  /**
   * Generates from weights that are not a checkpoint folder, such as a merge result in host memory or already
   * on the GPU, described by {@code config}, with {@code modelDir} supplying the tokenizer and
   * generation_config.json. Host weights are copied to the backend, so the caller may release them once this
   * returns; device-resident ones are taken over by the backend (see {@link WeightSource.Weight#placeOn}).
   */
  public static LanguageModel fromWeights(Backend backend, Path modelDir, ModelConfig config, WeightSource weights) {
    return assemble(backend, modelDir, config, weights);
  }

  private static LanguageModel assemble(Backend backend, Path modelDir, ModelConfig config, WeightSource weights) {
    HfTokenizer tokenizer = HfTokenizer.load(modelDir);
    try {
      Transformer transformer = Transformer.load(backend, config, weights);
      return new LanguageModel(modelDir, transformer, tokenizer, EosTokens.of(modelDir, config, tokenizer));
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /**
   * A chat prompt in this model's own template: an optional system message, then the user's, then the
   * assistant's turn opened. Special tokens are already in the text, so {@link #encode} adds none.
   */
  public String chatPrompt(String system, String user) {
    List<Map<String, Object>> messages = new ArrayList<>();
    if (system != null) {
      messages.add(message("system", system));
    }
    messages.add(message("user", user));
    return chatPrompt(messages);
  }

  /** {@code messages} ({role, content} and whatever else the template reads) with the assistant's turn opened. */
  public synchronized String chatPrompt(List<Map<String, Object>> messages) {
    if (chatTemplate == null) {
      chatTemplate = ChatTemplate.load(folder);
    }
    return chatTemplate.render(messages, true, Map.of());
  }

  private static Map<String, Object> message(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  public int[] encode(String text) {
    int[] ids = tokenizer.encode(text);
    int vocab = transformer.spec().vocabSize();
    for (int id : ids) {
      // An id past the embedding table would be read out of bounds: the tokenizer knows a token the model does not.
      if (id < 0 || id >= vocab) {
        throw new UserError("the tokenizer encodes the prompt with token id " + id + ", but the model's vocab_size "
            + "is " + vocab + ": the tokenizer does not belong to this model");
      }
    }
    return ids;
  }

  /** The model's weights by checkpoint name, as the backend holds them: rewritable in place, in use by the model. */
  public Map<String, Tensor> weights() {
    return transformer.weights().byName();
  }

  public Set<Integer> eosIds() {
    return eosIds;
  }

  public String device() {
    return transformer.backend().device();
  }

  /**
   * The negative log-likelihood (natural log, float64) of each token of {@code tokens} from the second on, given the
   * tokens before it: one forward pass over them all, as a language model is scored.
   */
  public double[] tokenNll(int[] tokens) {
    return score(tokens).nll();
  }

  /**
   * How the model scores each token of {@code tokens} from the second on, given the tokens before it: its negative
   * log-likelihood, and the model's own most likely token there with its negative log-likelihood (natural log,
   * float64), from one forward pass.
   */
  public record Scores(double[] nll, int[] top, double[] topNll) {}

  public Scores score(int[] tokens) {
    if (tokens.length < 2) {
      return new Scores(new double[0], new int[0], new double[0]);
    }
    int[] slots = new int[tokens.length];
    int[] positions = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      positions[i] = i;
    }
    try (KvCache cache = transformer.newCache(1, tokens.length)) {
      Backend backend = transformer.backend();
      float[] logits = backend.download(transformer.forward(tokens, slots, positions, cache, false));
      int vocab = logits.length / tokens.length;
      double[] nll = new double[tokens.length - 1];
      int[] top = new int[tokens.length - 1];
      double[] topNll = new double[tokens.length - 1];
      for (int i = 0; i + 1 < tokens.length; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
          if (logits[i * vocab + v] > max) {
            max = logits[i * vocab + v];
            top[i] = v;
          }
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
          sum += Math.exp(logits[i * vocab + v] - max);
        }
        nll[i] = max + Math.log(sum) - logits[i * vocab + tokens[i + 1]];
        topNll[i] = Math.log(sum);
      }
      return new Scores(nll, top, topNll);
    }
  }

  /** The text of {@code ids}, special tokens included as they are. */
  public String decode(int[] ids) {
    return tokenizer.decode(ids);
  }

  /** The text of one token, as a tokenizer decodes it alone. */
  public String tokenText(int id) {
    return tokenizer.decode(new int[] {id});
  }

  /** Generates a continuation of {@code prompt} (token ids, special tokens already in place). */
  public GenerationResult generate(int[] prompt, GenerationSettings settings, TokenListener listener) {
    return generator().generate(prompt, settings, textDecoder(), listener);
  }

  /** A request for {@link #generateAll}, decoding its tokens with this model's tokenizer. */
  public GenerationRequest request(int[] prompt, GenerationSettings settings, String label) {
    return request(prompt, settings, TokenListener.NONE, label);
  }

  /** A request whose tokens {@code listener} hears as they come, as a server streams them. */
  public GenerationRequest request(int[] prompt, GenerationSettings settings, TokenListener listener, String label) {
    return new GenerationRequest(prompt, settings, textDecoder(), listener, label);
  }

  /** Runs {@link Generator#serve} on this model: the caller's thread becomes the server's generation loop. */
  public void serve(Generator.RequestQueue queue, int slots, int capacity, ObjIntConsumer<GenerationResult> onFinished)
      throws InterruptedException {
    transformer.backend().useOnThisThread();
    generator().serve(queue, slots, capacity, onFinished);
  }

  public int vocabSize() {
    return transformer.spec().vocabSize();
  }

  /** The model's context limit in positions. */
  public int contextLimit() {
    return transformer.spec().contextLimit();
  }

  /** Generates many prompts, {@code batchSize} sequences decoded together (see {@link Generator#generateAll}). */
  public BatchResult generateAll(List<GenerationRequest> requests, int batchSize,
      ObjIntConsumer<GenerationResult> onFinished) {
    return generator().generateAll(requests, batchSize, onFinished);
  }

  private Generator generator() {
    return new Generator(transformer, eosIds);
  }

  private TokenText textDecoder() {
    StreamingDecoder decoder = tokenizer.streamingDecoder();
    return new TokenText() {
      @Override
      public String accept(int id) {
        return decoder.accept(id);
      }

      @Override
      public String flush() {
        return decoder.flush();
      }
    };
  }

  @Override
  public void close() {
    transformer.close();
    tokenizer.close();
  }
}
