package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Keys and values of every layer for {@code slots} sequences of up to {@code maxPositions} tokens, allocated
 * once up front so decoding never allocates. Each layer's K and V are {@code [slots, maxPositions, kvDim]}.
 */
public final class KvCache implements AutoCloseable {
  private final List<Tensor> keys = new ArrayList<>();
  private final List<Tensor> values = new ArrayList<>();
  private final int slots;
  private final int maxPositions;

  public KvCache(Backend backend, ModelSpec spec, int slots, int maxPositions) {
    this.slots = slots;
    this.maxPositions = maxPositions;
    for (int i = 0; i < spec.numLayers(); i++) {
      keys.add(backend.allocateKvCache(slots, maxPositions, spec.kvDim()));
      values.add(backend.allocateKvCache(slots, maxPositions, spec.kvDim()));
    }
  }

  public Tensor keys(int layer) {
    return keys.get(layer);
  }

  public Tensor values(int layer) {
    return values.get(layer);
  }

  public int slots() {
    return slots;
  }

  public int maxPositions() {
    return maxPositions;
  }

  @Override
  public void close() {
    keys.forEach(Tensor::close);
    values.forEach(Tensor::close);
    keys.clear();
    values.clear();
  }
}
