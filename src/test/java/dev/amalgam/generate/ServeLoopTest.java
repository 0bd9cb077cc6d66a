package dev.amalgam.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationResult.FinishReason;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.Golden;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Generator#serve}, a server's loop: requests that arrive while sequences run join the batch as slots free
 * and give the tokens they give alone; a cancelled one ends at once and frees its slot.
 */
class ServeLoopTest {
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
              queue.add(request(2 + prompt, 10));
              queue.add(request(prompt, 7));
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
    queue.add(request(1, 12));  // one slot: runs only once the cancelled one has freed it
    queue.close();
    Map<Integer, GenerationResult> results = new ConcurrentHashMap<>();
    new Generator(model, Set.of()).serve(queue, 1, 128, (result, i) -> results.put(i, result));
    assertEquals(FinishReason.CANCELLED, results.get(0).finishReason());
    assertTrue(results.get(0).tokens().length <= 3, Arrays.toString(results.get(0).tokens()));
    assertArrayEquals(greedy(1, 12), results.get(1).tokens());
  }

  private static GenerationRequest request(int prompt, int tokens) {
    return new GenerationRequest(golden.ints("p" + prompt + ".ids"), GenerationSettings.greedy(tokens), new IdText(),
        TokenListener.NONE, null);
  }

  private static int[] greedy(int prompt, int tokens) {
    return Arrays.copyOf(golden.ints("p" + prompt + ".greedy"), tokens);
  }
}
