package dev.amalgam.merge;

import java.util.List;
import java.util.Set;

/** A merge method, registered by name in {@link MergeMethods}, that turns parameters into per-tensor weights. */
public interface MergeMethod {
  String name();

  /** A human-readable name for model cards. */
  String displayName();

  /** Parameters each model may set (and the top-level `parameters` may default). */
  Set<String> modelParameters();

  /** Parameters only the top-level `parameters` may set. */
  Set<String> globalParameters();

  /**
   * Resolves one tensor's weights. {@code perModel} holds each model's evaluated parameters, {@code global}
   * the top-level ones; {@code tensorName} is for error messages.
   */
  Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global);

  /** The resolved arithmetic for one tensor. */
  record Weights(float[] weights, boolean normalize) {}

  /** An evaluated parameter, or its absence. */
  interface ParameterLookup {
    Object get(String name);
  }
}
