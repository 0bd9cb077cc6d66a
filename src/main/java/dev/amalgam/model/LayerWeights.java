package dev.amalgam.model;

import dev.amalgam.backend.Tensor;
import java.util.List;

/** One decoder layer's tensors on the backend. */
public record LayerWeights(Tensor inputNorm, Linear q, Linear k, Linear v, Linear o, Tensor postAttentionNorm,
    Linear gate, Linear up, Linear down) {

  public List<Linear> linears() {
    return List.of(q, k, v, o, gate, up, down);
  }
}
