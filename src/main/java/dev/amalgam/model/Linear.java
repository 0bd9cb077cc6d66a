package dev.amalgam.model;

import dev.amalgam.backend.Tensor;

/** A linear layer's weight {@code [out, in]} and its bias {@code [out]}, or null where the layer has none. */
public record Linear(Tensor weight, Tensor bias) {}
