package dev.amalgam.model;

import dev.amalgam.backend.Tensor;

/** One decoder layer's tensors on the backend. */
public record LayerWeights(Tensor inputNorm, Linear q, Linear k, Linear v, Linear o, Tensor postAttentionNorm,
    Linear gate, Linear up, Linear down) {}
