package dev.amalgam.cuda;

import java.util.List;

/**
 * An {@code extern "C"} kernel in a {@code cuda-kernels/*.cu} file and its parameter types in order. Its typed
 * launcher passes exactly these; a unit test parses the .cu files and checks they still agree.
 */
public record KernelSignature(String file, String name, List<KernelParam> params) {

  public static KernelSignature of(String file, String name, KernelParam... params) {
    return new KernelSignature(file, name, List.of(params));
  }

  /** Throws unless {@code values} match the parameters in number and Java type. */
  public void check(Object... values) {
    if (values.length != params.size()) {
      throw new IllegalArgumentException(name + " takes " + params.size() + " arguments, not " + values.length);
    }
    for (int i = 0; i < values.length; i++) {
      KernelParam param = params.get(i);
      Object value = values[i];
      boolean fits = switch (param.kind()) {
        case POINTER, LONG -> value instanceof Long;
        case INT -> value instanceof Integer;
        case FLOAT -> value instanceof Float;
        case STRUCT -> value instanceof KernelStruct s && s.bytes().length == param.bytes();
      };
      if (!fits) {
        throw new IllegalArgumentException(name + " argument " + i + " is a " + param + ", given "
            + (value == null ? "null" : value.getClass().getSimpleName()));
      }
    }
  }
}
