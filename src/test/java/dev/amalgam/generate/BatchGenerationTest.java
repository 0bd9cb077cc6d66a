package dev.amalgam.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationResult.FinishReason;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.Golden;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many sequences decoded together, from a fixed list or from a server's queue that fills while they run: each must
 * come out as it would alone, whatever shares its batch.
 */
class BatchGenerationTest {
  private static final int GOLDEN_TOKENS = 48;
  private static CpuBackend backend;
  private static ModelDirectory dir;
  private static Transformer model;
  private static Golden golden;

  @BeforeAll
  static void load() {
    backend = new CpuBackend();
    dir = ModelDirectory.open(Golden.modelDir("a"));
    model = Transformer.load(backend, dir.config(), WeightSource.of(dir));
    golden = Golden.of("a");
  }

  @AfterAll
  static void close() {
    model.close();
    dir.close();
    backend.close();
  }

  private static GenerationRequest request(int[] prompt, GenerationSettings settings) {
    return new GenerationRequest(prompt, settings, new IdText(), TokenListener.NONE, null);
  }

  /** The four golden prompts, then again with shorter budgets, so sequences end at different steps. */
  private static List<GenerationRequest> goldenRequests() {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int p = 0; p < Golden.PROMPTS; p++) {
      requests.add(request(golden.ints("p" + p + ".ids"), GenerationSettings.greedy(GOLDEN_TOKENS - 3 * p)));
    }
    for (int p = 0; p < Golden.PROMPTS; p++) {
      requests.add(request(golden.ints("p" + p + ".ids"), GenerationSettings.greedy(7 + p)));
    }
    return requests;
  }

  @Test
  void greedyBatchesMatchTransformersAndTheSequenceDecodedAlone() {
    List<GenerationRequest> requests = goldenRequests();
    Generator generator = new Generator(model, Set.of());
    for (int batchSize : new int[] {1, 3, requests.size()}) {
      BatchResult batch = generator.generateAll(requests, batchSize, (r, i) -> {});
      for (int i = 0; i < requests.size(); i++) {
        GenerationRequest request = requests.get(i);
        int[] alone = generator.generate(request.prompt(), request.settings(), new IdText(), TokenListener.NONE).tokens();
        int[] reference = golden.ints("p" + (i % Golden.PROMPTS) + ".greedy");
        int[] batched = batch.results().get(i).tokens();
        assertArrayEquals(alone, batched, "request " + i + " at batch size " + batchSize);
        assertArrayEquals(Arrays.copyOf(reference, batched.length), batched, "request " + i);
        assertEquals(request.settings().maxNewTokens(), batched.length);
      }
    }
  }

  @Test
  void statisticsCountEveryTokenOnce() {
    List<GenerationRequest> requests = goldenRequests();
    BatchResult batch = new Generator(model, Set.of()).generateAll(requests, 4, (r, i) -> {});
    long prompts = requests.stream().mapToLong(r -> r.prompt().length).sum();
    long generated = batch.results().stream().mapToLong(r -> r.tokens().length).sum();
    assertEquals(prompts, batch.prefillTokens());
    // Each sequence's first token comes from its prefill, the rest from decode steps.
    assertEquals(generated - requests.size(), batch.decodeTokens());
    assertTrue(batch.decodeSteps() >= GOLDEN_TOKENS - 1 && batch.decodeSteps() < batch.decodeTokens());
    assertTrue(batch.prefillTokensPerSecond() > 0 && batch.decodeTokensPerSecond() > 0);
  }

  @Test
  void eachSequenceStopsForItsOwnReasonWithoutDisturbingTheOthers() {
    int[] prompt = golden.ints("p0.ids");
    int[] greedy = golden.ints("p0.greedy");
    String stop = "<" + greedy[5] + ">";
    GenerationSettings stopping = new GenerationSettings(40, SamplingParams.GREEDY, 0, List.of(stop), 0);
    List<GenerationRequest> requests = List.of(
        request(prompt, GenerationSettings.greedy(30)),
        request(prompt, stopping),
        request(golden.ints("p2.ids"), GenerationSettings.greedy(2)),
        request(prompt, new GenerationSettings(40, SamplingParams.GREEDY, 0, List.of(), prompt.length + 9)));
    List<Integer> finishedOrder = new ArrayList<>();
    BatchResult batch = new Generator(model, Set.of()).generateAll(requests, 4, (r, i) -> finishedOrder.add(i));
    List<GenerationResult> results = batch.results();
    assertEquals(FinishReason.MAX_TOKENS, results.get(0).finishReason());
    assertArrayEquals(Arrays.copyOf(greedy, 30), results.get(0).tokens());
    assertEquals(FinishReason.STOP, results.get(1).finishReason());
    assertTrue(!results.get(1).text().contains(stop) && results.get(1).text().endsWith("<" + greedy[4] + ">"),
        results.get(1).text());
    assertEquals(FinishReason.MAX_TOKENS, results.get(2).finishReason());
    assertEquals(2, results.get(2).tokens().length);
    assertEquals(FinishReason.CONTEXT, results.get(3).finishReason());
    assertEquals(9, results.get(3).tokens().length);
    assertEquals(List.of(2, 1, 3, 0), finishedOrder);
  }

  @Test
  void anEosIdEndsOnlyTheSequenceThatSampledIt() {
    int[] greedyA = golden.ints("p0.greedy");
    int eos = greedyA[3];
    List<GenerationRequest> requests = List.of(
        request(golden.ints("p0.ids"), GenerationSettings.greedy(20)),
        request(golden.ints("p1.ids"), GenerationSettings.greedy(20)));
    assertTrue(Arrays.stream(Arrays.copyOf(golden.ints("p1.greedy"), 20)).noneMatch(t -> t == eos));
    List<GenerationResult> results = new Generator(model, Set.of(eos)).generateAll(requests, 2, (r, i) -> {}).results();
    assertEquals(FinishReason.EOS, results.get(0).finishReason());
    assertArrayEquals(Arrays.copyOf(greedyA, 3), results.get(0).tokens());
    assertEquals(FinishReason.MAX_TOKENS, results.get(1).finishReason());
    assertArrayEquals(Arrays.copyOf(golden.ints("p1.greedy"), 20), results.get(1).tokens());
  }

  @Test
  void sampledSequencesDependOnTheirSeedNotOnTheirBatch() {
    // Hot enough that the tiny model's peaked distributions leave the seed something to decide.
    SamplingParams sampling = new SamplingParams(4f, 0, 0.98f, 0f, 1.1f);
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      requests.add(request(golden.ints("p" + (i % Golden.PROMPTS) + ".ids"),
          new GenerationSettings(16 + i, sampling, 100 + i, List.of(), 0)));
    }
    Generator generator = new Generator(model, Set.of());
    List<GenerationResult> one = generator.generateAll(requests, 1, (r, i) -> {}).results();
    List<GenerationResult> all = generator.generateAll(requests, 5, (r, i) -> {}).results();
    List<GenerationResult> two = generator.generateAll(requests, 2, (r, i) -> {}).results();
    for (int i = 0; i < requests.size(); i++) {
      assertArrayEquals(one.get(i).tokens(), all.get(i).tokens(), "request " + i);
      assertArrayEquals(one.get(i).tokens(), two.get(i).tokens(), "request " + i);
    }
    // The same prompt with the same settings but another seed samples differently.
    assertTrue(!Arrays.equals(one.get(0).tokens(), generator.generate(requests.get(0).prompt(),
        requests.get(0).settings().withSeed(7), new IdText(), TokenListener.NONE).tokens()));
  }

  @Test
  void aPromptThatDoesNotFitIsRefusedByItsLabelBeforeAnyWork() {
    List<GenerationRequest> requests = List.of(
        request(golden.ints("p0.ids"), GenerationSettings.greedy(4)),
        new GenerationRequest(golden.ints("p2.ids"), new GenerationSettings(4, SamplingParams.GREEDY, 0, List.of(), 5),
            new IdText(), TokenListener.NONE, "line 7"));
    List<Integer> finished = new ArrayList<>();
    UserError e = assertThrows(UserError.class,
        () -> new Generator(model, Set.of()).generateAll(requests, 2, (r, i) -> finished.add(i)));
    assertTrue(e.getMessage().startsWith("line 7: the prompt is"), e.getMessage());
    assertEquals(List.of(), finished);
  }

  /** Greedy, hot and penalized requests in one batch: each gives the tokens it gives alone. */
  @Test
  void aBatchMayMixSamplingSettings() {
    List<SamplingParams> kinds = List.of(SamplingParams.GREEDY, new SamplingParams(4f, 0, 0.98f, 0f, 1f),
        new SamplingParams(2f, 5, 1f, 0f, 1.3f));
    List<GenerationRequest> mixed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      mixed.add(request(golden.ints("p" + (i % Golden.PROMPTS) + ".ids"),
          new GenerationSettings(12, kinds.get(i % kinds.size()), 40 + i, List.of(), 0)));
    }
    Generator generator = new Generator(model, Set.of());
    List<GenerationResult> together = generator.generateAll(mixed, 4, (r, i) -> {}).results();
    for (int i = 0; i < mixed.size(); i++) {
      GenerationResult alone = generator.generate(mixed.get(i).prompt(), mixed.get(i).settings(), new IdText(),
          TokenListener.NONE);
      assertArrayEquals(alone.tokens(), together.get(i).tokens(), "request " + i);
    }
    assertArrayEquals(Arrays.copyOf(golden.ints("p0.greedy"), 12), together.get(0).tokens(), "greedy is greedy");
  }

  @Test
  void batchesRefuseEmptyBatchSizes() {
    List<GenerationRequest> one = List.of(request(golden.ints("p0.ids"), GenerationSettings.greedy(4)));
    assertThrows(UserError.class, () -> new Generator(model, Set.of()).generateAll(one, 0, (r, i) -> {}));
  }

  // ---- Generator.serve, a server's loop: requests arrive while it runs, and may be cancelled ------------

  /** A server's queue as the loop sees it: requests added from outside, and closed once the test has sent all. */
  private static final class TestQueue implements Generator.RequestQueue {
    private final Deque<GenerationRequest> waiting = new ArrayDeque<>();
    private boolean closed;

    synchronized void add(GenerationRequest request) {
      waiting.add(request);
      notifyAll();
    }

    synchronized void close() {
      closed = true;
      notifyAll();
    }

    @Override
    public synchronized GenerationRequest peek() {
      return waiting.peek();
    }

    @Override
    public synchronized void take() {
      waiting.poll();
    }

    @Override
    public synchronized boolean awaitMore() throws InterruptedException {
      while (waiting.isEmpty() && !closed) {
        wait();
      }
      return !waiting.isEmpty();
    }
  }

  @Test
  void requestsJoinTheRunningBatchAndGiveWhatTheyGiveAlone() throws Exception {
    TestQueue queue = new TestQueue();
    Map<Integer, GenerationResult> results = new ConcurrentHashMap<>();
    AtomicInteger tokensSeen = new AtomicInteger();
    // Each of the first two requests, at its fifth token, sends two more: they arrive mid-run.
    for (int p = 0; p < 2; p++) {
      int prompt = p;
      queue.add(new GenerationRequest(golden.ints("p" + p + ".ids"), GenerationSettings.greedy(20), new IdText(),
          (id, text) -> {
            if (tokensSeen.incrementAndGet() == 5 + prompt) {
              queue.add(served(2 + prompt, 10));
              queue.add(served(prompt, 7));
            }
          }, null));
    }
    Thread server = new Thread(() -> {
      try {
        new Generator(model, Set.of()).serve(queue, 2, 128, (result, i) -> {
          results.put(i, result);
          if (results.size() == 6) {
            queue.close();
          }
        });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.start();
    server.join(60_000);
    assertEquals(6, results.size(), "every request finished and the loop returned");
    // Admission order: p0, p1, then the arrivals in the order they were sent.
    int[][] expected = {greedy(0, 20), greedy(1, 20), greedy(2, 10), greedy(0, 7), greedy(3, 10), greedy(1, 7)};
    for (int i = 0; i < expected.length; i++) {
      assertArrayEquals(expected[i], results.get(i).tokens(), "request " + i);
    }
  }

  @Test
  void aCancelledRequestEndsAndFreesItsSlot() throws Exception {
    TestQueue queue = new TestQueue();
    AtomicInteger seen = new AtomicInteger();
    queue.add(new GenerationRequest(golden.ints("p0.ids"), GenerationSettings.greedy(40), new IdText(),
        new TokenListener() {
          @Override
          public void onToken(int id, String text) {
            seen.incrementAndGet();
          }

          @Override
          public boolean cancelled() {
            return seen.get() >= 3;
          }
        }, null));
    queue.add(served(1, 12));  // one slot: runs only once the cancelled one has freed it
    queue.close();
    Map<Integer, GenerationResult> results = new ConcurrentHashMap<>();
    new Generator(model, Set.of()).serve(queue, 1, 128, (result, i) -> results.put(i, result));
    assertEquals(FinishReason.CANCELLED, results.get(0).finishReason());
    assertTrue(results.get(0).tokens().length <= 3, Arrays.toString(results.get(0).tokens()));
    assertArrayEquals(greedy(1, 12), results.get(1).tokens());
  }

  private static GenerationRequest served(int prompt, int tokens) {
    return new GenerationRequest(golden.ints("p" + prompt + ".ids"), GenerationSettings.greedy(tokens), new IdText(),
        TokenListener.NONE, null);
  }

  private static int[] greedy(int prompt, int tokens) {
    return Arrays.copyOf(golden.ints("p" + prompt + ".greedy"), tokens);
  }
}
