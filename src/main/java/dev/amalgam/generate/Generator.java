package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.Tensor;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ObjIntConsumer;

/**
 * The generation loop, for one prompt or many. Each sequence holds one KV-cache slot. Free slots are filled
 * by prefilling the next waiting prompts, together in one forward pass up to {@link #PREFILL_BATCH_TOKENS},
 * and sampling their first tokens; then one decode step advances every live sequence by one token, one row per
 * slot. A sequence ends on an EOS id, a stop string, its token budget or the context, and its slot goes to the
 * next waiting prompt (continuous batching: the batch refills as it drains).
 */
public final class Generator {
  /**
   * Prompt tokens prefilled together in one forward pass (a longer prompt goes alone). Enough rows for a GPU's
   * matmuls to run near their peak, while the activations stay small: gate and up of the 1.5B model take
   * 2 × 4096 × 8960 floats, 290 MB.
   */
  static final int PREFILL_BATCH_TOKENS = 4096;

  private final Transformer model;
  private final Set<Integer> eosIds;

  public Generator(Transformer model, Set<Integer> eosIds) {
    this.model = model;
    this.eosIds = Set.copyOf(eosIds);
  }

  public GenerationResult generate(int[] prompt, GenerationSettings settings, TokenText text, TokenListener listener) {
    return generateAll(List.of(new GenerationRequest(prompt, settings, text, listener, null)), 1, (r, i) -> {})
        .results().get(0);
  }

  /**
   * Generates every request, at most {@code batchSize} at a time. Requests may sample differently: rows that share
   * their {@link SamplingParams} are sampled together, each group in one call.
   *
   * @param onFinished told each result (with its request's index) as soon as that sequence ends
   */
  public BatchResult generateAll(List<GenerationRequest> requests, int batchSize,
      ObjIntConsumer<GenerationResult> onFinished) {
    if (batchSize < 1) {
      throw new UserError("batch size must be at least 1, got " + batchSize);
    }
    if (requests.isEmpty()) {
      return new BatchResult(List.of(), 0, 0, 0, 0, 0);
    }
    int[] capacities = requests.stream().mapToInt(this::capacity).toArray();
    int slots = Math.min(batchSize, requests.size());
    GenerationResult[] results = new GenerationResult[requests.size()];
    try (KvCache cache = model.newCache(slots, Arrays.stream(capacities).max().getAsInt())) {
      Run run = new Run(RequestQueue.of(requests), cache, (result, i) -> {
        results[i] = result;
        onFinished.accept(result, i);
      });
      try {
        run.finish();
      } catch (InterruptedException e) {
        throw new IllegalStateException("a fixed list of requests never waits", e);
      }
      return new BatchResult(List.of(results), run.prefillTokens, run.prefillNanos / 1e9, run.decodeTokens,
          run.decodeNanos / 1e9, run.decodeSteps);
    }
  }

  /**
   * The requests a run admits, in order: a fixed list, or a server's queue that fills while the run goes on (a
   * request joins the running batch as soon as a slot is free).
   */
  public interface RequestQueue {
    /** The next request, without taking it; null when none waits now. */
    GenerationRequest peek();

    /** Takes the request {@link #peek} returned. */
    void take();

    /** Called with nothing to do: waits until a request waits, and returns false when none ever will again. */
    boolean awaitMore() throws InterruptedException;

    /**
     * Called on the loop's thread before each step, and after each wait: where a server runs other work on the same
     * model (scoring a prompt), which must not run on another thread while the loop steps.
     */
    default void betweenSteps() {}

    static RequestQueue of(List<GenerationRequest> requests) {
      return new RequestQueue() {
        private int next;

        @Override
        public GenerationRequest peek() {
          return next < requests.size() ? requests.get(next) : null;
        }

        @Override
        public void take() {
          next++;
        }

        @Override
        public boolean awaitMore() {
          return peek() != null;
        }
      };
    }
  }

  /**
   * Generates what {@code queue} holds as it comes, until it says no more will, in {@code slots} sequences of at
   * most {@code capacity} positions each: a server's loop. The caller admits only requests whose prompt leaves room
   * in a slot for a token; one whose listener says it is cancelled ends at its next token and frees its slot.
   *
   * @param onFinished told each result, with its request's admission index, as soon as that sequence ends
   */
  public void serve(RequestQueue queue, int slots, int capacity, ObjIntConsumer<GenerationResult> onFinished)
      throws InterruptedException {
    try (KvCache cache = model.newCache(slots, capacity)) {
      new Run(queue, cache, onFinished).finish();
    }
  }

  /** Positions the request's slot needs: prompt plus budget, within the context; refuses prompts that do not fit. */
  private int capacity(GenerationRequest request) {
    int[] prompt = request.prompt();
    GenerationSettings settings = request.settings();
    String prefix = request.label() == null ? "" : request.label() + ": ";
    int context = settings.contextFor(model.spec().contextLimit());
    if (prompt.length == 0) {
      throw new UserError(prefix + "the prompt is empty");
    }
    if (prompt.length >= context) {
      throw new UserError(prefix + "the prompt is " + prompt.length + " tokens, which leaves no room in the context of "
          + context + " tokens (raise --max-context, up to the model's " + model.spec().contextLimit() + ")");
    }
    return (int) Math.min(context, (long) prompt.length + settings.maxNewTokens());  // no int overflow
  }

