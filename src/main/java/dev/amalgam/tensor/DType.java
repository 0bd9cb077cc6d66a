package dev.amalgam.tensor;

import java.util.Optional;

/** The element types a safetensors file may declare, with their sizes. Merges compute on the float ones. */
public enum DType {
  BOOL("BOOL", 1, false),
  U8("U8", 1, false),
  I8("I8", 1, false),
  F8_E4M3("F8_E4M3", 1, false),
  F8_E5M2("F8_E5M2", 1, false),
  I16("I16", 2, false),
  U16("U16", 2, false),
  F16("F16", 2, true),
  BF16("BF16", 2, true),
  I32("I32", 4, false),
  U32("U32", 4, false),
  F32("F32", 4, true),
  F64("F64", 8, false),
  I64("I64", 8, false),
  U64("U64", 8, false);

  private final String safetensorsName;
  private final int byteSize;
  private final boolean mergeable;

  DType(String safetensorsName, int byteSize, boolean mergeable) {
    this.safetensorsName = safetensorsName;
    this.byteSize = byteSize;
    this.mergeable = mergeable;
  }

  public String safetensorsName() {
    return safetensorsName;
  }

  public int byteSize() {
    return byteSize;
  }

  /** Whether the merge kernels read this type (BF16, F16, F32). */
  public boolean isMergeable() {
    return mergeable;
  }

  public static Optional<DType> fromSafetensors(String name) {
    for (DType t : values()) {
      if (t.safetensorsName.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** The HF / torch spelling used in config.json and mergekit YAML ({@code bfloat16}, ...). */
  public String torchName() {
    return switch (this) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      case F32 -> "float32";
      default -> name().toLowerCase();
    };
  }

  /** Parses a mergekit / config.json dtype name; only the float types can be a merge's dtype. */
  public static Optional<DType> fromTorchName(String name) {
    // mergekit accepts torch's own spelling, torch.bfloat16, as well.
    return switch (name.startsWith("torch.") ? name.substring("torch.".length()) : name) {
      case "bfloat16", "bf16" -> Optional.of(BF16);
      case "float16", "fp16", "half" -> Optional.of(F16);
      case "float32", "fp32", "float" -> Optional.of(F32);
      default -> Optional.empty();
    };
  }
}
