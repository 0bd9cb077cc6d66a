package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.UserError;
import java.util.ArrayList;
import java.util.List;

/**
 * A merge parameter as mergekit defines it: a scalar, a list of numbers interpolated across layers (a
 * gradient), or a list of {@code {filter, value}} rules where the first rule whose filter is a substring of
 * the tensor name wins (a rule without a filter matches everything).
 */
public sealed interface ParameterValue {

  /** The value for one tensor; {@code t} is the tensor's layer position in [0, 1] (0 outside the layers). */
  Object evaluate(String tensorName, double t);

  record Scalar(Object value) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      return value;
    }
  }

  record Gradient(double[] points) implements ParameterValue {
    /** Linear interpolation over evenly spaced points, as mergekit does. */
    @Override
    public Object evaluate(String tensorName, double t) {
      double scaled = t * (points.length - 1);
      int i0 = (int) Math.floor(scaled);
      int i1 = Math.min(points.length - 1, i0 + 1);
      double fraction = scaled - i0;
      return (1 - fraction) * points[i0] + fraction * points[i1];
    }
  }

  record Filtered(List<Rule> rules) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      for (Rule rule : rules) {
        // "*" matches every tensor in mergekit, as no filter does.
        if (rule.filter() == null || rule.filter().equals("*") || tensorName.contains(rule.filter())) {
          return rule.value().evaluate(tensorName, t);
        }
      }
      return null;
    }
  }

  record Rule(String filter, ParameterValue value) {}

  /** Parses a YAML node; {@code where} names it in error messages ({@code models[1].parameters.weight}). */
  static ParameterValue parse(JsonNode node, String where) {
    if (node.isNumber() || node.isBoolean()) {
      return new Scalar(node.isBoolean() ? node.asBoolean() : node.asDouble());
    }
    if (node.isTextual()) {
      return new Scalar(numberOrText(node.asText()));
    }
    if (node.isArray() && !node.isEmpty()) {
      if (allNumbers(node)) {
        double[] points = new double[node.size()];
        for (int i = 0; i < points.length; i++) {
          points[i] = node.get(i).asDouble();
        }
        return new Gradient(points);
      }
      List<Rule> rules = new ArrayList<>();
      for (int i = 0; i < node.size(); i++) {
        rules.add(rule(node.get(i), where + "[" + i + "]"));
      }
      return new Filtered(rules);
    }
    throw new UserError(where + " must be a number, a list of numbers (a gradient) or a list of "
        + "{filter, value} rules, not " + (node.isNull() ? "empty" : node.toString()));
  }

  private static Rule rule(JsonNode node, String where) {
    if (!node.isObject() || !node.has("value")) {
      throw new UserError(where + " must be a {filter, value} rule, not " + node);
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!key.equals("filter") && !key.equals("value")) {
        throw new UserError("unknown key `" + key + "` in " + where
            + Suggestions.hint(key, List.of("filter", "value")));
      }
    });
    JsonNode filterNode = node.get("filter");
    if (filterNode != null && !filterNode.isNull() && !filterNode.isTextual()) {
      throw new UserError(where + ".filter must be text matched against tensor names, not " + filterNode);
    }
    String filter = filterNode == null || filterNode.isNull() ? null : filterNode.asText();
    return new Rule(filter, parse(node.get("value"), where + ".value"));
  }

  private static boolean allNumbers(JsonNode array) {
    for (JsonNode e : array) {
      if (!e.isNumber()) {
        return false;
      }
    }
    return true;
  }

  /** YAML 1.1 reads {@code 1e-3} (no dot) as text, where mergekit's users mean a number; keep it numeric. */
  private static Object numberOrText(String text) {
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      return text;
    }
  }
}
