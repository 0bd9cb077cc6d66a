package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.chat.Template;
import dev.amalgam.chat.TemplateError;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * One point's merge config: the sweep's merge config with each {@code set} path given its expression's value at the
 * point (expressions are Jinja expressions over the axes: {@code 1 - w}, {@code w * 2}), and every model path made
 * absolute, so that the config alone, saved anywhere, merges the point again with {@code amalgam merge}.
 */
final class PointConfig {
  private PointConfig() {}

  /** The point's config as JSON text (which YAML reads as it is). */
  static String of(SweepSpec spec, Map<String, Double> point) {
    JsonNode tree = spec.mergeTree().deepCopy();
    absolutePaths(tree, spec.merge().getParent());
    for (Map.Entry<String, String> e : spec.set().entrySet()) {
      set(tree, e.getKey(), value(e.getValue(), point, spec.file()), spec.file());
    }
    return tree.toPrettyString();
  }

  /** The expression's value at the point, a number. */
  static double value(String expression, Map<String, Double> point, Path file) {
    String text;
    try {
      text = Template.compile("{{ " + expression + " }}").render(Map.copyOf(point));
    } catch (TemplateError e) {
      throw new UserError(file + ": cannot evaluate `" + expression + "`: " + e.getMessage());
    }
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new UserError(file + ": `" + expression + "` gives " + text + ", not a number");
    }
  }

  private static void set(JsonNode tree, String path, double value, Path file) {
    String[] parts = path.split("\\.");
    JsonNode node = tree;
    for (int i = 0; i < parts.length - 1; i++) {
      node = child(node, parts[i], path, file);
    }
    String last = parts[parts.length - 1];
    if (node instanceof ObjectNode object) {
      object.put(last, value);
    } else if (node instanceof ArrayNode array && last.matches("\\d+") && Integer.parseInt(last) < array.size()) {
      array.set(Integer.parseInt(last), array.numberNode(value));
    } else {
      throw new UserError(file + ": `" + path + "` is not a place in the merge config");
    }
  }

  /** A step along a path: an index into a list, or a key of a mapping (made where missing). */
  private static JsonNode child(JsonNode node, String part, String path, Path file) {
    if (node instanceof ArrayNode array && part.matches("\\d+") && Integer.parseInt(part) < array.size()) {
      return array.get(Integer.parseInt(part));
    }
    if (node instanceof ObjectNode object) {
      return object.has(part) && object.get(part).isContainerNode() ? object.get(part) : object.putObject(part);
    }
    throw new UserError(file + ": `" + path + "` is not a place in the merge config");
  }

  private static void absolutePaths(JsonNode node, Path folder) {
    if (node instanceof ObjectNode object) {
      for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if ((e.getKey().equals("model") || e.getKey().equals("base_model")) && e.getValue().isTextual()) {
          object.put(e.getKey(), folder.resolve(e.getValue().asText()).normalize().toString());
        } else {
          absolutePaths(e.getValue(), folder);
        }
      }
    } else if (node instanceof ArrayNode array) {
      array.forEach(item -> absolutePaths(item, folder));
    }
  }
}
