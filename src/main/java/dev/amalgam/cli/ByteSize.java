package dev.amalgam.cli;

import picocli.CommandLine;

/** Parses sizes the way mergekit's --out-shard-size does: a number with an optional K, M or B (thousand, million, billion) suffix. */
final class ByteSize implements CommandLine.ITypeConverter<Long> {
  private static final double MAX_BYTES = 1e18;

  @Override
  public Long convert(String value) {
    String v = value.trim().toUpperCase();
    long multiplier = 1;
    char last = v.isEmpty() ? ' ' : v.charAt(v.length() - 1);
    switch (last) {
      case 'K' -> multiplier = 1_000L;
      case 'M' -> multiplier = 1_000_000L;
      case 'B', 'G' -> multiplier = 1_000_000_000L;
      default -> { }
    }
    String number = multiplier == 1 ? v : v.substring(0, v.length() - 1);
    try {
      double n = Double.parseDouble(number);
      if (!(n > 0) || Double.isInfinite(n)) {
        throw new CommandLine.TypeConversionException("size must be positive: " + value);
      }
      double bytes = n * multiplier;
      if (bytes >= MAX_BYTES) {
        // (long) of a larger double would silently clamp to Long.MAX_VALUE.
        throw new CommandLine.TypeConversionException("size " + value + " is over 1 exabyte; no shard is that large");
      }
      if (bytes < 1) {
        throw new CommandLine.TypeConversionException("size " + value + " is under one byte");
      }
      return (long) bytes;
    } catch (NumberFormatException e) {
      throw new CommandLine.TypeConversionException("not a size: `" + value + "` (examples: 5B, 500M, 2000000000)");
    }
  }
}
