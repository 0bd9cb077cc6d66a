package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import java.util.List;

/**
 * Scratch tensors for a forward pass over {@code rows} tokens. The Transformer keeps one set and reuses it
 * while the row count stays the same, so a decode step (one row per sequence) allocates nothing.
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
  /** The final hidden state of the last row, when only its logits are wanted. */
  final Tensor lastRow;

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
    lastRow = backend.allocate(1, spec.hiddenSize());
  }

  @Override
  public void close() {
    List.of(ids, slots, positions, residual, normed, q, k, v, attention, projected, gate, up, lastRow).forEach(Tensor::close);
  }
}
