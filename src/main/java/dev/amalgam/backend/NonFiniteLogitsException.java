package dev.amalgam.backend;

/**
 * A row of logits held NaN or an infinity, so no token can be chosen from it honestly: the weights or the
 * activations overflowed. A runtime failure, not a user mistake; every backend raises it the same way.
 */
public final class NonFiniteLogitsException extends RuntimeException {
  public NonFiniteLogitsException(int row) {
    super("the logits of sequence " + row + " are NaN or infinite (the model's weights or activations overflowed)");
  }
}
