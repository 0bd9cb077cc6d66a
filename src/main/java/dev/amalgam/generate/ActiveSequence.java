package dev.amalgam.generate;

import dev.amalgam.backend.SamplingParams;
import dev.amalgam.generate.GenerationResult.FinishReason;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One request while it holds a KV-cache slot: its tokens so far, its text, its own random stream and why it
 * ended. Each sequence draws from a generator seeded by its own settings, so its tokens do not depend on which
 * other sequences share its batch or in which order they finish.
 */
final class ActiveSequence {
  private static final int[] NO_HISTORY = new int[0];

  final int index;
  final int slot;
  private final GenerationRequest request;
  private final int capacity;
  private final SplittableRandom random;
  private final StopStrings stops;
  private final StringBuilder output = new StringBuilder();
  private final int[] history;
  private int length;
  private final long admittedAt;
  private long firstTokenAt;
  private FinishReason finish;

  ActiveSequence(int index, GenerationRequest request, int capacity, int slot, long admittedAt) {
    this.index = index;
    this.slot = slot;
    this.request = request;
    this.capacity = capacity;
    this.random = new SplittableRandom(request.settings().seed());
    this.stops = new StopStrings(request.settings().stopStrings());
    this.history = Arrays.copyOf(request.prompt(), capacity);
    this.length = request.prompt().length;
    this.admittedAt = admittedAt;
  }

  int[] prompt() {
    return request.prompt();
  }

  SamplingParams sampling() {
    return request.settings().sampling();
  }

  /** The token to feed next: the last one sampled. */
  int lastToken() {
    return history[length - 1];
  }

  /** The position of {@link #lastToken()} in the sequence. */
  int lastPosition() {
    return length - 1;
  }

  /** Tokens seen so far, when the sampler reads them (only for a repetition penalty, so skipped otherwise). */
  int[] historyFor(boolean penalized) {
    return penalized ? Arrays.copyOf(history, length) : NO_HISTORY;
  }

  /** One draw per sampled token, greedy or not, so the stream stays aligned with the tokens. */
  double nextUniform() {
    return random.nextDouble();
  }

  /** Takes a sampled token; returns true when it ended the sequence. */
  boolean accept(int id, Set<Integer> eosIds, long now) {
    if (firstTokenAt == 0) {
      firstTokenAt = now;
    }
    if (request.listener().cancelled()) {
      return end(FinishReason.CANCELLED);
    }
    if (eosIds.contains(id)) {
      return end(FinishReason.EOS);
    }
    history[length++] = id;
    String piece = stops.accept(request.text().accept(id));
    output.append(piece);
    request.listener().onToken(id, piece);
    if (stops.stopped()) {
      return end(FinishReason.STOP);
    }
    if (length - request.prompt().length == request.settings().maxNewTokens()) {
      return end(FinishReason.MAX_TOKENS);
    }
    if (length == capacity) {
      return end(FinishReason.CONTEXT);
    }
    return false;
  }

  private boolean end(FinishReason reason) {
    finish = reason;
    String tail = reason == FinishReason.STOP ? "" : stops.accept(request.text().flush());
    if (!stops.stopped()) {
      tail += stops.flush();
    }
    output.append(tail);
    request.listener().onEnd(tail);
    return true;
  }

  GenerationResult result(long now) {
    int promptLength = request.prompt().length;
    int generated = length - promptLength;
    double decodeSeconds = (now - firstTokenAt) / 1e9;
    double rate = generated > 1 && decodeSeconds > 0 ? (generated - 1) / decodeSeconds : 0;
    return new GenerationResult(Arrays.copyOfRange(history, promptLength, length), output.toString(), promptLength,
        (firstTokenAt - admittedAt) / 1e6, rate, finish);
  }
}
