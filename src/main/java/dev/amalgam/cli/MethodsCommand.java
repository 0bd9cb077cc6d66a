package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.MergeMethod;
import dev.amalgam.merge.MergeMethods;
import dev.amalgam.merge.MethodParameter;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "methods",
    mixinStandardHelpOptions = true,
    description = {
      "The merge methods, with mergekit's names: what each does, the parameters it reads (per model, or global",
      "at the top level only) with their defaults, whether it needs a base_model, and whether it is random (and",
      "so takes random_seed). Every method merges on the CPU and the GPU."
    },
    footer = {"", "Examples:", "  amalgam methods", "  amalgam methods ties", "  amalgam methods --json"})
final class MethodsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "NAME", description = "One method (default: all).")
  String name;

  @Option(names = "--json", description = "Print JSON on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    List<MergeMethod> methods = name != null ? List.of(MergeMethods.named(name))
        : MergeMethods.names().stream().map(MergeMethods::named).toList();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ArrayNode array = new ObjectMapper().createArrayNode();
      methods.forEach(m -> array.add(describe(m)));
      out.println(array);
      return ExitCodes.OK;
    }
    for (MergeMethod m : methods) {
      out.println(m.name() + ": " + m.displayName());
      out.println("  base_model " + m.baseRole().description() + "; models: " + modelCount(m) + "; "
          + (m.random() ? "random (random_seed or --random-seed)" : "deterministic"));
      for (MethodParameter p : m.parameters()) {
        out.printf("  %-12s %-9s %-16s %s%n", p.name(), p.perModel() ? "per model" : "global",
            p.required() ? "required" : "default " + p.defaultValue(), p.meaning());
      }
    }
    return ExitCodes.OK;
  }

  /** How many models the method merges, besides a base it sets apart. */
  private static String modelCount(MergeMethod m) {
    if (m.minModels() == m.maxModels()) {
      return "exactly " + m.minModels();
    }
    return m.maxModels() == Integer.MAX_VALUE ? m.minModels() + " or more" : m.minModels() + " to " + m.maxModels();
  }

  private static ObjectNode describe(MergeMethod m) {
    ObjectNode node = new ObjectMapper().createObjectNode();
    node.put("name", m.name()).put("description", m.displayName())
        .put("base_model", m.baseRole() == MergeMethod.BaseRole.REQUIRED ? "required" : "optional")
        .put("min_models", m.minModels()).put("random", m.random());
    if (m.maxModels() != Integer.MAX_VALUE) {
      node.put("max_models", m.maxModels());
    }
    ArrayNode parameters = node.putArray("parameters");
    for (MethodParameter p : m.parameters()) {
      ObjectNode parameter = parameters.addObject().put("name", p.name())
          .put("scope", p.perModel() ? "model" : "global").put("required", p.required()).put("meaning", p.meaning());
      if (p.defaultValue() instanceof Boolean b) {
        parameter.put("default", b);
      } else if (p.defaultValue() instanceof Number n) {
        parameter.put("default", n.doubleValue());
      }
    }
    return node;
  }
}
