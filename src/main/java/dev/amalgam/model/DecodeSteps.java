package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.StepGraph;
import dev.amalgam.backend.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The decode step of each row count, recorded once with {@link Backend#record} and rerun for every token. A
 * recorded step is bound to the tensors it was recorded with, so each row count keeps its own scratch
 * activations and logits (a batch shrinks as its sequences finish, and a prefill in between must not move
 * them), and every step is bound to one KV cache: a different cache drops them all.
 */
final class DecodeSteps implements AutoCloseable {
  /** Issues the forward pass over the rows written into the activations, into {@code logits}. */
  interface Body {
    void issue(Activations activations, KvCache cache, Tensor logits);
  }

  private record Step(Activations activations, Tensor logits, StepGraph graph) {
    void close() {
      graph.close();
      activations.close();
      logits.close();
    }
  }

  private final Backend backend;
  private final ModelSpec spec;
  private final Body body;
  private final Map<Integer, Step> byRows = new HashMap<>();
  private KvCache boundCache;

  DecodeSteps(Backend backend, ModelSpec spec, Body body) {
    this.backend = backend;
    this.spec = spec;
    this.body = body;
  }

  /** Writes the rows' inputs, records the step for this row count if it is new, runs it; returns its logits. */
  Tensor run(int[] tokens, int[] slots, int[] positions, KvCache cache) {
    if (cache != boundCache) {
      close();
      boundCache = cache;
    }
    int rows = tokens.length;
    Step step = byRows.get(rows);
    if (step == null) {
      step = record(rows, tokens, slots, positions, cache);
      byRows.put(rows, step);
    } else {
      step.activations().write(backend, tokens, slots, positions);
    }
    step.graph().run();
    return step.logits();
  }

  /** Recording may run the step once, so the inputs are written first. */
  private Step record(int rows, int[] tokens, int[] slots, int[] positions, KvCache cache) {
    Activations activations = new Activations(backend, spec, rows);
    Tensor logits = null;
    try {
      logits = backend.allocate(rows, spec.vocabSize());
      activations.write(backend, tokens, slots, positions);
      Tensor out = logits;
      StepGraph graph = backend.record(() -> body.issue(activations, cache, out));
      return new Step(activations, logits, graph);
    } catch (RuntimeException e) {
      activations.close();
      if (logits != null) {
        logits.close();
      }
      throw e;
    }
  }

  @Override
  public void close() {
    byRows.values().forEach(Step::close);
    byRows.clear();
    boundCache = null;
  }
}
