package dev.amalgam.io;

import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a model folder holds, so that {@code --overwrite} replaces only a folder that looks like a model output
 * (amalgam's, mergekit's or a Hugging Face checkpoint): never a working folder that happens to be named.
 */
final class ModelFolderContents {
  /** The files of an HF model folder and of a mergekit or amalgam output. */
  private static final Pattern MODEL_FILE = Pattern.compile(String.join("|",
      ".*\\.safetensors", ".*\\.safetensors\\.index\\.json", ".*\\.bin", ".*\\.bin\\.index\\.json",
      "config\\.json", "generation_config\\.json", "tokenizer.*", "special_tokens_map\\.json",
      "added_tokens\\.json", "vocab\\..*", "merges\\.txt", ".*\\.model", "chat_template\\..*", "README\\.md",
      "mergekit_config\\.yml", "LICENSE.*", "\\.gitattributes"));
  private static final int LISTED = 5;

  private ModelFolderContents() {}

  /** Throws a user error naming what {@code folder} holds beyond model files, if anything. */
  static void checkReplaceable(Path folder, Path asGiven) {
    List<String> foreign;
    try (Stream<Path> entries = Files.list(folder)) {
      foreign = entries.filter(p -> !isModelFile(p)).map(ModelFolderContents::describe).sorted().toList();
    } catch (IOException e) {
      throw new UserError("cannot read " + asGiven + ": " + IoErrors.describe(e), e);
    }
    if (!foreign.isEmpty()) {
      String listed = String.join(", ", foreign.subList(0, Math.min(LISTED, foreign.size())))
          + (foreign.size() > LISTED ? " and " + (foreign.size() - LISTED) + " more" : "");
      throw new UserError("not replacing " + asGiven + ": it holds " + listed
          + ", which a model folder would not; choose another output or move them");
    }
  }

  private static boolean isModelFile(Path entry) {
    return Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)
        && MODEL_FILE.matcher(entry.getFileName().toString()).matches();
  }

  private static String describe(Path entry) {
    String name = entry.getFileName().toString();
    return Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS) ? name + "/" : name;
  }
}
