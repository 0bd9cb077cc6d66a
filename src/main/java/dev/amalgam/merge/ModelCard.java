package dev.amalgam.merge;

import dev.amalgam.config.MergeConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** The README.md of a merged model, in mergekit's shape: front matter, method, models, the exact YAML. */
final class ModelCard {
  private ModelCard() {}

  static String render(MergeConfig config, MergeMethod method, String title) {
    LinkedHashSet<String> bases = new LinkedHashSet<>();
    config.baseModel().ifPresent(b -> bases.add(b.written()));
    List<String> merged = new ArrayList<>();
    for (MergeConfig.ModelEntry m : config.listedModels()) {
      bases.add(m.model().written());
      if (config.baseModel().map(b -> !b.path().equals(m.model().path())).orElse(true)) {
        merged.add(m.model().written());
      }
    }
    StringBuilder card = new StringBuilder();
    card.append("---\nbase_model:\n");
    bases.forEach(b -> card.append("- ").append(b).append('\n'));
    card.append("library_name: transformers\ntags:\n- mergekit\n- merge\n- amalgam\n---\n");
    card.append("# ").append(title).append("\n\n");
    card.append("This is a merge of pre-trained language models created with amalgam, ")
        .append("which reads and writes mergekit configurations.\n\n");
    card.append("## Merge Details\n### Merge Method\n\n");
    card.append("This model was merged using the ").append(method.displayName()).append(" merge method");
    config.baseModel().ifPresent(b -> card.append(" using ").append(b.written()).append(" as a base"));
    card.append(".\n\nEach output element was computed in float32 and rounded once to the output dtype.\n\n");
    card.append("### Models Merged\n\nThe following models were included in the merge:\n");
    merged.forEach(m -> card.append("* ").append(m).append('\n'));
    card.append("\n### Configuration\n\nThe following YAML configuration was used to produce this model:\n\n");
    card.append("```yaml\n").append(config.yamlText().strip()).append("\n```\n");
    return card.toString();
  }
}
