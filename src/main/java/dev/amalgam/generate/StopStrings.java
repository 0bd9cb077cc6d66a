package dev.amalgam.generate;

import java.util.List;

/**
 * Watches streamed text for stop strings. Text that could still turn out to be the start of a stop string is
 * held back, so nothing of a stop string is ever streamed to the user.
 */
final class StopStrings {
  private final List<String> stops;
  private final StringBuilder held = new StringBuilder();
  private boolean stopped;

  StopStrings(List<String> stops) {
    this.stops = stops;
  }

  /** Adds generated text; returns the part that is now safe to emit. */
  String accept(String text) {
    held.append(text);
    int cut = firstStop();
    if (cut >= 0) {
      stopped = true;
      String out = held.substring(0, cut);
      held.setLength(0);
      return out;
    }
    int keep = longestStopPrefixAtEnd();
    String out = held.substring(0, held.length() - keep);
    held.delete(0, held.length() - keep);
    return out;
  }

  /** Whatever is still held back, once generation ends without a stop. */
  String flush() {
    String out = held.toString();
    held.setLength(0);
    return out;
  }

  boolean stopped() {
    return stopped;
  }

  private int firstStop() {
    int first = -1;
    for (String stop : stops) {
      int at = held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    return first;
  }

  private int longestStopPrefixAtEnd() {
    int longest = 0;
    for (String stop : stops) {
      for (int n = Math.min(stop.length() - 1, held.length()); n > longest; n--) {
        if (held.substring(held.length() - n).equals(stop.substring(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
