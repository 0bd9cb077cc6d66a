package dev.amalgam.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes lines numbered 0, 1, 2, ... in that order although they arrive in any order: sequences of a batch
 * finish when they finish, but results are written in input order, each as soon as all before it are done.
 */
final class InOrderLines {
  private final Writer out;
  private final Map<Integer, String> waiting = new HashMap<>();
  private int next;

  InOrderLines(Writer out) {
    this.out = out;
  }

  void put(int index, String line) {
    waiting.put(index, line);
    try {
      for (String ready = waiting.remove(next); ready != null; ready = waiting.remove(next)) {
        out.write(ready);
        out.write('\n');
        next++;
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How many lines have been written. */
  int written() {
    return next;
  }
}
