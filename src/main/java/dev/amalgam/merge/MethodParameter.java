package dev.amalgam.merge;

/**
 * A parameter a merge method reads, declared once for validation of names, defaults, error messages and
 * {@code amalgam methods}: per model (a model's {@code parameters}, or a top-level default for all models) or
 * global (top-level {@code parameters} only).
 *
 * @param defaultValue the value when none is given (a Double or Boolean); null when the parameter is required
 */
public record MethodParameter(String name, boolean perModel, Object defaultValue, String meaning) {

  static MethodParameter perModel(String name, Object defaultValue, String meaning) {
    return new MethodParameter(name, true, defaultValue, meaning);
  }

  static MethodParameter global(String name, Object defaultValue, String meaning) {
    return new MethodParameter(name, false, defaultValue, meaning);
  }

  public boolean required() {
    return defaultValue == null;
  }
}
