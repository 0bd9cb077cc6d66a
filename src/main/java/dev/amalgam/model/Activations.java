package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import java.util.List;

/**
 * Scratch tensors for a forward pass over {@code rows} tokens, with the int vectors that carry the rows' host
 * inputs. The Transformer keeps one set for prefills, reused while the row count stays the same, and one per
 * decode row count ({@link DecodeSteps}), since a recorded decode step stays bound to the tensors it was
 * recorded with.
 */
final class Activations implements AutoCloseable {
  final int rows;
  final Tensor ids;
  final Tensor slots;
  final Tensor positions;
  final Tensor residual;
  final Tensor normed;
  final Tensor q;
  final Tensor k;
  final Tensor v;
  final Tensor attention;
  final Tensor projected;
  final Tensor gate;
  final Tensor up;

  Activations(Backend backend, ModelSpec spec, int rows) {
    this.rows = rows;
    ids = backend.allocateInts(rows);
    slots = backend.allocateInts(rows);
    positions = backend.allocateInts(rows);
    residual = backend.allocate(rows, spec.hiddenSize());
    normed = backend.allocate(rows, spec.hiddenSize());
    q = backend.allocate(rows, spec.qDim());
    k = backend.allocate(rows, spec.kvDim());
    v = backend.allocate(rows, spec.kvDim());
    attention = backend.allocate(rows, spec.qDim());
    projected = backend.allocate(rows, spec.hiddenSize());
    gate = backend.allocate(rows, spec.intermediateSize());
    up = backend.allocate(rows, spec.intermediateSize());
  }

  /** Writes the rows' host inputs, the only ones a forward pass has. */
  void write(Backend backend, int[] tokens, int[] rowSlots, int[] rowPositions) {
    backend.writeInts(ids, tokens);
    backend.writeInts(slots, rowSlots);
    backend.writeInts(positions, rowPositions);
  }

  @Override
  public void close() {
    List.of(ids, slots, positions, residual, normed, q, k, v, attention, projected, gate, up).forEach(Tensor::close);
  }
}
