package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * A merge config's YAML, read as mergekit's PyYAML reads it where that is sound, and refused where it is not:
 * a duplicate key is an error (PyYAML keeps the last), a date is text (PyYAML makes it a date, so
 * {@code weight: 2001-12-14} became a number of milliseconds), an alias may not make the document contain
 * itself, and the text is bounded to {@link #MAX_BYTES}.
 */
public final class YamlDocument {
  /** Merge configs are a few KB; this bounds the parser's time and memory (about 1 GB per MB of comments). */
  static final int MAX_BYTES = 1 << 20;
  /** Aliases may repeat a collection this many times: enough for shared parameter blocks, not for a bomb. */
  private static final int MAX_ALIASES = 50;

  private static final ObjectMapper JSON = new ObjectMapper();

  private YamlDocument() {}

  /** YAML 1.1's implicit types as PyYAML resolves them (booleans, numbers, .nan and .inf, null), but no dates. */
  private static final class NoTimestampResolver extends Resolver {
    @Override
    protected void addImplicitResolvers() {
      addImplicitResolver(Tag.BOOL, BOOL, "yYnNtTfFoO");
      addImplicitResolver(Tag.INT, INT, "-+0123456789");
      addImplicitResolver(Tag.FLOAT, FLOAT, "-+0123456789.");
      addImplicitResolver(Tag.MERGE, MERGE, "<");
      addImplicitResolver(Tag.NULL, NULL, "~nN\0");
      addImplicitResolver(Tag.NULL, EMPTY, null);
    }
  }

  public static JsonNode parse(Path file, String text) {
    Object document;
    try {
      document = yaml(file, text).load(text);
    } catch (YAMLException e) {
      throw new UserError(file + " is not valid YAML: " + oneLine(e.getMessage()));
    }
    checkAcyclic(document, Collections.newSetFromMap(new IdentityHashMap<>()));
    return JSON.valueToTree(document);
  }

  /** Every document of a file of several ({@code ---} between them), as {@link #parse} reads one. */
  public static List<JsonNode> parseAll(Path file, String text) {
    List<JsonNode> documents = new ArrayList<>();
    try {
      for (Object document : yaml(file, text).loadAll(text)) {
        checkAcyclic(document, Collections.newSetFromMap(new IdentityHashMap<>()));
        documents.add(JSON.valueToTree(document));
      }
    } catch (YAMLException e) {
      throw new UserError(file + " is not valid YAML: " + oneLine(e.getMessage()));
    }
    return documents;
  }

  /** {@code node} as block-style YAML, which {@link #parse} reads back as the same tree. */
  public static String write(JsonNode node) {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setWidth(120);
    return new Yaml(options).dump(JSON.convertValue(node, Object.class));
  }

  private static Yaml yaml(Path file, String text) {
    if (text.length() > MAX_BYTES) {
      throw new UserError(file + " is over " + (MAX_BYTES >> 20) + " MiB, more than a merge config can be");
    }
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setCodePointLimit(MAX_BYTES);
    DumperOptions unused = new DumperOptions();
    return new Yaml(new SafeConstructor(options), new Representer(unused), unused, options, new NoTimestampResolver());
  }

  /** A list or mapping that contains itself through an alias has no JSON form and no meaning as a config. */
  private static void checkAcyclic(Object node, Set<Object> enclosing) {
    if (!(node instanceof Map<?, ?>) && !(node instanceof List<?>)) {
      return;
    }
    if (!enclosing.add(node)) {
      throw new UserError("the config contains itself through a YAML alias");
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        checkAcyclic(e.getKey(), enclosing);
        checkAcyclic(e.getValue(), enclosing);
      }
    } else {
      for (Object element : (List<?>) node) {
        checkAcyclic(element, enclosing);
      }
    }
    enclosing.remove(node);
  }

  private static String oneLine(String message) {
    String flat = message == null ? "" : message.replaceAll("\\s+", " ").trim();
    return flat.length() > 300 ? flat.substring(0, 300) + "..." : flat;
  }
}
