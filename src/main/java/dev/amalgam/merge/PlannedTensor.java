package dev.amalgam.merge;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.util.List;

/**
 * One output tensor of a linear-family merge: {@code out = Σ wᵢ·xᵢ}, divided by {@code Σ wᵢ} when
 * {@code normalize}, computed in float32 and rounded once to {@code outDType}. Inputs are in model order and
 * all have {@code shape}; their dtypes may differ (BF16, F16 or F32).
 */
public record PlannedTensor(
    String name, long[] shape, List<TensorInfo> inputs, float[] weights, boolean normalize, DType outDType) {

  public long elementCount() {
    return TensorInfo.elementCount(shape);
  }

  public long outBytes() {
    return elementCount() * outDType.byteSize();
  }

  public long inBytes() {
    return inputs.stream().mapToLong(TensorInfo::byteSize).sum();
  }

  /** The float32 divisor of the sum, 1 when not normalizing. Summed in model order, as the kernels do. */
  public float divisor() {
    if (!normalize) {
      return 1f;
    }
    float sum = 0f;
    for (float w : weights) {
      sum += w;
    }
    return sum;
  }
}
