package dev.amalgam.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** CPython's string algorithms where Java's differ (split keeps trailing empties, title-casing, ...). */
final class PyStrings {
  private PyStrings() {}

  /** {@code s.split(sep, maxsplit)}; {@code sep == null} splits on whitespace runs and drops empty ends. */
  static List<Object> split(String s, String sep, long maxsplit) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && Py.isSpace(s.charAt(i))) i++;
        if (i >= n) break;
        if (maxsplit >= 0 && out.size() >= maxsplit) {
          out.add(s.substring(i));
          break;
        }
        int j = i;
        while (j < n && !Py.isSpace(s.charAt(j))) j++;
        out.add(s.substring(i, j));
        i = j;
      }
      return out;
    }
    int start = 0;
    while (maxsplit < 0 || out.size() < maxsplit) {
      int at = s.indexOf(sep, start);
      if (at < 0) break;
      out.add(s.substring(start, at));
      start = at + sep.length();
    }
    out.add(s.substring(start));
    return out;
  }

  /** {@code s.rsplit(sep, maxsplit)}: like split, but the splits are counted from the right. */
  static List<Object> rsplit(String s, String sep, long maxsplit) {
    if (maxsplit < 0) {
      return split(s, sep, maxsplit);
    }
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      int j = s.length();
      while (true) {
        while (j > 0 && Py.isSpace(s.charAt(j - 1))) j--;
        if (j <= 0) break;
        if (out.size() >= maxsplit) {
          out.add(s.substring(0, j));
          break;
        }
        int i = j;
        while (i > 0 && !Py.isSpace(s.charAt(i - 1))) i--;
        out.add(s.substring(i, j));
        j = i;
      }
    } else {
      int end = s.length();
      while (out.size() < maxsplit) {
        int at = s.lastIndexOf(sep, end - sep.length());
        if (at < 0) break;
        out.add(s.substring(at + sep.length(), end));
        end = at;
      }
      out.add(s.substring(0, end));
    }
    Collections.reverse(out);
    return out;
  }

  private static boolean isLineBreak(char c) {
    return c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d' || c == '\u001e'
        || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  static List<Object> splitlines(String s, boolean keepends) {
    List<Object> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (isLineBreak(c)) {
        int end = i + (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1);
        out.add(s.substring(start, keepends ? end : i));
        start = end;
        i = end;
      } else {
        i++;
      }
    }
    if (start < s.length()) out.add(s.substring(start));
    return out;
  }

  private static boolean isCased(int cp) {
    return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
  }

  static boolean hasCased(String s) {
    return s.codePoints().anyMatch(PyStrings::isCased);
  }

  /** {@code str.title()}: a cased character after an uncased one starts a word (so "they're" -> "They'Re"). */
  static String title(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean previousCased = false;
    for (int cp : s.codePoints().toArray()) {
      if (isCased(cp)) {
        sb.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
        previousCased = true;
      } else {
        sb.appendCodePoint(cp);
        previousCased = false;
      }
    }
    return sb.toString();
  }

  static String capitalize(String s) {
    if (s.isEmpty()) return s;
    int first = s.codePointAt(0);
    return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
        .append(s.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT)).toString();
  }

  static String swapcase(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int cp : s.codePoints().toArray()) {
      sb.appendCodePoint(Character.isUpperCase(cp) ? Character.toLowerCase(cp)
          : Character.isLowerCase(cp) ? Character.toUpperCase(cp) : cp);
    }
    return sb.toString();
  }

  /** {@code s.replace(old, new, count)}; an empty {@code old} inserts between every character, as in Python. */
  static String replace(String s, String old, String replacement, long count) {
    if (count < 0) {
      return s.replace(old, replacement);
    }
    StringBuilder sb = new StringBuilder();
    if (old.isEmpty()) {
      int[] cps = s.codePoints().toArray();
      long done = 0;
      for (int i = 0; i <= cps.length; i++) {
        if (done < count) {
          sb.append(replacement);
          done++;
        }
        if (i < cps.length) sb.appendCodePoint(cps[i]);
      }
      return sb.toString();
    }
    int start = 0;
    long done = 0;
    while (done < count) {
      int at = s.indexOf(old, start);
      if (at < 0) break;
      sb.append(s, start, at).append(replacement);
      start = at + old.length();
      done++;
    }
    return sb.append(s.substring(start)).toString();
  }

  /** Non-overlapping occurrences; an empty {@code sub} occurs len+1 times. */
  static long count(String s, String sub) {
    if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1L;
    long n = 0;
    int at = s.indexOf(sub);
    while (at >= 0) {
      n++;
      at = s.indexOf(sub, at + sub.length());
    }
    return n;
  }

  static String pad(String s, String how, int width, String fill) {
    int len = s.codePointCount(0, s.length());
    if (width <= len) return s;
    int margin = width - len;
    switch (how) {
      case "ljust": return s + fill.repeat(margin);
      case "rjust": return fill.repeat(margin) + s;
      case "center": {
        int left = margin / 2 + (margin & width & 1);
        return fill.repeat(left) + s + fill.repeat(margin - left);
      }
      default: { // zfill keeps a leading sign in front of the zeros
        if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
          return s.charAt(0) + "0".repeat(margin) + s.substring(1);
        }
        return "0".repeat(margin) + s;
      }
    }
  }
}
