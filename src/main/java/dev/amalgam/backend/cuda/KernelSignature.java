package dev.amalgam.backend.cuda;

import java.util.List;

/**
 * An {@code extern "C"} kernel in a {@code cuda-kernels/*.cu} file and its parameter types in order. The Java
 * side launches it with exactly these; a unit test parses the .cu files and checks they still agree.
 */
public record KernelSignature(String file, String name, List<KernelParam> params) {

  public static KernelSignature of(String file, String name, KernelParam... params) {
    return new KernelSignature(file, name, List.of(params));
  }
}
