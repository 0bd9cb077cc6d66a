package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.generate.TokenText;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.SafetensorsHeader;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.testing.Closeness;
import dev.amalgam.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/** The Hugging Face reference outputs in src/test/resources/golden, and the example models they belong to. */
public final class Golden {
  public static final int PROMPTS = 4;

  private final String model;
  private final Map<String, TensorInfo> tensors;

  private Golden(String model, Path file) {
    this.model = model;
    tensors = SafetensorsHeader.read(file).tensors();
  }

  /** {@code a}, {@code b} or {@code merged}. */
  public static Golden of(String model) {
    return new Golden(model, Fixtures.generationGoldenTensors(model));
  }

  /** The example checkpoint folder for a golden model name (tests run in the repository root). */
  public static Path modelDir(String model) {
    return switch (model) {
      case "a" -> Fixtures.A;
      case "b" -> Fixtures.B;
      case "merged" -> Fixtures.MERGED;
      default -> throw new IllegalArgumentException("no golden model " + model);
    };
  }

  public int[] ints(String name) {
    ByteBuffer b = bytes(name);
    int[] out = new int[b.remaining() / 4];
    b.asIntBuffer().get(out);
    return out;
  }

  public float[] floats(String name) {
    ByteBuffer b = bytes(name);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  private ByteBuffer bytes(String name) {
    TensorInfo info = tensors.get(name);
    byte[] data = new byte[(int) info.byteSize()];
    try (var channel = Files.newByteChannel(info.file())) {
      channel.position(info.fileOffset());
      ByteBuffer target = ByteBuffer.wrap(data);
      while (target.hasRemaining() && channel.read(target) >= 0) {
        // read until full
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The worst relative L2 error, over the golden prompts, of this model's prompt logits computed on
   * {@code backend} (each prompt prefilled into a fresh one-slot cache).
   */
  public double worstPromptLogitsError(Backend backend) {
    double worst = 0;
    try (ModelDirectory dir = ModelDirectory.open(modelDir(model));
        Transformer transformer = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      for (int p = 0; p < PROMPTS; p++) {
        int[] ids = ints("p" + p + ".ids");
        try (KvCache cache = transformer.newCache(1, ids.length)) {
          float[] logits = backend.download(
              transformer.forward(ids, new int[ids.length], IntStream.range(0, ids.length).toArray(), cache, false));
          worst = Math.max(worst, Closeness.relativeL2(logits, floats("p" + p + ".logits")));
        }
      }
    }
    return worst;
  }

  /**
   * This model's greedy tokens for each golden prompt, generated on {@code backend} with the checkpoint's EOS
   * ids, as many as transformers' greedy run has.
   */
  public int[][] greedyTokens(Backend backend) {
    int[][] tokens = new int[PROMPTS][];
    try (ModelDirectory dir = ModelDirectory.open(modelDir(model));
        Transformer transformer = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      Generator generator = new Generator(transformer, Set.copyOf(dir.config().eosTokenIds()));
      for (int p = 0; p < PROMPTS; p++) {
        GenerationSettings settings = GenerationSettings.greedy(ints("p" + p + ".greedy").length);
        tokens[p] = generator.generate(ints("p" + p + ".ids"), settings, TokenText.NONE, TokenListener.NONE).tokens();
      }
    }
    return tokens;
  }

}
