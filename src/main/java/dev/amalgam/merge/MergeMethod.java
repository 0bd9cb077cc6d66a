package dev.amalgam.merge;

import dev.amalgam.UserError;
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

  /** What the method does with {@code base_model}. */
  enum BaseRole {
    /** Merged in like the other models (appended when `models` does not list it). */
    MERGED("optional, merged like the models"),
    /** Required: input 0, set apart from the models. */
    REQUIRED("required"),
    /** Optional: when given, input 0, and the method works on the models' task vectors. */
    OPTIONAL("optional, for task vectors");

    private final String description;

    BaseRole(String description) {
      this.description = description;
    }

    public String description() {
      return description;
    }
  }

  default BaseRole baseRole() {
    return taskVectors() ? BaseRole.REQUIRED : BaseRole.MERGED;
  }

  /** The fewest models the method merges, the base not counted when it is set apart ({@link #baseRole}). */
  default int minModels() {
    return 1;
  }

  /** The most models the method merges, counted as in {@link #minModels}. */
  default int maxModels() {
    return Integer.MAX_VALUE;
  }

  /**
   * Whether mergekit computes the method in the work dtype, so that {@link Arithmetic#MERGEKIT} rounds each of its
   * operations (slerp's computes in float32 whatever the dtype).
   */
  default boolean roundsInWorkDType() {
    return true;
  }

  /** Whether the result is float32 unless {@code out_dtype} says otherwise (arcee_fusion's, as in mergekit). */
  default boolean outputsFloat32() {
    return false;
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
   * Global parameter {@code key} as a finite number, or its default; a user error naming it when it is missing
   * (and required) or not a number.
   */
  default double number(ParameterLookup global, String key, String tensorName) {
    Object value = global.get(key);
    if (value == null) {
      value = defaultOf(key);
      if (value == null) {
        throw new UserError("merge_method " + name() + " needs parameters." + key + " (tensor `" + tensorName + "`)");
      }
    }
    if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new UserError("parameters." + key + " for `" + tensorName + "` must be a finite number, not " + value);
    }
    return n.doubleValue();
  }

  /** Global parameter {@code key} as true or false (or 1 or 0), or its default. */
  default boolean flag(ParameterLookup global, String key) {
    return LinearMerge.flag(key, global.get(key), (Boolean) defaultOf(key));
  }

  /**
   * Resolves one tensor's weights. {@code perModel} holds each model's evaluated parameters, {@code global}
   * the top-level ones; {@code tensorName} is for error messages.
   */
  Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global);

  /**
   * The resolved arithmetic for one tensor; {@code lambda} scales summed task vectors, which {@code sparsification}
   * (laid out per input, the base first; null for none) thins first. Its seed is the planner's to set. With
   * {@code sce} (null for other methods) the weights are placeholders for those SCE computes per tensor; so they
   * are with a {@code rule} (null for the linear and task-vector families).
   */
  record Weights(float[] weights, boolean normalize, float lambda, Sparsification sparsification,
      SceMerge.SceSelection sce, TensorRule rule) {
    public Weights(float[] weights, boolean normalize) {
      this(weights, normalize, 1f, null, null, null);
    }

    public Weights(float[] weights, boolean normalize, float lambda, Sparsification sparsification,
        SceMerge.SceSelection sce) {
      this(weights, normalize, lambda, sparsification, sce, null);
    }

    /** A tensor that {@code rule} merges, for {@code models} models: its weights are placeholders. */
    static Weights ruled(TensorRule rule, int models) {
      return new Weights(new float[models], false, 1f, null, null, rule);
    }
  }

  /** An evaluated parameter, or its absence. */
  interface ParameterLookup {
    Object get(String name);
  }
}
