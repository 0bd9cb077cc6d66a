package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.backend.Tensor;
import dev.amalgam.generate.GenerationResult.FinishReason;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The generation loop for one sequence: prefill the prompt, then sample and feed back one token at a time
 * until an EOS id, a stop string, the token budget or the context ends it.
 */
public final class Generator {
  private final Transformer model;
  private final Set<Integer> eosIds;

  public Generator(Transformer model, Set<Integer> eosIds) {
    this.model = model;
    this.eosIds = Set.copyOf(eosIds);
  }

  public GenerationResult generate(int[] prompt, GenerationSettings settings, TokenText text, TokenListener listener) {
    int context = settings.contextFor(model.spec().contextLimit());
    if (prompt.length == 0) {
      throw new UserError("the prompt is empty");
    }
    if (prompt.length >= context) {
      throw new UserError("the prompt is " + prompt.length + " tokens, which leaves no room in the context of "
          + context + " tokens (raise --max-context, up to the model's " + model.spec().contextLimit() + ")");
    }
    int capacity = Math.min(context, prompt.length + settings.maxNewTokens());
    try (KvCache cache = model.newCache(1, capacity)) {
      return run(prompt, settings, capacity, cache, text, listener);
    }
  }

  private GenerationResult run(int[] prompt, GenerationSettings settings, int capacity, KvCache cache,
      TokenText text, TokenListener listener) {
    SplittableRandom random = new SplittableRandom(settings.seed());
    StopStrings stops = new StopStrings(settings.stopStrings());
    StringBuilder output = new StringBuilder();
    int[] history = Arrays.copyOf(prompt, capacity);
    int length = prompt.length;
    long start = System.nanoTime();
    long firstToken = 0;
    Tensor logits = model.prefill(prompt, cache, 0, 0);
    FinishReason finish = FinishReason.MAX_TOKENS;
    while (true) {
      int id = model.backend().sample(logits, settings.sampling(), new int[][] {Arrays.copyOf(history, length)},
          new double[] {random.nextDouble()})[0];
      if (firstToken == 0) {
        firstToken = System.nanoTime();
      }
      if (eosIds.contains(id)) {
        finish = FinishReason.EOS;
        break;
      }
      history[length++] = id;
      String piece = stops.accept(text.accept(id));
      output.append(piece);
      listener.onToken(id, piece);
      if (stops.stopped()) {
        finish = FinishReason.STOP;
        break;
      }
      if (length - prompt.length == settings.maxNewTokens()) {
        break;
      }
      if (length == capacity) {
        finish = FinishReason.CONTEXT;
        break;
      }
      logits = model.forward(new int[] {id}, new int[] {0}, new int[] {length - 1}, cache, true);
    }
    String tail = finish == FinishReason.STOP ? "" : stops.accept(text.flush());
    if (!stops.stopped()) {
      tail += stops.flush();
    }
    output.append(tail);
    listener.onEnd(tail);
    long end = System.nanoTime();
    int generated = length - prompt.length;
    double decodeSeconds = (end - firstToken) / 1e9;
    double rate = generated > 1 && decodeSeconds > 0 ? (generated - 1) / decodeSeconds : 0;
    return new GenerationResult(Arrays.copyOfRange(history, prompt.length, length), output.toString(),
        prompt.length, (firstToken - start) / 1e6, rate, finish);
  }
}
