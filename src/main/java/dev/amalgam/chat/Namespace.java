package dev.amalgam.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/** jinja2's {@code namespace(...)}: the one object whose attributes a template may assign, across scopes. */
final class Namespace {
  final Map<String, Object> attributes = new LinkedHashMap<>();
}