  /** The state of one {@link #generateAll} or {@link #serve} call. */
  private final class Run {
    private final RequestQueue queue;
    private final KvCache cache;
    private final ObjIntConsumer<GenerationResult> onFinished;
    private final Backend backend = model.backend();
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private final List<ActiveSequence> live = new ArrayList<>();
    private int admittedCount;
    private long prefillTokens;
    private long prefillNanos;
    private long decodeTokens;
    private long decodeNanos;
    private int decodeSteps;

    Run(RequestQueue queue, KvCache cache, ObjIntConsumer<GenerationResult> onFinished) {
      this.queue = queue;
      this.cache = cache;
      this.onFinished = onFinished;
      for (int s = 0; s < cache.slots(); s++) {
        freeSlots.add(s);
      }
    }

    void finish() throws InterruptedException {
      while (true) {
        queue.betweenSteps();
        while (queue.peek() != null && !freeSlots.isEmpty()) {
          admitWaiting();
        }
        if (!live.isEmpty()) {
          step();
        } else if (queue.peek() == null && !queue.awaitMore()) {
          return;
        }
      }
    }

    /** The positions a request's slot holds: its prompt and budget, within the context and the cache. */
    private int capacityOf(GenerationRequest request) {
      int context = Math.min(cache.maxPositions(), request.settings().contextFor(model.spec().contextLimit()));
      return (int) Math.min(context, (long) request.prompt().length + request.settings().maxNewTokens());
    }

    /**
     * Prefills waiting prompts into free slots, as many as fit in {@link #PREFILL_BATCH_TOKENS} (at least one),
     * and samples each one's first token.
     */
    private void admitWaiting() {
      long start = System.nanoTime();
      List<ActiveSequence> admitted = new ArrayList<>();
      int tokens = 0;
      while (queue.peek() != null && !freeSlots.isEmpty() && (admitted.isEmpty()
          || tokens + queue.peek().prompt().length <= PREFILL_BATCH_TOKENS)) {
        GenerationRequest request = queue.peek();
        queue.take();
        ActiveSequence s = new ActiveSequence(admittedCount++, request, capacityOf(request), freeSlots.poll(), start);
        tokens += s.prompt().length;
        admitted.add(s);
      }
      int n = admitted.size();
      int[] slots = new int[n];
      for (int i = 0; i < n; i++) {
        slots[i] = admitted.get(i).slot;
      }
      Tensor logits = model.prefill(admitted.stream().map(ActiveSequence::prompt).toList(), slots, cache);
      int[] ids = sample(logits, admitted);
      long now = System.nanoTime();
      prefillNanos += now - start;
      prefillTokens += tokens;
      for (int i = 0; i < n; i++) {
        ActiveSequence s = admitted.get(i);
        if (s.accept(ids[i], eosIds, now)) {
          retire(s, now);
        } else {
          live.add(s);
        }
      }
    }

    private void step() {
      long start = System.nanoTime();
      int rows = live.size();
      int[] tokens = new int[rows];
      int[] slots = new int[rows];
      int[] positions = new int[rows];
      for (int r = 0; r < rows; r++) {
        ActiveSequence s = live.get(r);
        tokens[r] = s.lastToken();
        slots[r] = s.slot;
        positions[r] = s.lastPosition();
      }
      Tensor logits = model.decode(tokens, slots, positions, cache);
      int[] ids = sample(logits, live);
      long now = System.nanoTime();
      decodeNanos += now - start;
      decodeTokens += rows;
      decodeSteps++;
      Iterator<ActiveSequence> it = live.iterator();
      for (int r = 0; r < rows; r++) {
        ActiveSequence s = it.next();
        if (s.accept(ids[r], eosIds, now)) {
          it.remove();
          retire(s, now);
        }
      }
    }

    /**
     * One token for each row of {@code logits}, row r belonging to {@code rows.get(r)}, each drawn with its own
     * uniform. Rows that share sampling parameters are sampled in one call; where the batch mixes them, each group's
     * rows are first copied out together.
     */
    private int[] sample(Tensor logits, List<ActiveSequence> rows) {
      Map<SamplingParams, List<Integer>> groups = new LinkedHashMap<>();
      for (int r = 0; r < rows.size(); r++) {
        groups.computeIfAbsent(rows.get(r).sampling(), p -> new ArrayList<>()).add(r);
      }
      int[] ids = new int[rows.size()];
      for (Map.Entry<SamplingParams, List<Integer>> group : groups.entrySet()) {
        List<Integer> members = group.getValue();
        boolean penalized = group.getKey().repetitionPenalty() != 1f;
        int[][] histories = new int[members.size()][];
        double[] uniforms = new double[members.size()];
        for (int i = 0; i < members.size(); i++) {
          ActiveSequence s = rows.get(members.get(i));
          histories[i] = s.historyFor(penalized);
          uniforms[i] = s.nextUniform();
        }
        if (groups.size() == 1) {
          return backend.sample(logits, group.getKey(), histories, uniforms);
        }
        try (Tensor part = backend.allocate(members.size(), logits.cols())) {
          for (int i = 0; i < members.size(); i++) {
            backend.copyRows(logits, members.get(i), part, i, 1);
          }
          int[] picked = backend.sample(part, group.getKey(), histories, uniforms);
          for (int i = 0; i < members.size(); i++) {
            ids[members.get(i)] = picked[i];
          }
        }
      }
      return ids;
    }

    private void retire(ActiveSequence s, long now) {
      GenerationResult result = s.result(now);
      freeSlots.add(s.slot);
      onFinished.accept(result, s.index);
    }
  }
}
