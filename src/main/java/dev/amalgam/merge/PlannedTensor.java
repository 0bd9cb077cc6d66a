package dev.amalgam.merge;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.util.List;

/**
 * One output tensor of a linear-family merge, computed in float32 and rounded once to {@code outDType}:
 * <ul>
 *   <li>a weighted sum: {@code out = Σ wᵢ·xᵢ}, divided by {@code Σ wᵢ} when {@code normalize};
 *   <li>with {@code taskVectors}, input 0 is the base b and the others are summed as task vectors, in mergekit's
 *       order: {@code out = b + λ·(Σᵢ≥₁ wᵢ·(xᵢ − b) [/ Σᵢ≥₁ wᵢ])}; {@code weights[0]} is unused;
 *   <li>with {@code consensus} as well (TIES' sign election), element by element: the sign of
 *       {@code Σ wᵢ·δᵢ} is elected (+ for 0), only the terms of that sign are summed, and the divisor is the sum
 *       of their weights (1 where it is 0);
 *   <li>with a {@code sparsification} (null for none), each task vector is thinned first, as mergekit's sparsifiers
 *       do ({@link TaskVectorThinning});
 *   <li>with {@code sce} (SCE; null otherwise), the weights and a selection by variance come from the tensor
 *       itself ({@link TensorStatistics}), the sign is elected by the unweighted task vectors, and the divisor is
 *       at least 1e-6 instead of 1 where it is 0;
 *   <li>with a {@code rule} (null otherwise), the methods of mergekit's second family ({@link TensorRule}): their
 *       weights, or their element op, come from the tensor's statistics, and {@code weights} are placeholders.
 * </ul>
 * With a {@code rounding} dtype (null for none), mergekit's arithmetic: inputs and every operation's result are
 * rounded to it ({@link WorkRounding}), sums accumulating in float32.
 * Inputs are in model order and all have {@code shape}; their dtypes may differ (BF16, F16 or F32).
 */
public record PlannedTensor(String name, long[] shape, List<TensorInfo> inputs, float[] weights, boolean normalize,
    DType outDType, boolean taskVectors, float lambda, boolean consensus, Sparsification sparsification,
    SceMerge.SceSelection sce, TensorRule rule, DType rounding) {

  /** A tensor of the linear or task-vector family. */
  public PlannedTensor(String name, long[] shape, List<TensorInfo> inputs, float[] weights, boolean normalize,
      DType outDType, boolean taskVectors, float lambda, boolean consensus, Sparsification sparsification,
      SceMerge.SceSelection sce) {
    this(name, shape, inputs, weights, normalize, outDType, taskVectors, lambda, consensus, sparsification, sce, null,
        null);
  }

  /** A weighted sum. */
  public PlannedTensor(String name, long[] shape, List<TensorInfo> inputs, float[] weights, boolean normalize,
      DType outDType) {
    this(name, shape, inputs, weights, normalize, outDType, false, 1f, false, null, null, null, null);
  }

  /** This tensor with mergekit's rounding to {@code dtype} (null for none). */
  PlannedTensor withRounding(DType dtype) {
    return new PlannedTensor(name, shape, inputs, weights, normalize, outDType, taskVectors, lambda, consensus,
        sparsification, sce, rule, dtype);
  }

  public long elementCount() {
    return TensorInfo.elementCount(shape);
  }

  public long outBytes() {
    return elementCount() * outDType.byteSize();
  }

  public long inBytes() {
    return inputs.stream().mapToLong(TensorInfo::byteSize).sum();
  }

  /**
   * The float32 divisor of the sum, 1 when not normalizing. Summed in model order, as the kernels do; for task
   * vectors over the non-base weights, and 1 where they cancel to under 1e-8, as mergekit does. With a
   * {@code rounding}, the weights and their sum are rounded to it.
   */
  public float divisor() {
    if (!normalize) {
      return 1f;
    }
    float sum = 0f;
    for (int i = taskVectors ? 1 : 0; i < weights.length; i++) {
      sum += WorkRounding.round(weights[i], rounding);
    }
    sum = WorkRounding.round(sum, rounding);
    return taskVectors && Math.abs(sum) < 1e-8f ? 1f : sum;
  }
}
