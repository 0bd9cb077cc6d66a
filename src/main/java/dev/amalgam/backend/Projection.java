package dev.amalgam.backend;

/**
 * One linear layer applied by {@link Backend#project} or {@link Backend#swiGlu}: its weight {@code [out, in]},
 * its bias {@code [out]} or null, and the tensor {@code [T, out]} its result goes to.
 */
public record Projection(Tensor weight, Tensor bias, Tensor out) {}
