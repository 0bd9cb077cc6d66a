package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.chat.ChatTemplate;
import dev.amalgam.io.ModelDirectory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chat template a config's {@code chat_template} gives the output, as mergekit reads it: {@code auto} takes
 * the template most of the merged models have (the first of them on a tie); anything else is a template's text,
 * which must compile. mergekit's built-in names (chatml, llama3, ...) name files amalgam does not ship.
 */
final class ChatTemplateChoice {
  /** mergekit takes a shorter value, or one without a `{`, for the name of a built-in template. */
  private static final int SHORTEST_TEMPLATE = 20;

  private ChatTemplateChoice() {}

  static String resolve(String value, List<ModelDirectory> models) {
    if (value.equals("auto")) {
      Map<String, Integer> counts = new LinkedHashMap<>();
      for (ModelDirectory model : models) {
        try {
          counts.merge(ChatTemplate.load(model.dir()).source(), 1, Integer::sum);
        } catch (UserError none) {
          // A model without a template does not vote.
        }
      }
      return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
          .orElseThrow(() -> new UserError("chat_template: auto, but none of the merged models has a chat template"));
    }
    if (value.length() < SHORTEST_TEMPLATE || !value.contains("{")) {
      throw new UserError("chat_template `" + value + "` is neither auto nor a Jinja template; mergekit's built-in "
          + "templates (chatml, llama3, alpaca, exaone) are its own files, which amalgam does not ship: paste the "
          + "template's text instead");
    }
    ChatTemplate.of(value, Map.of());  // a template that does not compile is a user error naming the line
    return value;
  }
}
