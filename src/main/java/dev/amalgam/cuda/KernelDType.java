package dev.amalgam.cuda;

import dev.amalgam.tensor.DType;

/** The element type codes the kernels take ({@code AMALGAM_F32}, {@code AMALGAM_F16}, {@code AMALGAM_BF16}). */
public final class KernelDType {
  private KernelDType() {}

  /** The code of {@code type}; the same numbers in merge.cu and elementwise.cu, checked by their tests. */
  public static int code(DType type) {
    return switch (type) {
      case F32 -> 0;
      case F16 -> 1;
      case BF16 -> 2;
      default -> throw new IllegalArgumentException("the kernels do not read or write " + type);
    };
  }
}
