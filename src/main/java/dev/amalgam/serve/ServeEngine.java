package dev.amalgam.serve;

import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.TokenListener;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The model behind a server: one thread runs {@link Generator#serve} over a bounded queue, so concurrent requests
 * share decode steps (a request joins the running batch as soon as a slot frees), and runs scoring work between
 * steps, since only that thread touches the model. HTTP threads submit and read their request's events.
 */
final class ServeEngine implements AutoCloseable {
  /** The queue is full: the caller answers 429. */
  static final class QueueFull extends Exception {
    QueueFull() {
      super(null, null, false, false);
    }
  }

  /** One generation on its way: its text as it comes ({@link #next}), then its result; cancelled by its reader. */
  static final class Pending implements TokenListener {
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    @Override
    public void onToken(int id, String text) {
      if (!text.isEmpty()) {
        events.add(text);
      }
    }

    @Override
    public void onEnd(String remainingText) {
      if (!remainingText.isEmpty()) {
        events.add(remainingText);
      }
    }

    @Override
    public boolean cancelled() {
      return cancelled;
    }

    /** The reader is gone: the sequence ends at its next token and frees its slot. */
    void cancel() {
      cancelled = true;
    }

    /** The next piece of text (a String), the result ({@link GenerationResult}), or the loop's failure (Throwable). */
    Object next() throws InterruptedException {
      return events.take();
    }
  }

  private record Waiting(GenerationRequest request, Pending pending) {}

  /** Work for the loop's thread, and where its outcome goes (completed with the failure if the loop dies). */
  private record Task(Runnable body, CompletableFuture<?> result) {}

  private final LanguageModel model;
  private final int maxQueue;
  private final Deque<Waiting> waiting = new ArrayDeque<>();
  private final Deque<Task> work = new ArrayDeque<>();
  /** Admitted and not finished, by admission index; touched only by the loop's thread. */
  private final Map<Integer, Pending> running = new HashMap<>();
  private int admitted;
  private boolean closed;
  private volatile Throwable failure;
  private final Thread loop;
  final AtomicLong requests = new AtomicLong();
  final AtomicLong promptTokens = new AtomicLong();
  final AtomicLong completionTokens = new AtomicLong();
  final AtomicLong firstTokenMillis = new AtomicLong();
  final AtomicLong finished = new AtomicLong();

  ServeEngine(LanguageModel model, int slots, int capacity, int maxQueue) {
    this.model = model;
    this.maxQueue = maxQueue;
    this.loop = new Thread(() -> run(slots, capacity), "amalgam-serve-loop");
    loop.start();
  }

  LanguageModel model() {
    return model;
  }

  /** Queues a generation; refused with {@link QueueFull} beyond the queue's bound. */
  Pending submit(int[] prompt, GenerationSettings settings) throws QueueFull {
    Pending pending = new Pending();
    synchronized (this) {
      checkAlive();
      if (waiting.size() >= maxQueue) {
        throw new QueueFull();
      }
      waiting.add(new Waiting(model.request(prompt, settings, pending, null), pending));
      requests.incrementAndGet();
      promptTokens.addAndGet(prompt.length);
      notifyAll();
    }
    return pending;
  }

  /** Runs {@code task} on the loop's thread, between steps, and returns its value. */
  <T> T onLoop(Supplier<T> task) throws InterruptedException {
    CompletableFuture<T> result = new CompletableFuture<>();
    synchronized (this) {
      checkAlive();
      work.add(new Task(() -> {
        try {
          result.complete(task.get());
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
      }, result));
      notifyAll();
    }
    try {
      return result.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
  }

  /** Requests waiting for a slot. */
  synchronized int queueDepth() {
    return waiting.size();
  }

  private void checkAlive() {
    if (closed || failure != null) {
      throw new IllegalStateException("the server is stopping" + (failure == null ? "" : ": " + failure));
    }
  }

  /** The loop: generation over the waiting requests, and the queued work between steps, until closed and drained. */
  private void run(int slots, int capacity) {
    Generator.RequestQueue queue = new Generator.RequestQueue() {
      @Override
      public GenerationRequest peek() {
        synchronized (ServeEngine.this) {
          Waiting next = waiting.peek();
          return next == null ? null : next.request();
        }
      }

      @Override
      public void take() {
        Waiting next;
        synchronized (ServeEngine.this) {
          next = waiting.poll();
        }
        running.put(admitted++, next.pending());
      }

      @Override
      public boolean awaitMore() throws InterruptedException {
        synchronized (ServeEngine.this) {
          while (waiting.isEmpty() && work.isEmpty() && !closed) {
            ServeEngine.this.wait();
          }
          return !waiting.isEmpty() || !work.isEmpty();
        }
      }

      @Override
      public void betweenSteps() {
        while (true) {
          Task task;
          synchronized (ServeEngine.this) {
            task = work.poll();
          }
          if (task == null) {
            return;
          }
          task.body().run();
        }
      }
    };
    try {
      model.serve(queue, slots, capacity, (result, index) -> {
        completionTokens.addAndGet(result.tokens().length);
        firstTokenMillis.addAndGet(Math.round(result.ttftMillis()));
        finished.incrementAndGet();
        running.remove(index).events.add(result);
      });
    } catch (Throwable t) {
      fail(t);
    }
  }

  /** The loop died: every request and task still open hears why, and nothing new is taken. */
  private void fail(Throwable cause) {
    failure = cause;
    running.values().forEach(p -> p.events.add(cause));
    synchronized (this) {
      waiting.forEach(w -> w.pending().events.add(cause));
      waiting.clear();
      work.forEach(t -> t.result().completeExceptionally(cause));
      work.clear();
    }
  }

  /** Stops taking requests, lets the running and waiting ones finish, then returns. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      loop.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
