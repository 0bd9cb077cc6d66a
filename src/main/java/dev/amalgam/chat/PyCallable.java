package dev.amalgam.chat;

import java.util.List;
import java.util.Map;

/** Anything a template can call: globals like {@code namespace}, bound string/dict methods, macros. */
@FunctionalInterface
interface PyCallable {
  Object call(List<Object> args, Map<String, Object> kwargs, int line);
}
