package dev.amalgam.merge;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** A merge method, registered by name in {@link MergeMethods}, that turns parameters into per-tensor weights. */
public interface MergeMethod {
  String name();

  /** A human-readable name for model cards. */
  String displayName();

  /** Every parameter the method reads, with its scope and default. */
  List<MethodParameter> parameters();

  /** Parameters each model may set (and the top-level `parameters` may default). */
  default Set<String> modelParameters() {
    return parameters().stream().filter(MethodParameter::perModel).map(MethodParameter::name)
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** Parameters only the top-level `parameters` may set. */
  default Set<String> globalParameters() {
    return parameters().stream().filter(p -> !p.perModel()).map(MethodParameter::name)
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** The declared default of parameter {@code name}. */
  default Object defaultOf(String name) {
    return parameters().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow().defaultValue();
  }

  /**
   * Whether the method sums task vectors (each model minus the base model) onto the base, which it then
   * requires; the weights are those of the models other than the base.
   */
  default boolean taskVectors() {
    return false;
  }

  /** Whether the method draws random numbers, so that a merge needs a seed to be repeated. */
  default boolean random() {
    return false;
  }

  /** Whether the summed task vectors go through TIES' sign election first ({@link PlannedTensor}). */
  default boolean signConsensus() {
    return false;
  }

  /**
   * Resolves one tensor's weights. {@code perModel} holds each model's evaluated parameters, {@code global}
   * the top-level ones; {@code tensorName} is for error messages.
   */
  Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global);

  /**
   * The resolved arithmetic for one tensor; {@code lambda} scales summed task vectors, which {@code sparsification}
   * (laid out per input, the base first; null for none) thins first. Its seed is the planner's to set. With
   * {@code sce} (null for other methods) the weights are placeholders for those SCE computes per tensor.
   */
  record Weights(float[] weights, boolean normalize, float lambda, Sparsification sparsification,
      SceMerge.SceSelection sce) {
    public Weights(float[] weights, boolean normalize) {
      this(weights, normalize, 1f, null, null);
    }
  }

  /** An evaluated parameter, or its absence. */
  interface ParameterLookup {
    Object get(String name);
  }
}
